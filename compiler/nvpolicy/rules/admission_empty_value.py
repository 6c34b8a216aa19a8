"""admission-empty-value: an admission criterion left without a value is dropped silently.

NeuVector splits the values of set ops on ``,``, trims them and drops empty items; a criterion
with nothing left (``value: " , "``, ``value: ""``) is removed from the rule without a word, so the
rule matches more than it says. (A rule left with no criterion at all is ``admission-criteria``.)

PASS::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - {action: deny, criteria: [{name: namespace, op: containsAny, value: "dev, test"}]}

FAIL::

    kind: NvAdmissionControlSecurityRule
    metadata: {name: local}
    spec:
      rules:
        - action: deny
          criteria:
            - {name: namespace, op: containsAny, value: "dev"}
            - {name: image, op: notContainsAny, value: " , "}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.admission import ALLOW, DENY, normalize
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import admission_rules, entries

ID = "admission-empty-value"
LEVEL = "warning"
DESCRIPTION = "An admission criterion with no value left after splitting and trimming is dropped by NeuVector."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, index, rule in admission_rules(objects, context):
        criteria = rule.get("criteria")
        if rule.get("action") not in (ALLOW, DENY) or not isinstance(criteria, list):
            continue
        written = dict(entries(criteria))
        normalized = normalize(list(written.values()))
        if normalized is None:
            continue  # nothing left at all: admission-criteria reports the rule
        positions = list(written)
        for dropped in normalized.dropped:
            where = positions[dropped]
            criterion = written[where].get("name")
            yield Hit(obj, ("spec", "rules", index, "criteria", where, "value"),
                      f"admission rule #{index}: criterion {criterion!r} has no value once NeuVector splits and "
                      "trims it, so NeuVector drops it silently and the rule matches without it",
                      "give the criterion a value or remove it")
