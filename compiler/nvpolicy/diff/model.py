"""Frozen change records: what a diff returns and every output format reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.model import ObjectId

CHANGES = ("added", "removed", "changed", "moved")
EXPOSURES = ("widens", "narrows", "neutral")
OBJECT_CHANGES = ("added", "removed", "changed", "renamed")


@dataclass(frozen=True)
class Change:
    """One rule-level (or field-level) change inside an object."""

    change: str  # one of CHANGES
    exposure: str  # one of EXPOSURES
    section: str  # ingress, egress, process, file, target, selector, spec
    subject: str  # what the change is about, e.g. "allow egress -> nv.db.prod tcp/5432 [PostgreSQL]"
    rule: str = ""  # the rule's name (the new one when both exist)
    details: tuple[str, ...] = ()  # field-level lines: "ports: tcp/80 -> any"
    old_index: int | None = None
    new_index: int | None = None
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class ObjectDiff:
    id: ObjectId
    change: str  # one of OBJECT_CHANGES
    changes: tuple[Change, ...] = ()
    old_id: ObjectId | None = None  # set for renames

    def count(self, exposure: str) -> int:
        return sum(1 for c in self.changes if c.exposure == exposure)

    @property
    def widens(self) -> bool:
        return any(c.exposure == "widens" for c in self.changes)


@dataclass(frozen=True)
class ManagedGroup:
    """A group that becomes CRD-managed (read-only in NeuVector's console) through the change."""

    name: str
    role: str  # target, peer or definition
    object_id: ObjectId


@dataclass(frozen=True)
class Summary:
    objects_added: int = 0
    objects_changed: int = 0  # renamed objects included
    objects_removed: int = 0
    widens: int = 0
    narrows: int = 0
    neutral: int = 0

    @property
    def empty(self) -> bool:
        return not (self.objects_added or self.objects_changed or self.objects_removed)

    def as_dict(self) -> dict[str, int]:
        return {
            "objects_added": self.objects_added,
            "objects_changed": self.objects_changed,
            "objects_removed": self.objects_removed,
            "widens": self.widens,
            "narrows": self.narrows,
            "neutral": self.neutral,
        }


@dataclass(frozen=True)
class DiffResult:
    objects: tuple[ObjectDiff, ...]
    old_label: str = "old"
    new_label: str = "new"
    managed_groups: tuple[ManagedGroup, ...] = ()
    # The compared states, by id, for outputs that draw the whole environment (the Mermaid chart).
    old_state: Mapping[ObjectId, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    new_state: Mapping[ObjectId, Mapping[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        return not self.objects

    @property
    def summary(self) -> Summary:
        records = [c for o in self.objects for c in o.changes]
        return Summary(
            objects_added=sum(1 for o in self.objects if o.change == "added"),
            objects_changed=sum(1 for o in self.objects if o.change in ("changed", "renamed")),
            objects_removed=sum(1 for o in self.objects if o.change == "removed"),
            widens=sum(1 for c in records if c.exposure == "widens"),
            narrows=sum(1 for c in records if c.exposure == "narrows"),
            neutral=sum(1 for c in records if c.exposure == "neutral"),
        )


def dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…``, or None where a level is missing or not a mapping (inputs may be any YAML)."""
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The mapping items of a list (rules, criteria); anything else is no items."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def canonical(value: Any) -> str:
    """A text equal for equal data, whatever the key order (for matching and sorting)."""
    import json

    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types cannot be sorted
        return repr(value)
