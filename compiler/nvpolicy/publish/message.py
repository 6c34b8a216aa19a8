"""The commit message of a publish: which env, from which source commit, and what changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_NOT_OBJECTS = {"kustomization.yaml"}


@dataclass(frozen=True)
class Counts:
    added: int
    changed: int
    removed: int
    widening: int | None  # None where `nvpolicy diff` is not available to judge

    def summary(self) -> str:
        text = f"{self.added} added, {self.changed} changed, {self.removed} removed"
        return text if self.widening is None else f"{text}, {self.widening} widening"


@dataclass(frozen=True)
class Source:
    commit: str | None  # short sha; None when the policy project is not in a git repository
    dirty: bool
    branch: str | None = None  # the policy project's checked-out branch; None when detached (CI checkouts)

    def describe(self) -> str:
        if self.commit is None:
            return "no commit (not a git repository, or nothing committed yet)"
        state = "dirty working tree" if self.dirty else "clean"
        # The branch lets a reviewer of the deploy repo find the change: a feature branch is not main.
        on = f" on branch {self.branch}" if self.branch else " (detached HEAD)"
        return f"{self.commit} ({state}){on}"


def count_objects(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> tuple[int, int, int]:
    """Objects added/changed/removed, one object per file (kustomization.yaml is not an object)."""
    old_objects = {path for path in old if path not in _NOT_OBJECTS}
    new_objects = {path for path in new if path not in _NOT_OBJECTS}
    added = len(new_objects - old_objects)
    removed = len(old_objects - new_objects)
    changed = sum(1 for path in old_objects & new_objects if old[path] != new[path])
    return added, changed, removed


def changed_files(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """The paths (relative to the published directory) added, changed or removed, sorted."""
    return sorted(path for path in old.keys() | new.keys() if old.get(path) != new.get(path))


def widening_count(old_objects: Sequence[Mapping[str, Any]], new_objects: Sequence[Mapping[str, Any]]) -> int:
    """How many changes widen what the policy allows, as ``nvpolicy diff`` counts them."""
    from nvpolicy.diff import summarize

    return summarize(old_objects, new_objects).widens


def commit_message(env: str, source: Source, counts: Counts, subject: str | None = None,
                   overrides: Sequence[str] = (), gate_override: str | None = None) -> str:
    first = subject.strip() if subject and subject.strip() else f"nvpolicy publish {env}: {counts.summary()}"
    lines = [f"Environment: {env}", f"Source: {source.describe()}"]
    # --set changes what was rendered, so the commit must say so to be reproducible.
    lines.extend(f"Override: {override}" for override in overrides)
    lines.append(f"Objects: {counts.summary()}")
    if gate_override is not None:
        # Published past failing lint or tests: the history must say who decided that, and why.
        lines.append(f"Gate overridden: {' '.join(gate_override.split())}")
    return f"{first}\n\n" + "".join(f"{line}\n" for line in lines)
