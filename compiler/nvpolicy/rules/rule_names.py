"""rule-names: every network rule of a CR has a non-empty name, unique within the CR.

The controller reports "Rule needs name" and "Duplicated rule name: …".

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress: [{name: lb-to-web, action: allow, selector: {name: lb}}]
      egress: [{name: web-to-db, action: allow, selector: {name: db}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress: [{name: web-rule, action: allow, selector: {name: lb}}]
      egress: [{name: web-rule, action: allow, selector: {name: db}}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import Path, RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules_by_object

ID = "rule-names"
LEVEL = "error"
DESCRIPTION = "Network rules have a non-empty name that is unique within the CR."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        seen: dict[str, Path] = {}
        for path, rule in rules:
            name = rule.get("name")
            if not isinstance(name, str) or not name.strip():
                yield Hit(obj, (*path, "name") if "name" in rule else path, "network rule has no name",
                          "give every ingress/egress rule a name, unique within the CR")
            elif name in seen:
                first = obj.locate(seen[name])
                yield Hit(obj, (*path, "name"), f"rule name {name!r} is used twice in this CR (first at {first})")
            else:
                seen[name] = (*path, "name")
