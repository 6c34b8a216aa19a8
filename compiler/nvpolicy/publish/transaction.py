"""Swap a staged SUBDIR into the deploy repo and commit it, so that a kill at any point recovers.

The sequence, all under the repo's publish lock (``lock.py``):

1. **stage** the complete new SUBDIR next to it, as ``.nvpolicy-publish.<name>.staging.<pid>``:
   the rendered files, the foreign (not owned) files of the current SUBDIR, the new manifest;
   fsynced.
2. **prepare** the commit's tree without touching the repo's index or work tree: the rendered
   files and the manifest become blobs byte for byte (``hash-object --no-filters``), put into
   HEAD's tree in a private index (foreign files keep HEAD's blobs). Neither ``.gitignore`` nor
   ``.gitattributes`` (``eol=crlf``, ``ident``, a filter) nor ``core.autocrlf`` takes part, so
   the commit holds exactly the bytes written and is never missing an owned file. If the tree
   equals HEAD's, stop: nothing to commit (a checkout with CRLF line endings is not a change).
3. **journal**: write ``<git dir>/nvpolicy-publish.journal`` (JSON: SUBDIR, branch, HEAD before,
   the staging and retired names, a run id) with write-to-temp + fsync + rename.
4. **swap**: rename SUBDIR to ``….retired.<pid>``, then the staging tree to SUBDIR.
5. **commit**: ``git commit-tree`` (message verbatim, with the trailer ``Nvpolicy-Run: <run id>``),
   then ``git update-ref`` moves the branch only if it still points at HEAD-before. That ref
   update is the commit point; it is also written to the branch's reflog.
6. **clean up**: reset the index entries under SUBDIR to the new commit, remove the retired
   tree, then the journal.

Recovery runs at the start of every publish, once the lock is held (so the journal's writer is
certainly dead). With no journal, any ``.nvpolicy-publish.*`` next to SUBDIR is a leftover of a
run killed during step 1 or 2 and is removed. With a journal, the one question is whether step 5
finished, answered by git itself: does a commit carrying the journal's run id exist in the
branch's history or reflog (or HEAD's)? Asking the history, not "is it HEAD", means a commit
someone made on top since, or a reset, can never make a publish that did commit look undone.

- **Committed** (killed after the ref moved): roll forward. SUBDIR already holds the committed
  tree; the index entries under SUBDIR are reset to HEAD and the retired tree is removed.
- **Not committed** (killed in steps 3-5 before the ref moved): roll back. If the staging tree
  still exists the swap never completed: it is removed and a retired tree is renamed back to
  SUBDIR. Otherwise SUBDIR holds the new tree: it is removed and the retired tree (if SUBDIR
  existed before) renamed back. Index entries under SUBDIR are reset to HEAD. The deploy repo is
  as before the killed run; this run then publishes afresh.

The journal is removed last, so a kill during recovery just makes the next run recover again.
The repo's index is written once, by ``git reset`` in step 6; a kill inside it can leave git's
``index.lock``, which git then reports (we pass its message on).

Tests trigger a SIGKILL at each step with ``NVPOLICY_PUBLISH_FAULT=<checkpoint>`` (``journal``,
``aside``, ``swap``, ``object``, ``commit``, ``cleanup``); nothing else sets that variable.
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
from nvpolicy.publish.git import Git, TreeEntry
from nvpolicy.publish.manifest import MANIFEST, parse_manifest, read_manifest, render_manifest

PREFIX = ".nvpolicy-publish."
JOURNAL = "nvpolicy-publish.journal"
PRIVATE_INDEX = "nvpolicy-publish.index"
FAULT_VARIABLE = "NVPOLICY_PUBLISH_FAULT"
RUN_TRAILER = "Nvpolicy-Run"


def checkpoint(name: str) -> None:
    """Die here, as a kill -9 would, when a test asks for it."""
    if os.environ.get(FAULT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Staged:
    directory: Path
    owned_before: frozenset[str]  # what the current SUBDIR's manifest says publish wrote
    new_owned: dict[str, bytes]   # files this publish writes, by path relative to SUBDIR


@dataclass(frozen=True)
class Prepared:
    head: str | None              # the commit the new one goes on top of; None on an unborn branch
    tree: str                     # the new commit's whole tree
    unchanged: bool               # the tree is HEAD's: nothing to commit
    old_owned: dict[str, bytes]   # owned files as HEAD holds them, for the counts


def _name(target: Path, role: str) -> Path:
    return target.parent / f"{PREFIX}{target.name}.{role}.{os.getpid()}"


def owned_paths(git: Git, target: Path, pathspec: str) -> set[str]:
    """What publish wrote into SUBDIR: the committed manifest, else (never committed) the one on disk.

    The committed one is the record: a checkout may have converted the file on disk
    (``working-tree-encoding``, line endings) into something we would misread.
    """
    entries = git.ls_tree(git.head(), f"{pathspec}/{MANIFEST}")
    committed = [entry for entry in entries if entry.mode in ("100644", "100755")]
    if committed:
        return parse_manifest(git.blobs([committed[0].sha])[0])
    return read_manifest(target)


def stage(target: Path, files: list[OutputFile], owned: set[str]) -> Staged:
    """Build the complete new SUBDIR next to ``target`` (rendered + foreign files + manifest)."""
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
        (staging / MANIFEST).write_bytes(render_manifest(new_owned).encode("utf-8"))
        _fsync_tree(staging)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot stage the new {target.name}/ next to it: {exc.strerror or exc}") from None
    return Staged(staging, frozenset(owned), new_owned)


def prepare(git: Git, staged: Staged, pathspec: str) -> Prepared:
    """The new commit's tree: HEAD's, with SUBDIR's owned files replaced by the staged ones' exact bytes.

    Runs at the top level of the deploy repo (``git``); touches neither its index nor its work tree.
    """
    head = git.head()
    before = git.ls_tree(head, pathspec)
    prefix = f"{pathspec}/"
    ours = staged.owned_before | {MANIFEST} | set(staged.new_owned)
    remove = [entry.path for entry in before if entry.path[len(prefix):] in ours]
    written = [*sorted(staged.new_owned), MANIFEST]
    staging = PurePosixPath(pathspec).parent / staged.directory.name
    shas = git.hash_files([Path(staging / relative) for relative in written])
    add = [TreeEntry("100644", sha, prefix + relative) for relative, sha in zip(written, shas, strict=True)]
    tree = git.write_tree(git.git_path(PRIVATE_INDEX), head, remove, add)
    old = [entry for entry in before if entry.path[len(prefix):] in staged.owned_before
           and entry.mode in ("100644", "100755")]
    contents = git.blobs([entry.sha for entry in old])
    old_owned = dict(zip([entry.path[len(prefix):] for entry in old], contents, strict=True))
    return Prepared(head, tree, tree == git.tree_of(head), old_owned)


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


def commit(git: Git, journal: Path, target: Path, pathspec: str, staged: Staged, prepared: Prepared,
           branch: str, message: str) -> str:
    """Swap the staged tree in and commit it; on a git failure, roll back and re-raise. Returns the commit."""
    run = uuid.uuid4().hex[:16]
    retired = _name(target, "retired")
    try:
        _write_journal(journal, {"subdir": pathspec, "branch": branch, "head": prepared.head, "run": run,
                                 "staging": staged.directory.name, "retired": retired.name})
    except OSError as exc:
        raise OutputError(f"cannot write the publish journal {journal}: {exc.strerror or exc}",
                          hint="check the deploy repo's .git directory (permissions, free space)") from None
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
        sha = git.commit_tree(prepared.tree, prepared.head, f"{message.rstrip()}\n\n{RUN_TRAILER}: {run}\n")
        checkpoint("object")
        git.move_branch(branch, sha, prepared.head, f"nvpolicy publish: {pathspec}")
    except NvPolicyError:
        recover(git, journal, target.parent)
        raise
    checkpoint("commit")
    git.reset_index(sha, pathspec)
    shutil.rmtree(retired, ignore_errors=True)
    checkpoint("cleanup")
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
        pathspec, run = str(record["subdir"]), str(record["run"])
        branch = record.get("branch")
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
    refs = [f"refs/heads/{branch}"] if isinstance(branch, str) and branch else []
    if any(git.carries(ref, f"{RUN_TRAILER}: {run}") for ref in [*refs, "HEAD"]):
        git.unstage(pathspec)
        shutil.rmtree(retired, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        outcome = f"completed the killed publish of {pathspec}/ (its commit is in the history)"
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
    # A fresh, random temp name created exclusively: never a file or symlink someone left there.
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def _fsync_tree(root: Path) -> None:
    for folder, _directories, names in os.walk(root):
        for name in names:
            if not (Path(folder) / name).is_symlink():
                fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


