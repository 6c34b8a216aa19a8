"""``nvpolicy init``: the files of a new policy repo, planned as data and written all or nothing.

The example policy and environments are the bundled example itself (``scaffold/policies`` and
``scaffold/environments`` are the project's own folders, shipped in the wheel), so the example a team
starts from is the one the test suite renders, lints and tests. The CI pipelines and the pre-commit
configuration pin the nvpolicy version that ran ``init``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from nvpolicy import __version__
from nvpolicy._fs import write_all_atomic
from nvpolicy.errors import OutputError

VERSION_MARK = "@NVPOLICY_VERSION@"
ENVIRONMENT_SCHEMA = "schemas/environment.schema.json"  # where the environment files' header points

# scaffold file -> path in the new repo; folders are copied whole.
_TEMPLATES = {
    "gitignore": ".gitignore",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
    "github-workflow.yml": ".github/workflows/nvpolicy.yml",
    "gitlab-ci.yml": ".gitlab-ci.yml",
}
_FOLDERS = ("policies", "environments", "expect")


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the new repo, POSIX separators
    content: bytes


def plan(version: str = __version__) -> list[PlannedFile]:
    """Every file ``init`` writes, in a fixed order (same version, same bytes)."""
    from nvpolicy.schema_registry import schema_text

    root = resources.files("nvpolicy") / "scaffold"
    files = [PlannedFile(target, (root / name).read_text(encoding="utf-8").replace(VERSION_MARK, version).encode())
             for name, target in _TEMPLATES.items()]
    for folder in _FOLDERS:
        if (root / folder).is_dir():
            files.extend(PlannedFile(f"{folder}/{relative}", data) for relative, data in _walk(root / folder))
    files.append(PlannedFile(ENVIRONMENT_SCHEMA, schema_text("environment.schema.json").encode()))
    return sorted(files, key=lambda item: item.path)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith((".yaml", ".yml")):
            yield f"{prefix}{entry.name}", entry.read_bytes()


def conflicts(target: Path, files: list[PlannedFile]) -> list[str]:
    """The planned paths that already exist (as anything, a dangling link included)."""
    return [item.path for item in files if os.path.lexists(target / item.path)]


def write(target: Path, files: list[PlannedFile], *, force: bool = False) -> list[str]:
    """Write every planned file under target; refuse (writing nothing) if any exists, unless force.

    The files go through ``nvpolicy._fs.write_all_atomic``: every target checked first (a target that
    is a symbolic link, a folder or a device is refused, never followed), each written to an
    exclusive temporary file in its own folder, then all renamed into place.
    """
    existing = conflicts(target, files)
    if existing and not force:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise OutputError(f"{target}: would overwrite {shown}",
                          hint="nvpolicy init never overwrites; use --force to replace these files")
    for item in files:
        _check_inside(target, target / item.path)
    write_all_atomic({target / item.path: item.content for item in files})
    return [item.path for item in files]


def _check_inside(target: Path, destination: Path) -> None:
    """A folder on the way that is a link out of the target would carry the write elsewhere."""
    resolved_root = target.resolve()
    parent = destination.parent
    if parent.exists() and not parent.resolve().is_relative_to(resolved_root):
        raise OutputError(f"{destination.parent}: leads outside {target} (a symbolic link?)",
                          hint="remove the link or choose another directory")
