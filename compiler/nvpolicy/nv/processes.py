"""Process and file rules as the controller reads them (rest/crdsecurityrule.go:2560-2665, file_monitor.go).

``go_clean`` is Go's ``filepath.Clean``: NeuVector stores and compares cleaned paths and filters.
"""

from __future__ import annotations

from functools import lru_cache

from nvpolicy.nv.criteria import regex_problem

ANY = "*"


def go_clean(path: str) -> str:
    """Go's path/filepath.Clean on a Unix path."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def path_format_problem(path: str) -> str | None:
    """S39, on the trimmed path: ``*`` and empty skip it."""
    if path in ("", ANY):
        return None
    if not path.startswith("/"):
        return "is not absolute"
    if path.endswith("/"):
        return "ends in '/'"
    if "<" in path or ">" in path:
        return "contains '<' or '>'"
    if path.count("*") > 1:
        return "has more than one '*'"
    return None


def cleans_to_nothing(value: str) -> bool:
    """S40/S45: the cleaned value is ``.`` or ``/``."""
    return go_clean(value) in (".", "/")


def executable(name: str, path: str) -> str:
    """The executable a process rule names: its name, else the last part of its cleaned path (S41)."""
    name, path = name.strip(), path.strip()
    if name and name != ANY:
        return name
    return go_clean(path).rsplit("/", 1)[-1] if path and path != ANY else ""


def is_deny_all(name: str, path: str, action: str) -> bool:
    """S43: name ``*`` with path ``*`` or ``/*`` and action deny, after trimming (allow is accepted)."""
    return name.strip() == ANY and path.strip() in (ANY, "/*") and action.strip() == "deny"


@lru_cache(maxsize=1024)
def file_filter_problem(filter_text: str) -> str | None:
    """S45/S46: why the trimmed, cleaned filter is refused (parseFileFilter), or None."""
    cleaned = go_clean(filter_text.strip())
    if cleaned in (".", "/"):
        return f"cleans to {cleaned!r}"
    if any(c in cleaned for c in "[]()<>"):
        return "contains one of [ ] ( ) < >"
    if ".." in cleaned:
        return "contains '..'"
    pattern = cleaned.replace(".", "\\.").replace("*", ".*")
    if "/" not in pattern:
        return "has no '/'"
    base, _, name = pattern.rpartition("/")
    if not name:
        return "has nothing after its last '/'"
    if "*" not in name:
        base, name = f"{base}/{name}", ""
    for part in (base, name):
        found = regex_problem(part)
        if found:
            return f"does not compile as a Go regexp ({found})"
    return None


def file_rule_key(filter_text: str, behavior: str, recursive: object) -> str:
    """S47: what two file rules may not share: cleaned filter, behavior and recursive (Go's %v of a bool)."""
    flag = "true" if recursive is True else "false"
    return f"{go_clean(filter_text.strip())}:{behavior.strip()}:{flag}"
