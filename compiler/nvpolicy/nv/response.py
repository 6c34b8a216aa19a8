"""Response rules (``response`` of NvSecurityRule/NvClusterSecurityRule, NvResponseRuleSecurityRule).

Read from neuvector/neuvector at 1b8b707: ``validateCrdResponseRule`` (controller/rest/
crdsecurityrule.go) and ``validateResponseRule`` with ``getResponeRuleOptions``
(controller/rest/response.go). The controller checks a rule's conditions in order and stops at the
first error; :func:`rule_errors` reports that error and, past it, what it would report once fixed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# The condition types each event accepts; `name` and `level` values are not checked against a list.
CONDITION_TYPES: Mapping[str, tuple[str, ...]] = {
    "event": ("name", "level"),
    "security-event": ("name", "level", "process"),
    "cve-report": ("name", "level", "cve-critical", "cve-high-only", "cve-high", "cve-medium", "cve-name",
                   "cve-critical-with-fix", "cve-high-only-with-fix", "cve-high-with-fix"),
    "compliance": ("level", "name"),
    "admission-control": ("name", "level"),
    "serverless": ("name", "level"),
}
CVE_COUNTS = frozenset({"cve-critical", "cve-high-only", "cve-high", "cve-medium"})  # an integer > 0
CVE_COUNTS_WITH_FIX = frozenset({"cve-critical-with-fix", "cve-high-only-with-fix", "cve-high-with-fix"})  # N or N/M
ACTIONS = ("quarantine", "suppress-log", "webhook")
WEBHOOK_ACTION = "webhook"
FED_PREFIX = "fed."  # api.FederalGroupPrefix: federal groups and CRs; stripped from a federal group's response event

_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = 2**63 - 1


def _positive_int(text: str) -> bool:
    """Go ``strconv.Atoi(text)`` succeeds (int64 range, optional sign) and the result is > 0."""
    return _GO_INT.fullmatch(text) is not None and 0 < int(text) <= _INT64_MAX


def value_error(kind: str, value: str) -> str | None:
    """The controller's message for a bad cve-report condition value, else None."""
    if kind in CVE_COUNTS:
        ok = _positive_int(value)
    elif kind in CVE_COUNTS_WITH_FIX:
        parts = value.split("/")
        ok = len(parts) <= 2 and all(_positive_int(part) for part in parts)
    else:
        return None
    return None if ok else f"Invalid {kind} value:n {value}"


def rule_errors(rule: Mapping[str, Any], *, federal_group: bool = False) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Each (key path inside the rule, NeuVector's message) for what the controller refuses in one rule."""
    conditions = rule.get("conditions")
    conditions = conditions if isinstance(conditions, list) else []
    if not conditions:
        yield ("conditions",) if "conditions" in rule else (), "validate error: no criteria"
    event = rule.get("event")
    event = event if isinstance(event, str) else ""
    if federal_group:
        event = event.removeprefix(FED_PREFIX)
    if not event:
        yield ("event",), "Missing event for response rule"
        return
    allowed = CONDITION_TYPES.get(event)
    if allowed is None:
        yield ("event",), "Unsupported event for response rule"
        return
    yield from _condition_errors(conditions, event, allowed)
    actions = rule.get("actions")
    actions = actions if isinstance(actions, list) else []
    if not actions:
        yield ("actions",) if "actions" in rule else (), "No action specified in the response rule"
    for index, action in enumerate(actions):
        if action not in ACTIONS:
            yield ("actions", index), f"Action {action} is not supported"


def _condition_errors(conditions: Sequence[Any], event: str,
                      allowed: tuple[str, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    seen: set[str] = set()
    for index, condition in enumerate(conditions):
        if not isinstance(condition, Mapping):
            continue
        kind, value = condition.get("type"), condition.get("value")
        kind = kind if isinstance(kind, str) else ""
        if kind not in allowed:
            yield ("conditions", index, "type"), f"Unsupported condition type for event {event}"
            continue
        problem = value_error(kind, value if isinstance(value, str) else "") if event == "cve-report" else None
        if problem:
            yield ("conditions", index, "value"), problem
        if kind in seen:
            yield ("conditions", index, "type"), f"Duplicate condition type {kind} in one rule"
        seen.add(kind)


def webhooks(rule: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The webhook names a rule sends to (index in ``webhooks``, name): those must exist in the cluster."""
    actions = rule.get("actions")
    names = rule.get("webhooks")
    if not isinstance(actions, list) or WEBHOOK_ACTION not in actions or not isinstance(names, list):
        return []
    return [(index, name) for index, name in enumerate(names) if isinstance(name, str)]
