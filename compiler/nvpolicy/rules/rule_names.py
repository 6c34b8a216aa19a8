"""rule-names: every network rule of a CR has a name, unique within the CR (S33, S34; CRD path only).

A name of only spaces is accepted. REST import (``--for rest``) does not check rule names.

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
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import network_rules_by_object

ID = "rule-names"
LEVEL = "error"
DESCRIPTION = "Network rules have a non-empty name that is unique within the CR (S33, S34; CRD path only)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    if context.settings.apply_path != "crd":
        return
    for obj, rules in network_rules_by_object(objects, context):
        seen: dict[str, Path] = {}
        for path, rule in rules:
            name = rule.get("name")
            if not isinstance(name, str) or not name:
                yield Hit(obj, (*path, "name") if "name" in rule else path, "network rule has no name"
                          + says("S33", f"Rule needs name(under {path[1]} section)"),
                          "give every ingress/egress rule a name, unique within the CR")
            elif name in seen:
                first = obj.locate(seen[name])
                yield Hit(obj, (*path, "name"), f"rule name {name!r} is used twice in this CR (first at {first})"
                          + says("S34", f"Duplicated rule name: {name}(under {path[1]} section)"))
            else:
                seen[name] = (*path, "name")
