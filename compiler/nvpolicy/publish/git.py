"""A thin typed wrapper over the ``git`` command line: real git, clear errors, nothing hidden.

Only the handful of operations ``publish`` needs. Git is the deploy repo's alone, whoever calls us:

- **One clean environment.** Every ``GIT_*`` variable is dropped except the few that say who the
  user is, which config files are theirs, and how they reach a remote (``_KEEP``). Inside a git
  hook or some CI runners ``GIT_DIR``, ``GIT_INDEX_FILE``, ``GIT_WORK_TREE``,
  ``GIT_OBJECT_DIRECTORY``, ``GIT_CONFIG_PARAMETERS``… point at *another* repository; honouring
  them would commit into that one (``git -C`` does not override them).
- **Nothing of the deploy repo runs.** ``_SAFE_CONFIG`` is given with ``-c`` on every call (the
  command line beats every config file): no hooks (``core.hooksPath`` is ``/dev/null``, so not
  even ``reference-transaction`` or ``post-index-change``), no fsmonitor program, no signing
  (``gpg`` waiting for a passphrase would hang a CI job), no auto-gc, and every ``filter.<name>``
  driver the config defines is emptied (``filters_off``): a ``.gitattributes`` line may name a
  filter from the user's own config, whose ``clean`` command would otherwise run on our files.
- **Bytes are ours.** Files are committed with ``hash-object --no-filters`` and a private index
  (``transaction.py``), never ``git add``: ``eol=crlf``, ``core.autocrlf``, ``ident`` or
  ``working-tree-encoding`` cannot change what is committed, and ``.gitignore`` cannot drop it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from nvpolicy.errors import NvPolicyError


class GitError(NvPolicyError):
    """A git command failed, or git is missing."""


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    sha: str
    path: str  # relative to the repo's top level


# Files git leaves in the git dir while a multi-step operation waits for the user.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or git am",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}

# The GIT_* variables a caller's environment may pass on: identity, the user's own config files,
# and transport/credentials for --push. Everything else (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE,
# GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES, GIT_COMMON_DIR, GIT_NAMESPACE,
# GIT_CEILING_DIRECTORIES, GIT_CONFIG_PARAMETERS/COUNT/KEY_n/VALUE_n, GIT_EXEC_PATH, GIT_TRACE*,
# GIT_*_PATHSPECS, GIT_ATTR_*, GIT_REPLACE_REF_BASE, …) describes someone else's repository or
# changes what git does, and is dropped.
_KEEP = frozenset({
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
    "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_ASKPASS", "GIT_TERMINAL_PROMPT",
    "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_CERT", "GIT_SSL_KEY", "GIT_PROXY_COMMAND",
    "GIT_HTTP_USER_AGENT",
})

# Given on every call with -c, so no config file of the deploy repo (or the user) can turn them on.
_SAFE_CONFIG = (
    f"core.hooksPath={os.devnull}",  # no hook runs: commit, index, ref-transaction, gc, push hooks
    "core.fsmonitor=false",           # a program named here would run on every status
    "commit.gpgSign=false",           # pinentry would hang a CI job, or fail it without a key
    "log.showSignature=false",        # `git log` would run gpg to verify
    "gc.auto=0",                      # no background gc (and no pre-auto-gc hook)
    "maintenance.auto=false",
    "core.logAllRefUpdates=true",     # our commit is in the reflog, where recovery looks for it
    "core.safecrlf=false",            # warnings about line endings never fail a comparison
    "i18n.commitEncoding=UTF-8",      # the message is UTF-8; no re-encoding header
)


def clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without the GIT_* variables that describe another repository."""
    env = {key: value for key, value in environ.items() if not key.startswith("GIT_") or key in _KEEP}
    # Pathspecs are file names, never globs or magic: a directory called `[a]` means itself.
    env["GIT_LITERAL_PATHSPECS"] = "1"
    env["LC_ALL"] = "C"  # git's messages are matched (identity errors, push rejections)
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `status` never rewrites the index behind the user's back
    return env


class Git:
    """One repository (or a directory inside one) that git commands run in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if shutil.which("git") is None:
            raise GitError("git is not installed (or not on PATH)", hint="install git; publish commits with real git")
        self._env = clean_environment(os.environ)

    def run(self, *args: str, check: bool = True, what: str | None = None, stdin: str | None = None,
            index: Path | None = None) -> GitResult:
        """Run ``git -C path ARGS``; raise GitError with git's own message when ``check`` and it fails.

        ``index`` makes the command use that index file instead of the repo's (our private index).
        """
        data = stdin.encode("utf-8") if stdin is not None else None
        done = self._run_bytes([*self.filters_off, *args], data, index)
        result = GitResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                           done.stderr.decode("utf-8", "replace"))
        if check and result.returncode != 0:
            raise GitError(f"{what or 'git ' + ' '.join(args)} failed in {self.path}: {_detail(result)}")
        return result

    def _run_bytes(self, args: Sequence[str], stdin: bytes | None = None,
                   index: Path | None = None) -> subprocess.CompletedProcess[bytes]:
        safe = [part for setting in _SAFE_CONFIG for part in ("-c", setting)]
        command = ["git", "--no-pager", *safe, "-C", str(self.path), *args]
        env = self._env if index is None else {**self._env, "GIT_INDEX_FILE": str(index)}
        try:
            return subprocess.run(command, input=stdin, capture_output=True, check=False, env=env)
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None

    @cached_property
    def filters_off(self) -> list[str]:
        """``-c filter.<name>.clean=`` (and smudge, process, required) for every filter the config defines.

        An empty command disables a filter driver; listing the names is the only way, since
        ``.gitattributes`` (which the deploy repo's authors control) may name any of them.
        """
        done = self._run_bytes(["config", "--name-only", "--get-regexp", r"^filter\."])
        names = {line.rsplit(".", 1)[0][len("filter."):]
                 for line in done.stdout.decode("utf-8", "replace").splitlines() if line.count(".") >= 2}
        return [part for name in sorted(names)
                for key in ("clean=", "smudge=", "process=", "required=false")
                for part in ("-c", f"filter.{name}.{key}")]

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def is_work_tree(self) -> bool:
        if not self.path.is_dir():
            return False
        result = self.run("rev-parse", "--is-inside-work-tree", check=False)
        return result.returncode == 0 and result.stdout.strip() == "true"

    def top_level(self) -> Path:
        return Path(self.out("rev-parse", "--show-toplevel"))

    def git_path(self, name: str) -> Path:
        """A path inside the git dir (per work tree), e.g. for our lock and journal."""
        return self.git_paths([name])[0]

    def git_paths(self, names: Sequence[str]) -> list[Path]:
        """Several git-dir paths in one call (names are our constants: no newline)."""
        text = self.run("rev-parse", *[part for name in names for part in ("--git-path", name)]).stdout
        found = [Path(line) for line in text.splitlines()]
        return [path if path.is_absolute() else self.path / path for path in found]

    def head(self) -> str | None:
        """The commit HEAD points at, or None on an unborn branch."""
        result = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def tree_of(self, commit: str | None) -> str | None:
        return self.out("rev-parse", f"{commit}^{{tree}}") if commit else None

    def short(self, commit: str) -> str:
        return self.out("rev-parse", "--short", commit)

    def branch(self) -> str | None:
        """The checked-out branch, None when HEAD is detached."""
        result = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def set_unborn_branch(self, name: str) -> None:
        self.run("symbolic-ref", "HEAD", f"refs/heads/{name}")

    def in_progress(self) -> str | None:
        """What multi-step operation is waiting for the user (a merge, a rebase, …), if any."""
        for path, what in zip(self.git_paths(list(_IN_PROGRESS)), _IN_PROGRESS.values(), strict=True):
            if path.exists():
                return what
        return None

    def status(self, pathspecs: Sequence[str] = ()) -> list[str]:
        """``git status --porcelain`` lines (untracked files included) for the pathspecs, or the whole tree."""
        return [f"{code} {path}" for code, path in self.status_entries(pathspecs)]

    def status_entries(self, pathspecs: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(XY code, path) of ``git status --porcelain -z``: paths raw, never quoted."""
        args = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=none"]
        records = iter(self.run(*args, "--", *pathspecs).stdout.split("\0"))
        entries = []
        for record in records:
            if len(record) < 4:
                continue
            code, path = record[:2], record[3:]
            if code[0] in "RC":
                next(records, None)  # the rename's origin follows as its own record
            entries.append((code, path))
        return entries

    def same_bytes_as_index(self, paths: Sequence[str]) -> set[str]:
        """Which work-tree files hold exactly their index blob's bytes and executable bit.

        ``git status`` compares through the repo's attributes (eol, ident, working-tree-encoding),
        so a file we wrote byte for byte can look modified; this asks the question without them.
        """
        staged: dict[str, tuple[str, str]] = {}
        if paths:
            text = self.run("ls-files", "-s", "-z", "--", *paths).stdout
            for record in text.split("\0"):
                if record:
                    info, path = record.split("\t", 1)
                    mode, sha, _stage = info.split()
                    staged[path] = (mode, sha)
        regular = [path for path in paths
                   if "\n" not in path and path in staged and staged[path][0] in ("100644", "100755")
                   and (self.path / path).is_file() and not (self.path / path).is_symlink()]
        shas = self.hash_files([Path(path) for path in regular], write=False)
        return {path for path, sha in zip(regular, shas, strict=True)
                if sha == staged[path][1]
                and (staged[path][0] == "100755") == os.access(self.path / path, os.X_OK)}

    def ls_tree(self, commit: str | None, pathspec: str) -> list[TreeEntry]:
        """Every blob, link and submodule below pathspec in commit (run at the top level)."""
        if commit is None:
            return []
        text = self.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", pathspec).stdout
        entries = []
        for record in text.split("\0"):
            if record:
                info, path = record.split("\t", 1)
                mode, _kind, sha = info.split()
                entries.append(TreeEntry(mode, sha, path))
        return entries

    def blobs(self, shas: Sequence[str]) -> list[bytes]:
        """The contents of blobs, exactly as stored (``cat-file --batch``: no filter, no conversion)."""
        if not shas:
            return []
        done = self._run_bytes(["cat-file", "--batch"], "".join(f"{sha}\n" for sha in shas).encode())
        if done.returncode != 0:
            raise GitError(f"git cat-file failed in {self.path}: {done.stderr.decode('utf-8', 'replace').strip()}")
        data, found, at = done.stdout, [], 0
        for sha in shas:
            end = data.index(b"\n", at)
            header = data[at:end].split()
            if len(header) != 3:
                raise GitError(f"git cat-file found no blob {sha} in {self.path}")
            size = int(header[2])
            found.append(data[end + 1:end + 1 + size])
            at = end + 1 + size + 1
        return found

    def hash_files(self, files: Sequence[Path], write: bool = True) -> list[str]:
        """Each file's bytes as a blob id, unfiltered (no eol, ident, encoding or filter driver); ``write``
        stores the blobs. Paths are relative to ``path`` and hold no newline (``run.py`` refuses one)."""
        if not files:
            return []
        stdin = "".join(f"{path}\n" for path in files)
        shas = self.run("hash-object", *(["-w"] if write else []), "--no-filters", "--stdin-paths",
                        stdin=stdin).stdout.split()
        if len(shas) != len(files):
            raise GitError(f"git hash-object returned {len(shas)} ids for {len(files)} files in {self.path}")
        return shas

    def write_tree(self, index: Path, base: str | None, remove: Sequence[str],
                   add: Sequence[TreeEntry]) -> str:
        """The tree of ``base`` with ``remove`` taken out and ``add`` put in, built in a private index."""
        index.unlink(missing_ok=True)
        try:
            self.run("read-tree", *([base] if base else ["--empty"]), index=index)
            if remove:
                self.run("update-index", "--force-remove", "-z", "--stdin", index=index,
                         stdin="".join(f"{path}\0" for path in remove))
            if add:
                self.run("update-index", "--add", "-z", "--index-info", index=index,
                         stdin="".join(f"{e.mode} {e.sha}\t{e.path}\0" for e in add))
            return self.run("write-tree", index=index).stdout.strip()
        finally:
            index.unlink(missing_ok=True)

    def commit_tree(self, tree: str, parent: str | None, message: str) -> str:
        """A commit object of tree, message verbatim (no cleanup, no template, no editor, no hook)."""
        parents = ["-p", parent] if parent else []
        done = self.run("commit-tree", "--no-gpg-sign", tree, *parents, "-F", "-", stdin=message, check=False)
        if done.returncode != 0:
            detail = _detail(done)
            hint = None
            if "Please tell me who you are" in detail or "empty ident" in detail:
                hint = "set user.name/user.email in the deploy repo's git config, or GIT_AUTHOR_*/GIT_COMMITTER_*"
            raise GitError(f"git commit failed in {self.path}: {detail}", hint=hint)
        return done.stdout.strip()

    def move_branch(self, branch: str, new: str, old: str | None, reason: str) -> None:
        """Point refs/heads/branch at new, only if it still points at old (None: does not exist yet)."""
        self.run("update-ref", "-m", reason, f"refs/heads/{branch}", new, old or "",
                 what=f"moving {branch} to the new commit")

    def reset_index(self, commit: str | None, pathspec: str) -> None:
        """Make the index hold commit's version of pathspec (nothing for an unborn branch); no work tree change."""
        if commit is None:
            # Not `git rm --cached`: it reads the work tree to decide whether it may. Drop the entries.
            staged = [path for path in self.run("ls-files", "-z", "--", pathspec).stdout.split("\0") if path]
            if staged:
                self.run("update-index", "--force-remove", "-z", "--stdin", stdin="".join(f"{p}\0" for p in staged))
        else:
            self.run("reset", "-q", commit, "--", pathspec)

    def unstage(self, pathspec: str) -> None:
        """Make the index hold HEAD's version of pathspec again (nothing for an unborn branch)."""
        self.reset_index(self.head(), pathspec)

    def carries(self, ref: str, needle: str) -> bool:
        """Whether a commit in ref's history or reflog has ``needle`` in its message (a fixed string)."""
        for walk in ([ref], ["-g", ref]):
            found = self.run("log", "--format=%H", "-F", f"--grep={needle}", "-n1", *walk, "--", check=False)
            if found.returncode == 0 and found.stdout.strip():
                return True
        return False

    def push(self, remote: str, branch: str) -> GitResult:
        """Push branch to the same name on remote; the caller interprets a failure."""
        return self.run("push", "--porcelain", "--no-verify", remote, f"refs/heads/{branch}:refs/heads/{branch}",
                        check=False)

    def remotes(self) -> list[str]:
        return self.out("remote").split()


def _detail(result: GitResult) -> str:
    return (result.stderr or result.stdout).strip() or f"exit code {result.returncode}"
