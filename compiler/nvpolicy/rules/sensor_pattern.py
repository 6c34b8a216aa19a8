"""sensor-pattern: DLP/WAF patterns compile with PCRE and do not match everything.

A DLP pattern is first converted as NeuVector converts it (``*``/``?`` at the start or after a
letter, digit or space become ``.*``/``.``), a WAF pattern is taken as written; the result must
compile with PCRE and must not be dots followed by one star (``.*``, and DLP's ``*``), which would
match every packet ("invalid regex in pattern criteria (<pattern>)").

PASS::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.secrets}
    spec:
      sensor:
        name: sensor.secrets
        rules: [{name: token, patterns: [{key: pattern, op: regex, value: "token=?[a-z]+", context: body}]}]

FAIL::

    kind: NvWafSecurityRule
    metadata: {name: sensor.sqli}
    spec:
      sensor:
        name: sensor.sqli
        rules:
          - {name: union, patterns: [{key: pattern, op: regex, value: "union(select", context: url}]}
          - {name: all, patterns: [{key: pattern, op: regex, value: ".*", context: url}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.sensors import REGEX_OPS, matches_everything, pcre_error, wildcard_to_regexp
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import entries, neuvector_says, sensors

ID = "sensor-pattern"
LEVEL = "error"
DESCRIPTION = "DLP/WAF patterns compile with PCRE (DLP after its wildcard conversion) and do not match everything."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, sensor, kind in sensors(objects, context):
        for rule_index, rule in entries(sensor.get("rules")):
            rule_name = rule.get("name")
            for index, pattern in entries(rule.get("patterns")):
                value = pattern.get("value")
                if pattern.get("op") not in REGEX_OPS or not isinstance(value, str):
                    continue
                compiled = wildcard_to_regexp(value) if kind.wildcards else value
                problem = pcre_error(compiled)
                if problem is None and not matches_everything(compiled):
                    continue
                said = neuvector_says(f"{kind.label} rule {rule_name}: invalid regex in pattern criteria ({compiled})")
                shown = f"{value!r}" + (f" (converted to {compiled!r})" if compiled != value else "")
                what = f"does not compile with PCRE: {problem}" if problem else "matches everything"
                yield Hit(obj, ("spec", "sensor", "rules", rule_index, "patterns", index, "value"),
                          f"{kind.label.upper()} rule {rule_name!r}: pattern {shown} {what} ({said})",
                          "escape literal characters with '\\'" if problem else "match something specific")
