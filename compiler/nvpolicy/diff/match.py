"""Pairing old and new: objects by identity (renames detected), rules by what they are about."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from nvpolicy.diff.model import canonical, dig
from nvpolicy.model import ObjectId

# Two objects of one kind under different names are a rename when their content is at
# least this close (deepdiff's deep distance: 0 identical, 1 nothing in common).
RENAME_DISTANCE = 0.3

Pair = tuple[int, int]


def match_objects(
    old: Mapping[ObjectId, Mapping[str, Any]], new: Mapping[ObjectId, Mapping[str, Any]]
) -> list[tuple[ObjectId | None, ObjectId | None]]:
    """(old, new) id pairs, in id order: same id, then renames among the leftovers of one kind."""
    pairs: list[tuple[ObjectId | None, ObjectId | None]] = [(i, i) for i in sorted(old.keys() & new.keys())]
    gone = sorted(old.keys() - new.keys())
    came = sorted(new.keys() - old.keys())
    for old_id, new_id in _renames(old, new, gone, came):
        pairs.append((old_id, new_id))
        gone.remove(old_id)
        came.remove(new_id)
    pairs += [(i, None) for i in gone] + [(None, i) for i in came]
    return sorted(pairs, key=lambda p: (p[1] or p[0], p[0] or p[1]))


def _renames(
    old: Mapping[ObjectId, Mapping[str, Any]], new: Mapping[ObjectId, Mapping[str, Any]],
    gone: Sequence[ObjectId], came: Sequence[ObjectId],
) -> list[tuple[ObjectId, ObjectId]]:
    candidates: list[tuple[float, ObjectId, ObjectId]] = []
    for old_id in gone:
        for new_id in came:
            if old_id.kind != new_id.kind or _anchor(old[old_id]) != _anchor(new[new_id]):
                continue
            distance = spec_distance(old[old_id].get("spec"), new[new_id].get("spec"))
            if distance <= RENAME_DISTANCE:
                candidates.append((distance, old_id, new_id))
    chosen: list[tuple[ObjectId, ObjectId]] = []
    used_old: set[ObjectId] = set()
    used_new: set[ObjectId] = set()
    for _, old_id, new_id in sorted(candidates):
        if old_id not in used_old and new_id not in used_new:
            chosen.append((old_id, new_id))
            used_old.add(old_id)
            used_new.add(new_id)
    return chosen


def _anchor(data: Mapping[str, Any]) -> Any:
    """What a renamed object must keep: its target group (rules), its selector (group definitions)."""
    if data.get("kind") in ("NvSecurityRule", "NvClusterSecurityRule"):
        return dig(data, "spec", "target", "selector", "name")
    if data.get("kind") == "NvGroupDefinition":
        return dig(data, "spec", "selector")
    return None


def spec_distance(a: Any, b: Any) -> float:
    if a == b:
        return 0.0
    from deepdiff import DeepDiff

    result = DeepDiff(a, b, get_deep_distance=True, ignore_order=True, cache_size=500)
    return float(result.get("deep_distance", 1.0))


def match_by_key(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Hashable],
) -> tuple[list[Pair], list[int], list[int]]:
    """Pairs of indices whose keys agree (in order of appearance within a key), then leftovers."""
    waiting: dict[Hashable, list[int]] = {}
    for index, item in enumerate(old):
        waiting.setdefault(key(item), []).append(index)
    pairs: list[Pair] = []
    added: list[int] = []
    for index, item in enumerate(new):
        queue = waiting.get(key(item))
        if queue:
            pairs.append((queue.pop(0), index))
        else:
            added.append(index)
    removed = sorted(i for queue in waiting.values() for i in queue)
    return pairs, removed, added


def _content(rule: Mapping[str, Any]) -> str:
    return canonical({k: v for k, v in rule.items() if k != "name"})


def _action(rule: Mapping[str, Any]) -> str:
    return str(rule.get("action"))


def _peer(rule: Mapping[str, Any]) -> str:
    selector = rule.get("selector")
    return str(selector.get("name", "")) if isinstance(selector, Mapping) else ""


def match_network(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> tuple[list[Pair], list[int], list[int]]:
    """Network rules of one direction, matched by peer group and action — never by name or position.

    Identical rules pair first, then identical but for the name, so a rule that only moved is not mistaken for
    its changed sibling; then the rest of each (peer, action) in order; then leftovers with
    the same peer but another action, which are one rule whose action flipped.
    """
    same, old_rest, new_rest = match_by_key(old, new, lambda r: (_peer(r), _action(r), _content(r),
                                                                  str(r.get("name"))))
    exact, old_rest, new_rest = _sub(old, new, old_rest, new_rest, lambda r: (_peer(r), _action(r), _content(r)))
    by_action, old_left, new_left = _sub(old, new, old_rest, new_rest, lambda r: (_peer(r), _action(r)))
    flipped, removed, added = _sub(old, new, old_left, new_left, _peer)
    return sorted(same + exact + by_action + flipped, key=lambda p: p[1]), removed, added


def _sub(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], old_idx: list[int], new_idx: list[int],
    key: Callable[[Mapping[str, Any]], Hashable],
) -> tuple[list[Pair], list[int], list[int]]:
    pairs, removed, added = match_by_key([old[i] for i in old_idx], [new[i] for i in new_idx], key)
    return ([(old_idx[a], new_idx[b]) for a, b in pairs], [old_idx[i] for i in removed], [new_idx[i] for i in added])


def moved(pairs: Sequence[Pair]) -> set[Pair]:
    """The pairs that changed relative order: all but a longest run kept in order (LIS)."""
    ordered = sorted(pairs, key=lambda p: p[1])
    tails: list[int] = []  # tails[k]: smallest old index ending an increasing run of length k+1
    tail_at: list[int] = []
    parent: list[int] = [-1] * len(ordered)
    for position, (old_index, _) in enumerate(ordered):
        k = bisect.bisect_left(tails, old_index)
        if k == len(tails):
            tails.append(old_index)
            tail_at.append(position)
        else:
            tails[k] = old_index
            tail_at[k] = position
        parent[position] = tail_at[k - 1] if k else -1
    kept: set[int] = set()
    position = tail_at[-1] if tail_at else -1
    while position != -1:
        kept.add(position)
        position = parent[position]
    return {pair for position, pair in enumerate(ordered) if position not in kept}
