"""reserved-group: the default groups external, nodes and containers take no criteria of their own.

``external`` and ``nodes`` have empty criteria; ``containers`` is exactly ``container = *``.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: containers}
    spec:
      target:
        selector: {name: containers, criteria: [{key: container, op: "=", value: "*"}]}
      ingress:
        - {name: r1, action: deny, selector: {name: external}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: containers}
    spec:
      target:
        selector: {name: containers, criteria: [{key: app, op: "=", value: web}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import RESERVED_GROUPS, selectors

ID = "reserved-group"
LEVEL = "error"
DESCRIPTION = "The reserved groups external and nodes have no criteria; containers is exactly container=*."

CONTAINERS = frozenset({("container", "=", "*")})


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        if selector.name not in RESERVED_GROUPS or selector.referral:
            continue
        criteria = selector.criteria_set()
        if not criteria:
            continue
        if selector.name == "containers" and criteria == CONTAINERS:
            continue
        expected = "exactly container=*" if selector.name == "containers" else "no criteria"
        yield Hit(selector.obj, (*selector.path, "criteria"),
                  f"the reserved group {selector.name!r} must have {expected}",
                  "use a custom group name for a group of your own")
