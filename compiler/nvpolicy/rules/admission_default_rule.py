"""admission-default-rule: an admission rule id from 1 to 999 names one of NeuVector's default rules.

Such a rule must exist in the cluster with exactly these criteria; only ``disabled`` may differ
("Default rule(id=<id>) not found" / "cannot be modified" otherwise). Whether it does depends on
the cluster, so this is a note on each such rule.

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {id: 1001, action: deny, criteria: [{name: namespace, op: containsAny, value: dev}]}

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {id: 1, action: allow, disabled: true, criteria: [{name: namespace, op: containsAny, value: kube-system}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import FIRST_USER_RULE_ID
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import admission_rules

ID = "admission-default-rule"
LEVEL = "info"
DESCRIPTION = "Admission rule ids 1-999 name default rules that must exist unchanged in the cluster."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, index, rule in admission_rules(objects, context):
        rule_id = rule.get("id")
        if isinstance(rule_id, int) and not isinstance(rule_id, bool) and 0 < rule_id < FIRST_USER_RULE_ID:
            yield Hit(obj, ("spec", "rules", index, "id"),
                      f"admission rule #{index} has id {rule_id}, a NeuVector default rule: it must exist in the "
                      "cluster with exactly these criteria, only 'disabled' may differ (else NeuVector deletes "
                      f"the CR: \"Default rule(id={rule_id}) cannot be modified\" or \"… not found\")",
                      "leave out the id (or use one from 1000 up) for a rule of your own")
