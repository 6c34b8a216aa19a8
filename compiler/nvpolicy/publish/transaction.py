"""Swap a staged SUBDIR into the deploy repo and commit it, so that a kill at any point recovers.

The sequence, all under the repo's publish lock (``lock.py``):

1. **stage** the complete new SUBDIR next to it, as ``.nvpolicy-publish.<name>.staging.<pid>``:
   the rendered files, the foreign (not owned) files of the current SUBDIR, the new manifest;
   fsynced. If it equals the current SUBDIR byte for byte, stop: nothing to commit.
2. **journal**: write ``<git dir>/nvpolicy-publish.journal`` (JSON: SUBDIR, HEAD before, the
   staging and retired names, a run id) with write-to-temp + fsync + rename.
3. **swap**: rename SUBDIR to ``….retired.<pid>``, then the staging tree to SUBDIR.
4. **commit**: ``git add --all -- SUBDIR``; ``git commit --only -- SUBDIR`` whose message
   carries the trailer ``Nvpolicy-Run: <run id>``.
5. **clean up**: remove the retired tree, then the journal.

Recovery runs at the start of every publish, once the lock is held (so the journal's writer is
certainly dead). With no journal, any ``.nvpolicy-publish.*`` next to SUBDIR is a leftover of a
run killed during step 1 and is removed. With a journal, the one question is whether step 4
finished, answered by git itself: HEAD moved away from the journal's HEAD *and* its message
carries the journal's run id.

- **Committed** (killed in step 5, or inside ``git commit`` after the ref moved): roll forward.
  SUBDIR already holds the committed tree; the index entries under SUBDIR are reset to HEAD
  (``git commit --only`` updates the real index last) and the retired tree is removed.
- **Not committed** (killed in steps 2-4): roll back. If the staging tree still exists the swap
  never completed: it is removed and a retired tree is renamed back to SUBDIR. Otherwise SUBDIR
  holds the new tree: it is removed and the retired tree (if SUBDIR existed before) renamed back.
  Index entries under SUBDIR are reset to HEAD, undoing a ``git add``. The deploy repo is as
  before the killed run; this run then publishes afresh.

The journal is removed last, so a kill during recovery just makes the next run recover again.
One window remains that git owns, not us: a kill inside ``git add``/``git commit`` can leave
git's ``index.lock``; git then refuses to run and says so, and we pass its message on.

Tests trigger a SIGKILL at each step with ``NVPOLICY_PUBLISH_FAULT=<checkpoint>``; nothing else
sets that variable.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nvpolicy.emit import OutputFile, fsync_path
from nvpolicy.errors import NvPolicyError, OutputError
from nvpolicy.publish.git import Git
from nvpolicy.publish.manifest import MANIFEST, read_manifest, render_manifest

PREFIX = ".nvpolicy-publish."
JOURNAL = "nvpolicy-publish.journal"
FAULT_VARIABLE = "NVPOLICY_PUBLISH_FAULT"
RUN_TRAILER = "Nvpolicy-Run"


def checkpoint(name: str) -> None:
    """Die here, as a kill -9 would, when a test asks for it."""
    if os.environ.get(FAULT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Staged:
    directory: Path
    old_owned: dict[str, bytes]  # owned files of the current SUBDIR, by relative path
    new_owned: dict[str, bytes]  # files this publish writes
    unchanged: bool


def _name(target: Path, role: str) -> Path:
    return target.parent / f"{PREFIX}{target.name}.{role}.{os.getpid()}"


def stage(target: Path, files: list[OutputFile]) -> Staged:
    """Build the complete new SUBDIR next to ``target`` (rendered + foreign files + manifest)."""
    owned = read_manifest(target)
    current = _files(target)
    new_owned = {f.path: f.text.encode("utf-8") for f in files}
    staging = _name(target, "staging")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        for relative, source in _walk(target):
            if relative in owned or relative == MANIFEST or relative in new_owned:
                continue  # ours: replaced by the new render or removed with it
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination, follow_symlinks=False)
        for relative, data in new_owned.items():
            destination = staging / relative
            if not destination.resolve().is_relative_to(staging.resolve()):
                raise OutputError(f"refusing to write {relative!r}: it leaves the publish directory")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        (staging / MANIFEST).write_text(render_manifest(new_owned), encoding="utf-8")
        _fsync_tree(staging)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot stage the new {target.name}/ next to it: {exc.strerror or exc}") from None
    old_owned = {path: (target / path).read_bytes() for path in sorted(owned)
                 if (target / path).is_file() and not (target / path).is_symlink()}
    return Staged(staging, old_owned, new_owned, unchanged=_files(staging) == current)


def _walk(root: Path) -> list[tuple[str, Path]]:
    """Files and symlinks below root; a symlink (even to a directory) is an entry, never followed."""
    if not root.is_dir():
        return []
    relatives: list[str] = []
    for folder, directories, names in os.walk(root):
        base = Path(folder)
        links = [name for name in directories if (base / name).is_symlink()]
        relatives.extend((base / name).relative_to(root).as_posix() for name in [*names, *links])
    return [(relative, root / relative) for relative in sorted(relatives)]


def _files(root: Path) -> dict[str, bytes]:
    """Every file below root by relative path; a symlink compares by its target, mode bits by x."""
    found: dict[str, bytes] = {}
    for relative, path in _walk(root):
        if path.is_symlink():
            found[relative] = b"link:" + os.fsencode(os.readlink(path))
        else:
            found[relative] = (b"x:" if os.access(path, os.X_OK) else b"f:") + path.read_bytes()
    return found


def commit(git: Git, journal: Path, target: Path, pathspec: str, staged: Staged, message: str) -> str:
    """Swap the staged tree in and commit it; on a git failure, roll back and re-raise. Returns the commit."""
    run = uuid.uuid4().hex[:16]
    retired = _name(target, "retired")
    _write_journal(journal, {"subdir": pathspec, "head": git.head(), "run": run,
                             "staging": staged.directory.name, "retired": retired.name})
    checkpoint("journal")
    try:
        if target.exists():
            os.rename(target, retired)
        checkpoint("aside")
        os.rename(staged.directory, target)
        fsync_path(target.parent)
    except OSError as exc:
        recover(git, journal, target.parent)
        raise OutputError(f"cannot swap in the new {pathspec}/: {exc.strerror or exc}") from None
    checkpoint("swap")
    try:
        git.add_all(pathspec)
        checkpoint("add")
        sha = git.commit_only(pathspec, f"{message.rstrip()}\n\n{RUN_TRAILER}: {run}\n")
    except NvPolicyError:
        recover(git, journal, target.parent)
        raise
    checkpoint("commit")
    shutil.rmtree(retired, ignore_errors=True)
    journal.unlink()
    return sha


def recover(git: Git, journal: Path, parent: Path) -> str | None:
    """Finish or undo a killed run (see the module docstring); returns what was done, or None."""
    outcome = _recover_journal(git, journal) if journal.exists() else None
    _remove_leftovers(parent)
    return outcome


def _recover_journal(git: Git, journal: Path) -> str:
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        pathspec, head, run = str(record["subdir"]), record["head"], str(record["run"])
        staging_name, retired_name = str(record["staging"]), str(record["retired"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NvPolicyError(f"cannot read the journal of a killed publish {journal}: {exc}",
                            hint="inspect the deploy repo with git status, then delete the journal") from None
    top = git.top_level()
    target = top / pathspec
    staging, retired = target.parent / staging_name, target.parent / retired_name
    parts = PurePosixPath(pathspec).parts
    names_ok = all(name.startswith(PREFIX) and "/" not in name for name in (staging_name, retired_name))
    if not names_ok or not parts or ".." in parts or PurePosixPath(pathspec).is_absolute():
        raise NvPolicyError(f"the journal {journal} names paths nvpolicy never creates",
                            hint="inspect the deploy repo with git status, then delete the journal")
    current = git.head()
    if current is not None and current != head and f"{RUN_TRAILER}: {run}" in git.message(current):
        git.unstage(pathspec)
        shutil.rmtree(retired, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        outcome = f"completed the killed publish of {pathspec}/ (commit {git.short(current)})"
    else:
        if staging.exists():
            shutil.rmtree(staging)
            if retired.exists() and not target.exists():
                os.rename(retired, target)
        else:
            if target.exists():
                shutil.rmtree(target)
            if retired.exists():
                os.rename(retired, target)
        git.unstage(pathspec)
        outcome = f"rolled back the uncommitted publish of {pathspec}/ of a killed run"
    fsync_path(target.parent)
    journal.unlink()
    _remove_leftovers(target.parent)
    return outcome


def _remove_leftovers(parent: Path) -> None:
    """With the lock held and no journal, every staging or retired tree is a killed run's garbage."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(PREFIX) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _write_journal(path: Path, record: dict[str, object]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_path(path.parent)


def _fsync_tree(root: Path) -> None:
    for folder, _directories, names in os.walk(root):
        for name in names:
            if not (Path(folder) / name).is_symlink():
                fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


