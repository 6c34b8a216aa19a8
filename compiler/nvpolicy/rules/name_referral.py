"""name-referral: a selector with ``name_referral: true`` needs an NvGroupDefinition of that name.

Checked across all files given to one run; the import fails with "NvGroupDefinition of referred
group … is not found" otherwise.

PASS::

    kind: NvGroupDefinition
    metadata: {name: web-tier, namespace: neuvector}
    spec: {selector: {name: web-tier, criteria: [{key: app, op: "=", value: web}]}}
    ---
    kind: NvClusterSecurityRule
    metadata: {name: web-tier}
    spec:
      target: {selector: {name: web-tier, name_referral: true}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web-tier}
    spec:
      target: {selector: {name: web-tier, name_referral: true}}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import selectors

ID = "name-referral"
LEVEL = "error"
DESCRIPTION = "A selector with name_referral: true refers to an NvGroupDefinition of the same name."
CROSS_OBJECT = True


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    all_selectors = list(selectors(objects, context))
    defined = {s.name for s in all_selectors if s.role == "definition"}
    for selector in all_selectors:
        if selector.role != "definition" and selector.referral and selector.name not in defined:
            yield Hit(selector.obj, (*selector.path, "name_referral"),
                      f"group {selector.name!r} is referred to by name but no NvGroupDefinition defines it",
                      "add an NvGroupDefinition (namespace neuvector) with this name, or give criteria instead")
