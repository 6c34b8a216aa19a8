"""admission-criteria: each admission criterion is one the controller offers for the rule's action.

The controller normalises a rule's criteria (merges ``containsAny``/``notContainsAny`` of one name,
splits and trims set values, drops empty ones) and then checks them against its option tables:
the criterion name for deny or allow rules, its ops, its values (``true``/``false``, numbers,
``restricted``/``baseline``), ``customPath``/``saBindRiskyRole`` by type, Go regexps for
``regexContainsAnyEx``, ``sub_criteria`` and the company of ``storageClassName``. The first error
of a rule ("Rule #<i> in <name> validatation error …") deletes the CR.

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - action: deny
          criteria:
            - {name: cveHighCount, op: ">=", value: "5", sub_criteria: [{name: publishDays, op: ">=", value: "30"}]}
            - {name: runAsRoot, op: "=", value: "true"}
        - action: allow
          criteria: [{name: namespace, op: containsAny, value: "kube-system, cattle-system"}]

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {action: allow, criteria: [{name: runAsPrivileged, op: "=", value: "yes"}]}
        - {action: allow, criteria: [{name: sharePidWithHost, op: "=", value: "true"}]}
        - {action: deny, criteria: [{name: cveHighCount, op: ">=", value: "five"}]}
        - {action: deny, criteria: [{name: image, op: "=", value: nginx}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import ALLOW, DENY, NUMBER_OPS, criteria_error, normalize, options_for
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import admission_rules, entries, name, neuvector_says

ID = "admission-criteria"
LEVEL = "error"
DESCRIPTION = "Admission criteria use the names, ops and values NeuVector offers for deny or allow rules."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, index, rule in admission_rules(objects, context):
        action, criteria = rule.get("action"), rule.get("criteria")
        if action not in (ALLOW, DENY) or not isinstance(criteria, list) or not criteria:
            continue  # the schema or admission-rule reports it
        path = ("spec", "rules", index, "criteria")
        written = list(entries(criteria))
        normalized = normalize([entry for _, entry in written])
        if normalized is None:
            yield Hit(obj, path, f"admission rule #{index}: every criterion is empty once NeuVector splits and "
                      f"trims its values ({neuvector_says('Invalid criterion value')})",
                      "give the criteria values")
            continue
        found = criteria_error(normalized.criteria, options_for(action), action)
        if found is None:
            continue
        (where, entry), message = written[found.index], found.message
        text = f"Rule #{index} in {name(obj)} validatation error {message}"
        yield Hit(obj, (*path, where), f"admission rule #{index} ({action}): {message} ({neuvector_says(text)})",
                  _SUB_HINT if found.in_sub_criteria else _hint(action, entry.get("name"), message))


_SUB_HINT = ("sub_criteria: publishDays >= N on deny rules' CVE counts, count >= N on cveScoreCount, "
             "cpuRequest/cpuLimit/memoryRequest/memoryLimit > or <= N on resourceLimit; no other criterion has any")


def _hint(action: str, criterion: object, message: str) -> str:
    options = options_for(action)
    option = options.get(str(criterion))
    if message.startswith("Unsupported criterion name"):
        return f"{action} rules take: {', '.join(sorted(options))}"
    if message.startswith("The StorageClass"):
        return "put storageClassName in a rule of its own, with namespace criteria only"
    if message.startswith("Invalid criterion operator") and option is not None and option.ops:
        return f"{criterion} takes: {', '.join(option.ops)}"
    if message.startswith("Invalid criterion value") and option is not None and option.values:
        return f"{criterion} takes: {', '.join(option.values)}"
    if message.startswith("Invalid criterion value") and option is not None and NUMBER_OPS.intersection(option.ops):
        return f"{criterion} takes a number"
    return "see the criterion's operators and values in NeuVector's admission rule editor"
