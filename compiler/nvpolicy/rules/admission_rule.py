"""admission-rule: each admission rule has criteria, and ``rule_mode`` only on deny rules.

The controller stops at such a rule and deletes the CR ("validation error in <name>. Details: no
criteria" / "unsupported rule_mode"): allow rules take only ``rule_mode: ""``.

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {action: deny, rule_mode: protect, criteria: [{name: namespace, op: containsAny, value: dev}]}

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {action: allow, rule_mode: monitor, criteria: [{name: namespace, op: containsAny, value: dev}]}
        - {action: deny, criteria: []}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import ALLOW, DENY, DENY_RULE_MODES
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import admission_rules, name, neuvector_says

ID = "admission-rule"
LEVEL = "error"
DESCRIPTION = "Each admission rule has criteria; allow rules have no rule_mode."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, index, rule in admission_rules(objects, context):
        path = ("spec", "rules", index)
        action = rule.get("action")
        if action not in (ALLOW, DENY):
            continue  # the schema reports it
        criteria = rule.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            yield Hit(obj, (*path, "criteria"), f"admission rule #{index} has no criteria "
                      f"({neuvector_says(f'validation error in {name(obj)}. Details: no criteria')})",
                      "give the rule at least one criterion")
        mode = rule.get("rule_mode")
        if "rule_mode" in rule and (mode != "" if action == ALLOW else mode not in DENY_RULE_MODES):
            said = neuvector_says(f"validation error in {name(obj)}. Details: unsupported rule_mode")
            yield Hit(obj, (*path, "rule_mode"),
                      f"admission rule #{index}: rule_mode {mode!r} is not allowed on {action} rules ({said})",
                      "remove rule_mode from allow rules (deny rules take '', monitor or protect)")
