"""Group criteria as the controller checks them (validateGroupConfigCriteria, rest/group.go:491-585).

Regexes are compiled with RE2, the engine of Go's ``regexp`` (S14): no lookaround or backreferences,
Unicode classes such as ``\\p{L}`` work.
"""

from __future__ import annotations

import re

from nvpolicy.nv.goregexp import compile_error

OPS = ("=", "!=", "contains", "prefix", "regex", "!regex")  # S12
EXACT_OPS = ("=", "!=")  # S13: the only ops that accept an empty value
REGEX_OPS = ("regex", "!regex")
KEY_PATTERN = re.compile(r"[/a-zA-Z0-9]+[/.:a-zA-Z0-9_-]*\Z")  # isNamePathValid, S11
ADDRESS = "address"
SERVICE = "service"
DOMAIN = "domain"
CONTAINER = "container"

def regex_problem(pattern: str) -> str | None:
    """Why Go's regexp (RE2) refuses ``pattern``, or None."""
    return compile_error(pattern)


def wildcard_problem(op: str, value: str) -> bool:
    """S15: a ``=``/``!=`` value with ``*`` or ``?`` may not contain ``^`` or ``$``; all else is literal."""
    return op in EXACT_OPS and any(c in value for c in "*?") and any(c in value for c in "^$")


def kov(key: object, op: object, value: object) -> str:
    """The controller's ``(key: k, op: o, value: v)`` suffix of criteria errors."""
    return f"(key: {key}, op: {op}, value: {value})"
