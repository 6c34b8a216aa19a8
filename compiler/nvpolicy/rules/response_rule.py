"""response-rule: response rules have conditions of their event's types, valid CVE counts, no repeats.

The same check runs for a group's ``response`` and for NvResponseRuleSecurityRule; every failure
deletes the CR. A rule needs at least one condition (" validate error: no criteria": the REST
API accepts none, CRs do not); each condition ``type`` must belong to the event (``event``:
name, level; ``security-event``: name, level, process; ``cve-report``: name, level, cve-name and
the CVE counts; ``compliance`` and ``admission-control``: name, level); ``cve-report`` counts are
integers above 0 (``N/M`` for the ``-with-fix`` ones); a type appears once per rule.

PASS::

    kind: NvResponseRuleSecurityRule
    metadata: {name: quarantine-critical-cves}
    spec:
      rule:
        policy_name: default
        event: cve-report
        conditions: [{type: cve-critical, value: "1"}, {type: cve-high-with-fix, value: "5/30"}]
        actions: [quarantine]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: service, op: "=", value: web.shop}]}}
      response:
        - {policy_name: default, event: security-event, conditions: [], actions: [suppress-log]}
        - policy_name: default
          event: cve-report
          conditions: [{type: process, value: bash}, {type: cve-high, value: "0"}]
          actions: [webhook]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.response import CONDITION_TYPES, rule_errors
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import neuvector_says
from nvpolicy.rules._responses import response_rules

ID = "response-rule"
LEVEL = "error"
DESCRIPTION = "Response rules have conditions of their event's types, valid CVE counts and no repeated type."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, path, rule, federal in response_rules(objects, context):
        for where, message in rule_errors(rule, federal_group=federal):
            yield Hit(obj, (*path, *where), f"response rule: {neuvector_says(message)}", _hint(rule, message))


def _hint(rule: dict[str, object], message: str) -> str:
    if message.endswith("no criteria"):
        return "give the rule at least one condition, e.g. {type: level, value: critical}"
    if message.startswith("Unsupported condition type"):
        allowed = CONDITION_TYPES.get(str(rule.get("event")).removeprefix("fed."), ())
        return f"condition types for this event: {', '.join(allowed)}"
    if message.startswith("Duplicate"):
        return "merge the two conditions into one"
    return "CVE counts are whole numbers above 0; the -with-fix ones may be N/M (count/days)"
