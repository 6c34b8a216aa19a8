"""A thin typed wrapper over the ``git`` command line: real git, clear errors, nothing hidden.

Only the handful of operations ``publish`` needs. Every call runs ``git -C <repo>`` with the
caller's environment, so author/committer come from the git config or the usual ``GIT_*``
variables, exactly as for a person typing the command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nvpolicy.errors import NvPolicyError


class GitError(NvPolicyError):
    """A git command failed, or git is missing."""


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str


# Files git leaves in the git dir while a multi-step operation waits for the user.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or git am",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


# Pathspecs are file names, never globs or magic: a directory called `[a]` means itself.
_ENV = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C"}


class Git:
    """One repository (or a directory inside one) that git commands run in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if shutil.which("git") is None:
            raise GitError("git is not installed (or not on PATH)", hint="install git; publish commits with real git")

    def run(self, *args: str, check: bool = True, what: str | None = None, stdin: str | None = None) -> GitResult:
        """Run ``git -C path ARGS``; raise GitError with git's own message when ``check`` and it fails."""
        command = ["git", "-C", str(self.path), *args]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, env=_ENV)
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        result = GitResult(done.returncode, done.stdout, done.stderr)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip() or f"exit code {result.returncode}"
            raise GitError(f"{what or 'git ' + ' '.join(args)} failed in {self.path}: {detail}")
        return result

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
        found = Path(self.out("rev-parse", "--git-path", name))
        return found if found.is_absolute() else self.path / found

    def head(self) -> str | None:
        """The commit HEAD points at, or None on an unborn branch."""
        result = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def message(self, commit: str) -> str:
        return self.run("log", "-1", "--format=%B", commit).stdout

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
        for name, what in _IN_PROGRESS.items():
            if self.git_path(name).exists():
                return what
        return None

    def status(self, pathspecs: Sequence[str] = ()) -> list[str]:
        """``git status --porcelain`` lines (untracked files included) for the pathspecs, or the whole tree."""
        args = ["status", "--porcelain=v1", "--untracked-files=all", "--ignore-submodules=none"]
        text = self.run(*args, "--", *pathspecs).stdout
        return [line for line in text.splitlines() if line]

    def add_all(self, pathspec: str) -> None:
        self.run("add", "--all", "--", pathspec)

    def unstage(self, pathspec: str) -> None:
        """Make the index hold HEAD's version of pathspec again (nothing for an unborn branch)."""
        if self.head() is None:
            self.run("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", pathspec)
        else:
            self.run("reset", "-q", "HEAD", "--", pathspec)

    def commit_only(self, pathspec: str, message: str) -> str:
        """Commit exactly pathspec's staged content (other staged paths stay staged, uncommitted)."""
        done = self.run("commit", "--quiet", "--no-verify", "--only", "-F", "-", "--", pathspec, check=False,
                        stdin=message)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()
            hint = None
            if "Please tell me who you are" in detail or "empty ident" in detail:
                hint = "set user.name/user.email in the deploy repo's git config, or GIT_AUTHOR_*/GIT_COMMITTER_*"
            raise GitError(f"git commit failed in {self.path}: {detail}", hint=hint)
        head = self.head()
        assert head is not None  # a commit just succeeded
        return head

    def push(self, remote: str, branch: str) -> GitResult:
        """Push branch to the same name on remote; the caller interprets a failure."""
        return self.run("push", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}", check=False)

    def remotes(self) -> list[str]:
        return self.out("remote").split()
