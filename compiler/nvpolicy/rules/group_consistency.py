"""group-consistency: one group name has one set of criteria across all files.

A CR that defines an existing group name with other criteria makes NeuVector create a hashed
copy (``<name>-<hash>``), and with name_referral the import is refused. Selectors without
criteria (references to a group defined elsewhere) are not compared.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: a}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
    ---
    kind: NvClusterSecurityRule
    metadata: {name: b}
    spec:
      target: {selector: {name: api, criteria: [{key: app, op: "=", value: api}]}}
      egress: [{name: r1, action: allow, selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: a}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
    ---
    kind: NvClusterSecurityRule
    metadata: {name: b}
    spec:
      target: {selector: {name: api, criteria: [{key: app, op: "=", value: api}]}}
      egress: [{name: r1, action: allow, selector: {name: web, criteria: [{key: app, op: "=", value: www}]}}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import Selector, selectors

ID = "group-consistency"
LEVEL = "error"
DESCRIPTION = "A group name has the same criteria everywhere it is defined."
CROSS_OBJECT = True


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    first: dict[str, Selector] = {}
    for selector in selectors(objects, context):
        criteria = selector.criteria_set()
        if selector.referral or not criteria or not selector.name:
            continue
        earlier = first.setdefault(selector.name, selector)
        if earlier is not selector and earlier.criteria_set() != criteria:
            where = earlier.obj.locate(earlier.path)
            yield Hit(selector.obj, (*selector.path, "criteria"),
                      f"group {selector.name!r} has other criteria than at {where}; NeuVector would not import both",
                      "give the groups distinct names, or the same criteria")
