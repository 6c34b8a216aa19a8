"""sensor-rules: DLP/WAF sensor comments, rule names and pattern counts and lengths within NeuVector's limits.

The controller deletes the CR when the comment exceeds 256 bytes, a rule name is not a NeuVector
name or exceeds 256 bytes, a rule has no pattern or more than 16, a pattern exceeds 512 bytes (a
WAF pattern may not be empty either) or a rule's patterns exceed 1024 bytes in total.

PASS::

    kind: NvDlpSecurityRule
    metadata: {name: sensor.secrets}
    spec:
      sensor:
        name: sensor.secrets
        rules: [{name: aws-key, patterns: [{key: pattern, op: regex, value: "AKIA[0-9A-Z]{16}", context: body}]}]

FAIL::

    kind: NvWafSecurityRule
    metadata: {name: sensor.sqli}
    spec:
      sensor:
        name: sensor.sqli
        rules:
          - {name: "union select", patterns: [{key: pattern, op: regex, value: "union.+select", context: url}]}
          - {name: empty, patterns: []}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from nvpolicy.model import RenderedObject
from nvpolicy.nv.sensors import (
    COMMENT_MAX_BYTES,
    PATTERN_MAX_BYTES,
    PATTERNS_MAX,
    PATTERNS_TOTAL_MAX_BYTES,
    REGEX_OPS,
    RULE_NAME_MAX_BYTES,
    SensorKind,
    name_valid,
)
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._kinds import entries, neuvector_says, sensors

ID = "sensor-rules"
LEVEL = "error"
DESCRIPTION = "DLP/WAF sensor comment, rule names, pattern count and lengths are within NeuVector's limits."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, sensor, kind in sensors(objects, context):
        comment = sensor.get("comment")
        if isinstance(comment, str) and len(comment.encode()) > COMMENT_MAX_BYTES:
            yield Hit(obj, ("spec", "sensor", "comment"),
                      f"the sensor comment is {len(comment.encode())} bytes, more than {COMMENT_MAX_BYTES} "
                      f"({neuvector_says(f'comment exceed max {COMMENT_MAX_BYTES} characters!')})",
                      "shorten the comment")
        for index, rule in entries(sensor.get("rules")):
            yield from _rule(obj, ("spec", "sensor", "rules", index), rule, kind)


def _rule(obj: RenderedObject, path: tuple[Any, ...], rule: dict[str, Any], kind: SensorKind) -> Iterator[Hit]:
    rule_name = rule.get("name")
    label = f"{kind.label} rule {rule_name}"
    if not isinstance(rule_name, str):
        return
    if not name_valid(rule_name) or len(rule_name.encode()) > RULE_NAME_MAX_BYTES:
        yield Hit(obj, (*path, "name"), f"{kind.label.upper()} rule name {rule_name!r} is not a NeuVector name "
                  f"({neuvector_says(f'{label}: invalid name format')})",
                  "rule names start with a letter or digit, then letters, digits, '.', ':', '_' or '-' "
                  f"(at most {RULE_NAME_MAX_BYTES} bytes)")
    patterns = rule.get("patterns")
    if not isinstance(patterns, list):
        return
    if not patterns:
        yield Hit(obj, (*path, "patterns"), f"{kind.label.upper()} rule {rule_name!r} has no pattern "
                  f"({neuvector_says(f'{label}: {kind.label} rule must have pattern')})", "add a pattern")
    if len(patterns) > PATTERNS_MAX:
        yield Hit(obj, (*path, "patterns", PATTERNS_MAX), f"{kind.label.upper()} rule {rule_name!r} has "
                  f"{len(patterns)} patterns, more than {PATTERNS_MAX} "
                  f"({neuvector_says(f'{label}: must have no more than {PATTERNS_MAX} patterns')})",
                  "split the rule in two")
    total = 0
    for index, pattern in entries(patterns):
        value = pattern.get("value")
        if pattern.get("op") not in REGEX_OPS or not isinstance(value, str):
            continue
        size = len(value.encode())
        if size > PATTERN_MAX_BYTES or size < kind.min_pattern_bytes:
            yield Hit(obj, (*path, "patterns", index, "value"),
                      f"{kind.label.upper()} rule {rule_name!r}: a pattern of {size} bytes is refused "
                      f"({neuvector_says(f'{label}: invalid pattern length ({size})')})",
                      f"patterns are {kind.min_pattern_bytes} to {PATTERN_MAX_BYTES} bytes long")
        before, total = total, total + size
        if before <= PATTERNS_TOTAL_MAX_BYTES < total:
            limit = PATTERNS_TOTAL_MAX_BYTES
            said = neuvector_says(f"{label}: total pattern length {total} exceed max allowed {limit}")
            yield Hit(obj, (*path, "patterns", index, "value"),
                      f"{kind.label.upper()} rule {rule_name!r}: its patterns total more than "
                      f"{PATTERNS_TOTAL_MAX_BYTES} bytes ({said})", "split the rule in two")
