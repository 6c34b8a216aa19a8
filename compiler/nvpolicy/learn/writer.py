"""Writing an import plan: new files, or merging into the existing source (``--merge``).

Nothing is written until every file's new text is known; each file is then replaced atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nvpolicy._fs import write_all_atomic
from nvpolicy.emit import dump
from nvpolicy.errors import OutputError
from nvpolicy.learn.merge import merge_into_text, object_key
from nvpolicy.source import iter_yaml_files, load_file, read_text


@dataclass
class WritePlan:
    texts: dict[Path, str] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def source_text(objects: Sequence[Mapping[str, Any]], header: str) -> str:
    """New source file text: a header comment, then one document per object (``when:`` first)."""
    parts = []
    for obj in objects:
        body = {key: value for key, value in obj.items() if key != "when"}
        text = dump({"when": obj["when"]}) + dump(body) if "when" in obj else dump(body)
        parts.append(text)
    return header + "---\n".join(parts)


def plan_files(files: Mapping[Path, Sequence[dict[str, Any]]], header: str, merge: bool,
               search: Sequence[Path] = (),
               moved: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]] | None = None) -> WritePlan:
    """The text of every file to write. Without ``merge`` an existing file is an error; with it, each
    object merges into the file among ``search`` (and the destinations) that already defines it, and
    the process rules ``moved`` out of an object (``--split-sidecars``) leave that file's object."""
    plan = WritePlan()
    if not merge:
        existing = [path for path in files if path.exists()]
        if existing:
            raise OutputError(f"{existing[0]} exists; nvpolicy import does not overwrite source files",
                              hint="add --merge to merge the import into the existing source")
        for path, objects in files.items():
            plan.texts[path] = source_text(objects, header)
        return plan
    where = _defined_in([*search, *[path for path in files if path.exists()]])
    pending: dict[Path, list[dict[str, Any]]] = {}
    for path, objects in files.items():
        for obj in objects:
            pending.setdefault(where.get(object_key(obj), path), []).append(obj)
    for path, objects in pending.items():
        if not path.exists():
            plan.texts[path] = source_text(objects, header)
            plan.merged.extend(f"{path.name}: {object_key(obj)[0]} {object_key(obj)[1]} added" for obj in objects)
            continue
        result, _ = merge_into_text(read_text(path), path.name, objects, protect_edits=True, moved=moved)
        plan.merged.extend(result.merged)
        plan.conflicts.extend(result.conflicts)
        if result.changed:
            plan.texts[path] = result.text
    return plan


def _defined_in(paths: Sequence[Path]) -> dict[tuple[str, str], Path]:
    found: dict[tuple[str, str], Path] = {}
    for path in dict.fromkeys(paths):
        candidates = iter_yaml_files(path) if path.is_dir() else [path] if path.is_file() else []
        for candidate in candidates:
            for document in load_file(candidate):
                if isinstance(document.data, dict):
                    found.setdefault(object_key(document.data), candidate)
    return found


def write_texts(texts: Mapping[Path, str]) -> None:
    """Every file or none: targets checked, then all written to temporary files, then renamed (nvpolicy._fs)."""
    write_all_atomic(texts)
