"""Change records for one matched pair of objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nvpolicy.diff import exposure as ex
from nvpolicy.diff.match import match_by_key, match_network, moved
from nvpolicy.diff.model import Change, dig, mappings
from nvpolicy.model import RULE_KINDS, format_path

DIRECTIONS = ("ingress", "egress")
# Parts of a security rule compared rule by rule; deepdiff sees everything else.
RULE_LISTS = ("ingress", "egress", "process", "file")
_HANDLED = (
    "root['spec']['target']['policymode']", "root['spec']['process_profile']['mode']",
    "root['spec']['process_profile']['baseline']",
)
_IDENTITY = ("root['metadata']['name']", "root['metadata']['namespace']")
_GROUP_CRITERIA = "root['spec']['selector']['criteria']"


def _list(data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    return mappings(dig(data, "spec", section))


_get = dig


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def describe_rule(direction: str, rule: Mapping[str, Any]) -> str:
    peer = _get(rule, "selector", "name") or "?"
    where = "from" if direction == "ingress" else "to"
    apps = rule.get("applications")
    text = f"{rule.get('action', '?')} {direction} {where} {peer} {rule.get('ports') or 'any'}"
    if isinstance(apps, list) and apps:
        return f"{text} [{', '.join(map(str, apps))}]"
    return f"{text} [{apps}]" if apps else text


def field_changes(old: Any, new: Any, exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(key path, 'old -> new') for every structural difference deepdiff finds, list order respected."""
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    tree = DeepDiff(old, new, view="tree", exclude_paths=list(exclude), cache_size=500)
    lines: list[tuple[str, str]] = []
    for report in sorted(tree):
        for level in tree[report]:
            path = format_path(level.path(output_format="list"))
            before = "(none)" if isinstance(level.t1, NotPresent) else show(level.t1)
            after = "(none)" if isinstance(level.t2, NotPresent) else show(level.t2)
            lines.append((path, f"{before} -> {after}"))
    return sorted(lines)


def compare_objects(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Change]:
    """Every change between two versions of one object (either may be absent: added or removed)."""
    kind = str((new or old or {}).get("kind", ""))
    changes: list[Change] = []
    if kind in RULE_KINDS:
        for direction in DIRECTIONS:
            changes += network_changes(direction, _list(old or {}, direction), _list(new or {}, direction))
        changes += keyed_changes("process", _list(old or {}, "process"), _list(new or {}, "process"))
        changes += keyed_changes("file", _list(old or {}, "file"), _list(new or {}, "file"))
    if old is None or new is None:
        present = new if old is None else old
        assert present is not None
        what = "added" if old is None else "removed"
        mode = _get(present, "spec", "target", "policymode")
        subject = f"object {what}" + (f" (policy mode {mode})" if mode else "")
        return [Change(what, ex.NEUTRAL, "object", subject), *changes]
    exclude: tuple[str, ...]
    if kind in RULE_KINDS:
        changes += _mode_changes(old, new)
        # A malformed rule list (not a list of mappings) is left to deepdiff, so no difference goes unseen.
        lists = tuple(f"root['spec']['{s}']" for s in RULE_LISTS if _rule_list(old, s) and _rule_list(new, s))
        exclude = (*_HANDLED, *lists, *_IDENTITY)
    elif kind == "NvGroupDefinition":
        changes += _group_changes(old, new)
        exclude = (_GROUP_CRITERIA, *_IDENTITY)
    else:
        exclude = _IDENTITY
    for path, line in field_changes(dict(old), dict(new), exclude):
        changes.append(Change("changed", _field_exposure(path, line), path.split(".")[1] if "." in path else path,
                              path, details=(f"{path}: {line}",)))
    return changes


def _rule_list(data: Mapping[str, Any], section: str) -> bool:
    value = dig(data, "spec", section)
    return value is None or (isinstance(value, list) and all(isinstance(item, Mapping) for item in value))


def _field_exposure(path: str, line: str) -> str:
    # DLP/WAF sensors switched off let through what they used to stop.
    if path.endswith(("dlp.status", "waf.status")):
        return ex.WIDENS if line.endswith("False") else ex.NARROWS
    return ex.NEUTRAL


def _mode_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    found = []
    for path, ranks in ((("target", "policymode"), ex.POLICY_MODES), (("process_profile", "mode"), ex.POLICY_MODES),
                        (("process_profile", "baseline"), ex.BASELINES)):
        before, after = _get(old, "spec", *path), _get(new, "spec", *path)
        if before != after:
            label = ".".join(path)
            found.append(Change("changed", ex.mode_exposure(before, after, ranks), path[0],
                                f"{label}: {show(before)} -> {show(after)}", before=before, after=after))
    return found


def _group_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    before, after = _get(old, "spec", "selector"), _get(new, "spec", "selector")
    if _get(old, "spec", "selector", "criteria") == _get(new, "spec", "selector", "criteria"):
        return []
    details = tuple(f"criteria: {line}" for _, line in field_changes(
        _get(old, "spec", "selector", "criteria"), _get(new, "spec", "selector", "criteria")))
    return [Change("changed", ex.group_exposure(before, after), "selector",
                   f"group {_get(new, 'spec', 'selector', 'name')} criteria", details=details,
                   before=before, after=after)]


def network_changes(direction: str, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[Change]:
    pairs, removed, added = match_network(old, new)
    moves = moved(pairs)
    changes: list[Change] = []
    for oi in removed:
        changes.append(Change("removed", ex.presence_exposure(old[oi], added=False), direction,
                              describe_rule(direction, old[oi]), str(old[oi].get("name", "")), old_index=oi,
                              before=old[oi]))
    for oi, ni in pairs:
        before, after = old[oi], new[ni]
        common = dict(rule=str(after.get("name", "")), old_index=oi, new_index=ni, before=before, after=after)
        if before != after:
            details = tuple(f"{path}: {line}" for path, line in field_changes(dict(before), dict(after)))
            changes.append(Change("changed", ex.rule_exposure(before, after), direction,
                                  describe_rule(direction, after), details=details, **common))  # type: ignore[arg-type]
        if (oi, ni) in moves:
            ahead_now = [new[n] for o, n in pairs if o > oi and n < ni]
            behind_now = [new[n] for o, n in pairs if o < oi and n > ni]
            changes.append(Change("moved", ex.reorder_exposure(after, ahead_now, behind_now), direction,
                                  describe_rule(direction, after), details=(f"position: {oi + 1} -> {ni + 1}",),
                                  **common))  # type: ignore[arg-type]
    for ni in added:
        changes.append(Change("added", ex.presence_exposure(new[ni], added=True), direction,
                              describe_rule(direction, new[ni]), str(new[ni].get("name", "")), new_index=ni,
                              after=new[ni]))
    return sorted(changes, key=lambda c: (c.new_index if c.new_index is not None else c.old_index or 0,
                                          c.change != "removed"))


def _keyed_subject(section: str, rule: Mapping[str, Any]) -> str:
    if section == "process":
        return f"{rule.get('action', '?')} process {rule.get('name') or ''} {rule.get('path') or ''}".rstrip()
    return f"file {rule.get('behavior', '?')} {rule.get('filter', '')}"


def keyed_changes(section: str, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Process rules (by name and path) and file rules (by filter); their order has no meaning."""
    def key(rule: Mapping[str, Any]) -> tuple[str, str]:
        if section == "process":
            return (str(rule.get("name") or ""), str(rule.get("path") or ""))
        return ("", str(rule.get("filter") or ""))

    pairs, removed, added = match_by_key(old, new, key)
    changes: list[Change] = []
    for oi in removed:
        changes.append(Change("removed", _keyed_presence(section, old[oi], added=False), section,
                              _keyed_subject(section, old[oi]), str(old[oi].get("name", "")), old_index=oi,
                              before=old[oi]))
    for oi, ni in pairs:
        if old[oi] != new[ni]:
            details = tuple(f"{path}: {line}" for path, line in field_changes(dict(old[oi]), dict(new[ni])))
            changes.append(Change("changed", _keyed_exposure(section, old[oi], new[ni]), section,
                                  _keyed_subject(section, new[ni]), str(new[ni].get("name", "")), details, oi, ni,
                                  old[oi], new[ni]))
    for ni in added:
        changes.append(Change("added", _keyed_presence(section, new[ni], added=True), section,
                              _keyed_subject(section, new[ni]), str(new[ni].get("name", "")), new_index=ni,
                              after=new[ni]))
    return changes


def _keyed_presence(section: str, rule: Mapping[str, Any], added: bool) -> str:
    if section == "process":
        return ex.presence_exposure(rule, added)
    # A file rule watches or blocks access: one more narrows, one fewer widens.
    return ex.NARROWS if added else ex.WIDENS


def _names(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else ({str(value)} if value else set())


_FILE_BEHAVIOURS = {"block_access": 2, "monitor_change": 1}


def _keyed_exposure(section: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    found: list[str] = []
    if section == "process":
        if old.get("action") != new.get("action"):
            found.append(ex.WIDENS if new.get("action") == "allow" else ex.NARROWS)
        if bool(old.get("allow_update")) != bool(new.get("allow_update")):
            found.append(ex.WIDENS if new.get("allow_update") else ex.NARROWS)
        return ex.combine(found)
    if old.get("behavior") != new.get("behavior"):
        found.append(ex.mode_exposure(old.get("behavior"), new.get("behavior"), _FILE_BEHAVIOURS))
    if bool(old.get("recursive")) != bool(new.get("recursive")):
        found.append(ex.NARROWS if new.get("recursive") else ex.WIDENS)
    old_apps, new_apps = _names(old.get("app")), _names(new.get("app"))
    if old_apps != new_apps:
        # The apps listed may access the file: more of them widens.
        found.append(ex.WIDENS if new_apps - old_apps else ex.NARROWS)
    return ex.combine(found)
