"""Merging imported objects into existing source: add what is new, never duplicate, never drop or
overwrite a hand edit (a difference is reported as a conflict and the existing text is kept).

``merge_object`` decides on plain data and is reusable on its own; ``merge_into_text`` applies the
decision to a file with ruamel.yaml's round-trip mode, so comments, key order, flow style and quoting
of the hand-written file stay as they were.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.emit import needs_quotes, ordered
from nvpolicy.errors import SourceError
from nvpolicy.learn.naming import unique_name
from nvpolicy.model import Location

NETWORK = ("ingress", "egress")
_RULE_LISTS = ("ingress", "egress", "process", "file")


@dataclass
class MergePlan:
    """What merging one new object into an existing one does."""

    additions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # spec list → rules to append
    new_keys: dict[tuple[str, ...], Any] = field(default_factory=dict)  # key path → value to add
    skipped: int = 0  # rules already present
    conflicts: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.additions or self.new_keys)


_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def canonical(value: Any) -> Any:
    """Placeholders compared modulo quoting and spacing: ``service('orders')`` is ``service("orders")``."""
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, str) and "{{" in value:
        return _EXPRESSION.sub(_canonical_expression, value)
    return value


def _canonical_expression(match: re.Match[str]) -> str:
    expr = match.group(1)
    if expr.strip()[:1] in ("'", '"'):
        return match.group(0)  # an escaped literal (learn.literal): its spaces and quotes are the data
    return "{{" + re.sub(r"\s+", "", expr).replace("'", '"') + "}}"


def object_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    """How imported and existing objects are matched: kind and the (source text of the) name."""
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind")), str(metadata.get("name") if isinstance(metadata, Mapping) else "")


def _traffic(rule: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a network rule allows or denies, its name and ports aside."""
    apps = tuple(sorted(str(app) for app in rule.get("applications") or []))
    return json.dumps(canonical(rule.get("selector")), sort_keys=True), rule.get("action"), apps


def _identity(section: str, rule: Mapping[str, Any]) -> tuple[Any, ...]:
    if section in NETWORK:
        return _traffic(rule)
    if section == "process":
        return canonical(rule.get("name")), canonical(rule.get("path"))
    return (canonical(rule.get("filter")),)


def merge_object(existing: Mapping[str, Any], new: Mapping[str, Any], label: str = "",
                 protect_edits: bool = False) -> MergePlan:
    """Plan the merge of ``new`` into ``existing`` (both plain data of one object).

    With ``protect_edits`` (``new`` is a whole re-imported object, not a list of proposals), an
    imported rule that stands in the place of an existing rule the import does not bring back is a
    conflict, not an addition: see ``_edited_counterpart``."""
    plan = MergePlan()
    where = f"{label}: " if label else ""
    for key, value in new.items():
        if key in ("spec", "metadata", "kind", "apiVersion"):
            continue
        _scalar_merge(plan, existing, (key,), value, where)
    for key in ("namespace",):
        _scalar_merge(plan, existing, ("metadata", key), (new.get("metadata") or {}).get(key), where)
    new_spec = new.get("spec") or {}
    old_spec = existing.get("spec") or {}
    for key, value in new_spec.items():
        if key in _RULE_LISTS:
            _merge_rules(plan, key, old_spec.get(key) or [], value or [], where, protect_edits)
        else:
            _scalar_merge(plan, existing, ("spec", key), value, where)
    return plan


def _get(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _scalar_merge(plan: MergePlan, existing: Mapping[str, Any], path: tuple[str, ...], value: Any,
                  where: str) -> None:
    if value is None:
        return
    current = _get(existing, path)
    if current is None:
        plan.new_keys[path] = copy.deepcopy(value)
    elif canonical(current) != canonical(value):
        plan.conflicts.append(f"{where}{'.'.join(path)} differs from the import (kept yours)")


def _merge_rules(plan: MergePlan, section: str, old: Sequence[Mapping[str, Any]],
                 new: Sequence[Mapping[str, Any]], where: str, protect_edits: bool = False) -> None:
    by_identity = {_identity(section, rule): rule for rule in old}
    names = {str(rule.get("name")) for rule in old}
    imported = {_identity(section, rule) for rule in new}
    edited = [rule for rule in old if _identity(section, rule) not in imported] if protect_edits else []
    for rule in new:
        same = by_identity.get(_identity(section, rule))
        if same is None:
            same = _edited_counterpart(section, rule, edited)
        if same is not None:
            if canonical(_without_name(same, section)) == canonical(_without_name(rule, section)):
                plan.skipped += 1
            else:
                plan.conflicts.append(
                    f"{where}{section} rule {same.get('name')!r}: yours differs from the imported "
                    f"{_summary(rule)} (kept yours)")
            continue
        added = dict(copy.deepcopy(rule))
        if section in NETWORK and str(added.get("name")) in names:
            # Another rule by that name (a hand edit or a new peer): keep both, name the new one apart.
            added["name"] = unique_name(f"{added['name']}-imported", names)
        names.add(str(added.get("name")))
        by_identity[_identity(section, added)] = added
        plan.additions.setdefault(section, []).append(added)


def _edited_counterpart(section: str, rule: Mapping[str, Any],
                        edited: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The existing rule an imported one would stand beside after a hand edit: the same rule name, or
    the same peer and applications (a flipped action), or the same process name (an edited path).
    Adding the imported rule next to it would quietly undo the edit, so it is reported instead."""
    for mine in edited:
        if section in NETWORK:
            if str(mine.get("name")) == str(rule.get("name")) or _traffic(mine)[::2] == _traffic(rule)[::2]:
                return mine
        elif section == "process" and canonical(mine.get("name")) == canonical(rule.get("name")):
            return mine
    return None


def _without_name(rule: Mapping[str, Any], section: str) -> dict[str, Any]:
    if section in NETWORK:
        return {key: value for key, value in rule.items() if key != "name"}
    return dict(rule)


def _summary(rule: Mapping[str, Any]) -> str:
    shown = {key: rule[key] for key in ("name", "action", "ports", "path", "filter") if key in rule}
    return str(shown)


# ---------------------------------------------------------------------------------------------
# Round-trip application to a file


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    if _indented_sequences(text):
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _indented_sequences(text: str) -> bool:
    """Whether the file writes ``- item`` indented below its key (hand style) or flush (emitter style)."""
    previous = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("- ") and previous.rstrip().endswith(":"):
            return len(line) - len(stripped) > len(previous) - len(previous.lstrip())
        if stripped and not stripped.startswith("#"):
            previous = line
    return True


def plain(value: Any) -> Any:
    """ruamel's round-trip types → plain dicts, lists and scalars (for comparisons)."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


@dataclass
class FileMerge:
    text: str
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    changed: bool = False


def merge_into_text(text: str, name: str, objects: Sequence[dict[str, Any]], append_unmatched: bool = True,
                    protect_edits: bool = False,
                    moved: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]] | None = None,
                    ) -> tuple[FileMerge, list[dict[str, Any]]]:
    """Merge ``objects`` into the YAML documents of ``text``; returns the result and the objects that
    matched nothing in it (appended as new documents when ``append_unmatched``). ``moved``: process
    rules the import moved out of an object (by ``object_key``), removed from the file's object."""
    from ruamel.yaml.error import YAMLError

    yaml = _yaml(text)
    try:
        documents = [doc for doc in yaml.load_all(text) if doc is not None]
    except YAMLError as exc:
        raise SourceError(f"cannot merge into this file: {exc}", location=Location(name)) from None
    result = FileMerge(text)
    unmatched: list[dict[str, Any]] = []
    for obj in objects:
        key = object_key(obj)
        target = next((doc for doc in documents if isinstance(doc, Mapping) and object_key(plain(doc)) == key), None)
        if target is None:
            unmatched.append(obj)
            continue
        label = f"{name}: {key[0]} {key[1]}"
        removed = _remove_processes(target, (moved or {}).get(key, ()))
        if removed:
            result.changed = True
            result.merged.append(f"{label}: removed process {', '.join(removed)} (moved to its sidecar's group)")
        plan = merge_object(plain(target), obj, label, protect_edits)
        result.conflicts.extend(plan.conflicts)
        _apply(target, plan)
        if plan.changes:
            result.changed = True
            added = sum(len(rules) for rules in plan.additions.values()) + len(plan.new_keys)
            result.merged.append(f"{label}: {added} added, {plan.skipped} already present")
        else:
            result.merged.append(f"{label}: nothing new ({plan.skipped} already present)")
    if append_unmatched and unmatched:
        documents.extend(roundtrip_data(ordered(obj)) for obj in unmatched)
        result.changed = True
        result.merged.extend(f"{name}: {object_key(obj)[0]} {object_key(obj)[1]} added" for obj in unmatched)
        unmatched = []
    if result.changed:
        stream = io.StringIO()
        yaml.dump_all(documents, stream)
        result.text = _keep_header(text, stream.getvalue())
    return result, unmatched


def _remove_processes(target: Any, rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """Delete the process rules with the identity (name, path) of ``rules`` from a file's object."""
    gone = {_identity("process", rule) for rule in rules}
    process = (target.get("spec") or {}).get("process") if isinstance(target, Mapping) else None
    if not gone or not isinstance(process, list):
        return []
    removed = []
    for index in reversed(range(len(process))):
        rule = plain(process[index])
        if isinstance(rule, Mapping) and _identity("process", rule) in gone:
            removed.append(str(rule.get("name")))
            del process[index]
    return sorted(removed)


def _apply(target: Any, plan: MergePlan) -> None:
    spec = target.setdefault("spec", {})
    for section, rules in plan.additions.items():
        existing = spec.get(section)
        added = [roundtrip_data(ordered(rule)) for rule in rules]
        if existing is None:
            spec[section] = added
        else:
            existing.extend(added)
    for path, value in plan.new_keys.items():
        node = target
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = roundtrip_data(ordered(value))


def roundtrip_data(value: Any) -> Any:
    """New plain data for a ruamel round-trip dump, with every string
    (key or value) that would read back as another type (``yes``, ``1:20``, ``0x10``) single-quoted.

    ruamel resolves YAML 1.2, where ``yes`` is a string and is written plain; nvpolicy's loader reads
    YAML 1.1, where it is ``true``. The text already in the file is left as ruamel read it."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

    def quoted(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        if not text.isprintable():
            # Line breaks (NEL and U+2028 too) and control characters: only double quotes escape them;
            # ruamel writes them raw in other styles, and a YAML 1.1 reader folds them to spaces.
            return DoubleQuotedScalarString(text)
        return SingleQuotedScalarString(text) if needs_quotes(text) else text

    def convert(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {quoted(key): convert(item[key]) for key in item}
        if isinstance(item, list):
            return [convert(element) for element in item]
        return quoted(item)

    return convert(value)


def _keep_header(original: str, dumped: str) -> str:
    """ruamel keeps comments inside documents; a leading comment block before the first one is
    re-attached here when the dump lost it."""
    header = []
    for line in original.splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            header.append(line)
        else:
            break
    head = "".join(header)
    if head.strip() and not dumped.startswith(head.strip()[:20]):
        return head + dumped
    return dumped
