"""priority: a network rule's priority is an integer from 0 to 100 on the CRD path (S38).

REST import (``--for rest``) does not carry ``priority`` at all: a non-zero one is reported there
as a warning, since the rule is imported without it.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress: [{name: r1, action: allow, priority: 100, selector: {name: lb}}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      ingress: [{name: r1, action: allow, priority: 101, selector: {name: lb}}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import network_rules_by_object

ID = "priority"
LEVEL = "error"
DESCRIPTION = "Rule priority is an integer from 0 to 100 on the CRD path; REST import drops it (S38)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    rest = context.settings.apply_path == "rest"
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            if "priority" not in rule:
                continue
            value = rule["priority"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                continue  # a Go uint32: the schema reports it
            if rest and value:
                yield Hit(obj, (*path, "priority"), f"priority {value} is not carried by REST import: the rule is "
                          "imported without it" + says("S38"), "apply the CRs with kubectl to keep priorities",
                          level="warning")
            elif not rest and value > 100:
                yield Hit(obj, (*path, "priority"), f"priority {value!r} is more than 100" + says(
                    "S38", f"Priority out of range for rule {rule.get('name')}(under {path[1]} section)"))
