"""admission-rule-id: admission rule ids of 1000 and above are ignored; NeuVector assigns new ones.

Exports carry the ids the cluster gave its rules; on import NeuVector drops every id from 1000
up and numbers the rules itself, so the ids in the file do not name the rules in the cluster.

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {action: deny, criteria: [{name: namespace, op: containsAny, value: dev}]}

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {id: 1003, action: deny, criteria: [{name: namespace, op: containsAny, value: dev}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import FIRST_USER_RULE_ID
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import admission_rules

ID = "admission-rule-id"
LEVEL = "warning"
DESCRIPTION = "Admission rule ids from 1000 up are ignored: NeuVector assigns its own."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, index, rule in admission_rules(objects, context):
        rule_id = rule.get("id")
        if isinstance(rule_id, int) and not isinstance(rule_id, bool) and rule_id >= FIRST_USER_RULE_ID:
            yield Hit(obj, ("spec", "rules", index, "id"),
                      f"admission rule #{index}: id {rule_id} is ignored, NeuVector assigns the rule a new id",
                      "leave the id out")
