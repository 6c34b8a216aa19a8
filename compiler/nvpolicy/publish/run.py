"""The order of a publish: check the request, render, lock, recover, check the target, stage, commit, push.

``publish()`` reads as that list; each step is one function, so a step (a gate before the
commit, say) is one more line there.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from nvpolicy.emit import OutputFile
from nvpolicy.errors import NvPolicyError
from nvpolicy.model import RenderedObject
from nvpolicy.pipeline import layout, load_policies, render_environment
from nvpolicy.publish.errors import DeployRepoError, DirtySourceError, PushRejectedError
from nvpolicy.publish.git import Git
from nvpolicy.publish.lock import publish_lock
from nvpolicy.publish.message import (
    Counts,
    Source,
    changed_files,
    commit_message,
    count_objects,
    widening_count,
)
from nvpolicy.publish.transaction import JOURNAL, commit, owned_paths, prepare, recover, stage
from nvpolicy.source import load_text

LOCK = "nvpolicy-publish.lock"


@dataclass(frozen=True)
class PublishRequest:
    project: Path
    env: str
    repo: Path
    subdir: str | None = None
    message: str | None = None
    branch: str | None = None
    push: str | None = None  # the remote to push to, None for no push
    allow_dirty: bool = False
    overrides: Sequence[str] = ()
    # Checked once the source is known clean, before the deploy repo is touched: returns the reason to
    # record when the gate is overridden (None when it passed), raises when it refuses.
    gate: Callable[[], str | None] | None = None


@dataclass(frozen=True)
class PublishResult:
    env: str
    directory: str  # SUBDIR relative to the deploy repo's top level
    branch: str
    commit: str | None  # short sha; None when nothing changed
    counts: Counts | None
    source: Source
    recovered: list[str] = field(default_factory=list)
    pushed: str | None = None  # git's summary of the push
    files: list[str] = field(default_factory=list)  # changed files, relative to the deploy repo's top level


def publish(request: PublishRequest) -> PublishResult:
    subdir = _check_subdir(request.subdir if request.subdir is not None else request.env)
    _check_not_the_sources(request.project, request.repo, subdir)
    deploy = _deploy_repo(request.repo)
    target, pathspec = _target(deploy, request.repo, subdir)
    source = _source(request.project, request.allow_dirty)
    gate_override = request.gate() if request.gate is not None else None
    rendered = render_environment(request.project, request.env, request.overrides, load_policies(request.project))
    files = layout(rendered.objects, "crds")

    def message(counts: Counts) -> str:
        return commit_message(request.env, source, counts, request.message, request.overrides, gate_override)

    recovered: list[str] = []
    with publish_lock(deploy.git_path(LOCK)) as lock:
        if lock.stale_holder:
            recovered.append(f"took over the lock left by a killed publish ({lock.stale_holder})")
        journal = deploy.git_path(JOURNAL)
        outcome = recover(deploy, journal, target.parent)
        if outcome:
            recovered.append(outcome)
        try:
            branch = _check_repo_state(deploy, request.repo, pathspec, request.branch)
            sha, counts, touched = _stage_and_commit(deploy, journal, target, pathspec, files, rendered.objects,
                                                     message, branch)
        except NvPolicyError as exc:
            # What recovery did is news even when this run then stops: say it with the refusal.
            if recovered:
                exc.hint = "; ".join([*([exc.hint] if exc.hint else []), *(f"note: {n}" for n in recovered)])
            raise
        pushed = _push(deploy, request.push, branch, sha) if request.push else None
    return PublishResult(request.env, pathspec, branch, sha, counts, source, recovered, pushed, touched)


def _stage_and_commit(deploy: Git, journal: Path, target: Path, pathspec: str, files: list[OutputFile],
                      objects: Sequence[RenderedObject], message: Callable[[Counts], str],
                      branch: str) -> tuple[str | None, Counts | None, list[str]]:
    """Stage SUBDIR, build its tree; commit it unless it is HEAD's.

    Returns (short sha, counts, changed files) or (None, None, []) when nothing changed.
    """
    staged = stage(target, files, owned_paths(deploy, target, pathspec))
    try:
        prepared = prepare(deploy, staged, pathspec)
        if prepared.unchanged:
            return None, None, []
        added, changed, removed = count_objects(prepared.old_owned, staged.new_owned)
        widening = widening_count(_parse(prepared.old_owned), [obj.data for obj in objects])
        counts = Counts(added, changed, removed, widening)
        sha = commit(deploy, journal, target, pathspec, staged, prepared, branch, message(counts))
        touched = [f"{pathspec}/{path}" for path in changed_files(prepared.old_owned, staged.new_owned)]
        return deploy.short(sha), counts, touched
    finally:
        # Swapped in when committed; otherwise (nothing to commit, or a failure) it is garbage.
        shutil.rmtree(staged.directory, ignore_errors=True)


def _deploy_repo(repo: Path) -> Git:
    """Git at the deploy repo's top level (pathspecs are relative to it), once it is known to be a work tree."""
    found = Git(repo)
    if not found.is_work_tree():
        raise DeployRepoError(f"--repo {repo} is not a git work tree",
                              hint=f"clone the deploy repo there, or create one: git init {repo}")
    return Git(found.top_level())


def _check_subdir(subdir: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in subdir):
        raise DeployRepoError(f"--dir {subdir!r} holds a control character (a newline, a tab, …)",
                              hint="name a plain directory, e.g. --dir prod")
    pure = PurePosixPath(subdir.replace("\\", "/"))
    if not subdir.strip() or pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts == (".",):
        raise DeployRepoError(f"--dir {subdir!r} must name a subdirectory of the deploy repo",
                              hint="e.g. --dir prod or --dir clusters/eu/prod")
    if ".git" in pure.parts or any(part.startswith(".nvpolicy-publish.") for part in pure.parts):
        raise DeployRepoError(f"--dir {subdir!r} names a directory git or nvpolicy keep for themselves",
                              hint="choose another --dir")
    return pure.as_posix()


def _target(deploy: Git, repo: Path, subdir: str) -> tuple[Path, str]:
    top = deploy.top_level().resolve()
    target = repo.resolve() / subdir
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise DeployRepoError(f"{target} exists and is not a plain directory",
                              hint="publish owns a real directory; choose another --dir")
    real = target.parent.resolve() / target.name
    if not real.is_relative_to(top) or real == top:
        raise DeployRepoError(f"--dir {subdir} leaves the deploy repo {top}",
                              hint="a symlink on the way points elsewhere; publish writes only inside the repo")
    return real, real.relative_to(top).as_posix()


def _check_not_the_sources(project: Path, repo: Path, subdir: str) -> None:
    """SUBDIR is replaced whole: it may neither hold nor lie inside the policy project's sources.

    ``publish --repo . --dir policies`` (or a --dir that contains the project) would mix rendered
    output into the sources, or make sources files publish owns and removes. Checked first, on
    the real paths (symlinks followed), before git or anything else runs.
    """
    root = project.resolve()
    target = (repo / subdir).resolve()
    if root.is_relative_to(target):
        raise DeployRepoError(f"--repo {repo} --dir {subdir} is {target}, which holds the policy project {root}",
                              hint="publish into a separate deploy repo (or another directory), e.g. --repo ../deploy")
    for source in (root / "policies", root / "environments"):
        real = source.resolve()
        if target == real or target.is_relative_to(real) or real.is_relative_to(target):
            raise DeployRepoError(
                f"--repo {repo} --dir {subdir} is {target}, which overlaps the policy sources {real}",
                hint="publish into a separate deploy repo (or another directory), e.g. --repo ../deploy")


def _source(project: Path, allow_dirty: bool) -> Source:
    git = Git(project)
    in_git = git.is_work_tree()
    head = git.head() if in_git else None
    changes = git.status() if in_git else []
    source = Source(git.short(head) if head else None, not in_git or head is None or bool(changes),
                    git.branch() if head else None)
    if source.dirty and not allow_dirty:
        hint = "commit first, or pass --allow-dirty (the commit message then says dirty)"
        why, shown = "has uncommitted changes", ""
        if not in_git:
            why = "is not in a git repository"
        elif head is None:
            why = "has no commit yet"
        else:
            # Say which files: a forgotten `rendered/` or `.venv/` is the usual surprise.
            shown = ":\n    " + "\n    ".join(changes[:5]) + ("\n    …" if len(changes) > 5 else "")
            hint += "; generated output (rendered/, reports/, .venv/) belongs in .gitignore"
        raise DirtySourceError(f"the policy project {project} {why}, so the commit could not name its source{shown}",
                               hint=hint)
    return source


def _check_repo_state(deploy: Git, repo: Path, pathspec: str, wanted: str | None) -> str:
    operation = deploy.in_progress()
    if operation:
        raise DeployRepoError(f"the deploy repo {repo} has {operation} in progress",
                              hint=f"finish or abort it first (git -C {repo} status says how)")
    branch = deploy.branch()
    if branch is None:
        raise DeployRepoError(f"the deploy repo {repo} has a detached HEAD",
                              hint=f"check out the branch to publish to: git -C {repo} switch <branch>")
    if wanted and wanted != branch:
        if deploy.head() is not None:
            raise DeployRepoError(f"the deploy repo {repo} has branch {branch} checked out, not {wanted}",
                                  hint=f"git -C {repo} switch {wanted} (publish never switches branches: "
                                       "that would touch files outside its directory)")
        deploy.set_unborn_branch(wanted)  # an empty repo: the first commit starts the branch
        branch = wanted
    changes = _changes(deploy, pathspec)
    if changes:
        shown = "\n    ".join(changes[:5]) + ("\n    …" if len(changes) > 5 else "")
        raise DeployRepoError(f"the deploy repo has uncommitted changes under {pathspec}/:\n    {shown}",
                              hint=f"commit, stash or discard them first (git -C {repo} status -- {pathspec})")
    return branch


def _changes(deploy: Git, pathspec: str) -> list[str]:
    """Uncommitted changes under pathspec, as ``git status`` lines.

    A file git calls modified only through the repo's attributes (``ident``,
    ``working-tree-encoding``, a line-ending rule) while its bytes are exactly the index blob is not
    a change: publish wrote those bytes. Staged, untracked and deleted entries always count.
    """
    entries = deploy.status_entries([pathspec])
    modified = [path for code, path in entries if code == " M"]
    same = deploy.same_bytes_as_index(modified)
    return [f"{code} {path}" for code, path in entries if not (code == " M" and path in same)]


def _parse(files: Mapping[str, bytes]) -> list[Mapping[str, Any]]:
    objects: list[Mapping[str, Any]] = []
    for path, data in sorted(files.items()):
        if path == "kustomization.yaml" or not path.endswith(".yaml"):
            continue
        try:
            objects.extend(doc.data for doc in load_text(data.decode("utf-8"), path) if isinstance(doc.data, dict))
        except (NvPolicyError, UnicodeDecodeError):
            continue  # an unreadable old file only costs the widening count, never the publish
    return objects


def _push(deploy: Git, remote: str, branch: str, sha: str | None) -> str:
    if remote not in deploy.remotes():
        raise PushRejectedError(f"the deploy repo has no remote named {remote!r}"
                                + (f"; {sha} is committed locally" if sha else ""),
                                hint="add it with git remote add, or name another: --push REMOTE")
    result = deploy.push(remote, branch)
    if result.returncode == 0:
        return "up to date" if "[up to date]" in result.stdout else f"pushed {branch} to {remote}"
    detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
    text = " ".join(line.strip() for line in detail if line.strip())
    kept = f"; {sha} stays committed locally" if sha else ""
    if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
        raise PushRejectedError(
            f"the push of {branch} to {remote} was rejected: the remote has commits this repo lacks{kept}",
            hint=f"git -C {deploy.path} pull --rebase {remote} {branch}, then publish again with --push")
    raise PushRejectedError(f"the push of {branch} to {remote} failed{kept}: {text}",
                            hint="check the remote's URL and your access, then publish again with --push")
