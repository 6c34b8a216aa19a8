"""priority: a network rule's priority is an integer from 0 to 100 (validateRestPolicyRuleConfig).

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
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules_by_object

ID = "priority"
LEVEL = "error"
DESCRIPTION = "Rule priority is an integer from 0 to 100."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            if "priority" not in rule:
                continue
            value = rule["priority"]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                yield Hit(obj, (*path, "priority"), f"priority {value!r} is not an integer from 0 to 100")
