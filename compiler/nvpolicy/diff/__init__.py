"""Rule-level, order-aware diffs of rendered NeuVector policies.

``diff_objects(old, new)`` returns a :class:`DiffResult`; ``summarize(old, new)`` only its counts
(for commit messages and the like). Both accept rendered objects or plain CR mappings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nvpolicy.diff.model import Change, DiffResult, ManagedGroup, ObjectDiff, Summary, dig, mappings
from nvpolicy.errors import NvPolicyError
from nvpolicy.model import ObjectId, RenderedObject

__all__ = ["Change", "DiffResult", "ManagedGroup", "ObjectDiff", "Summary", "diff_objects", "index", "summarize"]

ObjectLike = RenderedObject | Mapping[str, Any]


def index(objects: Iterable[ObjectLike], label: str = "") -> dict[ObjectId, Mapping[str, Any]]:
    """Objects by id; one id twice is an error (the diff would be ambiguous)."""
    found: dict[ObjectId, Mapping[str, Any]] = {}
    for obj in objects:
        data = obj.data if isinstance(obj, RenderedObject) else obj
        object_id = ObjectId.of(data)
        if object_id in found:
            raise NvPolicyError(f"{label or 'input'} holds {object_id} twice", hint="each object must appear once")
        found[object_id] = data
    return found


def diff_objects(old: Iterable[ObjectLike], new: Iterable[ObjectLike], old_label: str = "old",
                 new_label: str = "new") -> DiffResult:
    from nvpolicy.diff.compare import compare_objects
    from nvpolicy.diff.match import match_objects

    old_by_id, new_by_id = index(old, old_label), index(new, new_label)
    diffs: list[ObjectDiff] = []
    for old_id, new_id in match_objects(old_by_id, new_by_id):
        before = old_by_id[old_id] if old_id else None
        after = new_by_id[new_id] if new_id else None
        if old_id == new_id and identical(before, after):
            continue  # nearly every object of a real change: no rule matching, no deepdiff
        changes = tuple(compare_objects(before, after))
        if old_id is None:
            diffs.append(ObjectDiff(new_id, "added", changes))  # type: ignore[arg-type]
        elif new_id is None:
            diffs.append(ObjectDiff(old_id, "removed", changes))
        elif old_id != new_id:
            diffs.append(ObjectDiff(new_id, "renamed", changes, old_id))
        elif changes:
            diffs.append(ObjectDiff(new_id, "changed", changes))
    return DiffResult(tuple(diffs), old_label, new_label, managed_groups(old_by_id, new_by_id), old_by_id, new_by_id)


def identical(a: Any, b: Any) -> bool:
    """Equal as deepdiff sees it: Python's ``==`` plus the same type at every level, so ``1`` and
    ``True`` or ``1.0`` (equal to Python, a type change to deepdiff) are not identical."""
    return a == b and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return all(map(_same_types, a, b))
    # Anything else YAML cannot produce goes the long way, through deepdiff.
    return isinstance(a, _PLAIN)


_PLAIN = (str, int, float, type(None))


def summarize(old_objects: Iterable[ObjectLike], new_objects: Iterable[ObjectLike]) -> Summary:
    """Counts of objects added/changed/removed and of widening/narrowing/neutral changes."""
    return diff_objects(old_objects, new_objects).summary


from nvpolicy.nv.groups import RESERVED_GROUPS as _RESERVED  # noqa: E402


def _groups(objects: Mapping[ObjectId, Mapping[str, Any]]) -> dict[str, ManagedGroup]:
    """Every group a CRD set makes CRD-managed: targets, linked peer groups, group definitions."""
    groups: dict[str, ManagedGroup] = {}

    def add(selector: Any, role: str, object_id: ObjectId) -> None:
        name = selector.get("name") if isinstance(selector, Mapping) else None
        if isinstance(name, str) and name and name not in _RESERVED and name not in groups:
            groups[name] = ManagedGroup(name, role, object_id)

    for object_id in sorted(objects):
        spec = objects[object_id].get("spec")
        if object_id.kind == "NvGroupDefinition":
            add(dig(spec, "selector"), "definition", object_id)
        elif object_id.kind in ("NvSecurityRule", "NvClusterSecurityRule"):
            add(dig(spec, "target", "selector"), "target", object_id)
            for direction in ("ingress", "egress"):
                for rule in mappings(dig(spec, direction)):
                    add(rule.get("selector"), "peer", object_id)
    return groups


def managed_groups(old: Mapping[ObjectId, Mapping[str, Any]],
                   new: Mapping[ObjectId, Mapping[str, Any]]) -> tuple[ManagedGroup, ...]:
    before = _groups(old)
    return tuple(group for name, group in sorted(_groups(new).items()) if name not in before)
