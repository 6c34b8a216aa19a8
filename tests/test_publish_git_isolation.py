"""Git is the deploy repo's alone: no caller's GIT_* variables, no hook, no program named in git config runs.

Each case sets up what a git hook, a CI runner or a user's config really does, with real git,
and checks three things: the commit lands in the deploy repo (and nowhere else), no program we
planted ran (each writes a marker file), and the committed blobs are the bytes publish wrote.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import NVPOLICY, tree_bytes
from tests.publish_helpers import GIT_ENV, commit_all, commit_count, git, head, init_repo, publish

# Every hook git can run around a commit, an index write, a ref update, a gc, a checkout or a push.
HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-index-change",
         "reference-transaction", "pre-auto-gc", "post-rewrite", "post-checkout", "pre-push",
         "pre-merge-commit", "post-merge", "fsmonitor-watchman")


@pytest.fixture
def source(example_project: Path) -> Path:
    init_repo(example_project)
    commit_all(example_project, "policies")
    return example_project


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "deploy", {"README.md": "deploy repo\n"})


def planted(tmp_path: Path, name: str, fail: bool = True) -> Path:
    """A program that appends "<its name> <cwd>" to tmp_path/ran (and fails), so running it is seen (and felt)."""
    program = tmp_path / "programs" / name
    program.parent.mkdir(exist_ok=True)
    program.write_text(f'#!/bin/sh\necho "{name} $(pwd)" >> {shlex.quote(str(tmp_path / "ran"))}\n'
                       f"cat >/dev/null 2>&1\nexit {int(fail)}\n", encoding="utf-8")
    program.chmod(0o755)
    return program


def ran(tmp_path: Path) -> list[str]:
    log = tmp_path / "ran"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def hook_dir(tmp_path: Path, name: str, fail: bool = True) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for hook in HOOKS:
        (folder / hook).symlink_to(planted(tmp_path, f"{name}-{hook}", fail))
    return folder


def assert_committed_exactly(deploy: Path, subdir: str = "dev") -> None:
    """HEAD holds SUBDIR exactly as on disk: the same files, each blob the bytes on disk."""
    on_disk = tree_bytes(deploy / subdir)
    listed = git(deploy, "ls-tree", "-r", "--name-only", "HEAD", f"{subdir}/").splitlines()
    assert sorted(listed) == sorted(f"{subdir}/{path}" for path in on_disk)
    for path, data in on_disk.items():
        blob = git_bytes(deploy, "cat-file", "blob", f"HEAD:{subdir}/{path}")
        assert blob == data, path


def git_bytes(cwd: Path, *args: str) -> bytes:
    import os
    import subprocess

    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=True,
                          env={**os.environ, **GIT_ENV}).stdout


def test_publish_from_a_policy_repo_hook_commits_into_the_deploy_repo_only(
        source: Path, deploy: Path, tmp_path: Path) -> None:
    """A pre-commit hook of the policy repo runs publish, under `git -c core.hooksPath=… commit -a`."""
    hooks = hook_dir(tmp_path, "policy-hooks", fail=False)  # the policy repo's own commit must go through
    (hooks / "pre-commit").unlink()
    (hooks / "pre-commit").write_text(
        "#!/bin/sh\n"
        f"{shlex.quote(str(NVPOLICY))} -C {shlex.quote(str(source))} publish --env dev --allow-dirty "
        f"--repo {shlex.quote(str(deploy))} > {shlex.quote(str(tmp_path / 'out'))} 2>&1\n"
        f"echo $? > {shlex.quote(str(tmp_path / 'rc'))}\n", encoding="utf-8")
    (hooks / "pre-commit").chmod(0o755)
    (source / "policies" / "postgres.yaml").write_text(
        (source / "policies" / "postgres.yaml").read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    policy_before = commit_count(source)
    # The hook sees GIT_INDEX_FILE (the policy repo's temporary index), GIT_CONFIG_PARAMETERS
    # (this hooksPath), GIT_PREFIX, GIT_EDITOR, GIT_AUTHOR_DATE, …
    git(source, "-c", f"core.hooksPath={hooks}", "commit", "-a", "-q", "-m", "reviewed")
    output = (tmp_path / "out").read_text(encoding="utf-8")
    assert (tmp_path / "rc").read_text(encoding="utf-8").strip() == "0", output
    assert "dev: committed" in output
    assert commit_count(deploy) == 2 and commit_count(source) == policy_before + 1
    assert git(source, "show", "--name-only", "--format=", "HEAD").splitlines() == ["policies/postgres.yaml"]
    assert any(str(source) in line for line in ran(tmp_path))  # the policy repo's hooks did run, for it
    assert not [line for line in ran(tmp_path) if str(deploy) in line], ran(tmp_path)
    assert_committed_exactly(deploy)
    assert git(deploy, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_callers_git_variables_pointing_at_the_policy_repo_are_ignored(
        source: Path, deploy: Path, tmp_path: Path) -> None:
    """What a hook or a CI runner exports: GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, objects, config, namespace…"""
    hooks = hook_dir(tmp_path, "caller-hooks")
    policy_git = source / ".git"
    index_before = (policy_git / "index").read_bytes()
    refs_before = git(source, "for-each-ref", "--format=%(refname) %(objectname)")
    caller = {
        "GIT_DIR": str(policy_git), "GIT_WORK_TREE": str(source), "GIT_INDEX_FILE": str(policy_git / "index"),
        "GIT_OBJECT_DIRECTORY": str(policy_git / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(policy_git / "objects"),
        "GIT_COMMON_DIR": str(policy_git), "GIT_NAMESPACE": "hijacked", "GIT_PREFIX": "policies/",
        "GIT_CEILING_DIRECTORIES": str(deploy), "GIT_DISCOVERY_ACROSS_FILESYSTEM": "0",
        "GIT_CONFIG_PARAMETERS": f"'core.hooksPath'='{hooks}'",
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath", "GIT_CONFIG_VALUE_0": str(hooks),
        "GIT_EXEC_PATH": str(tmp_path / "no-git-here"), "GIT_TRACE": str(tmp_path / "trace"),
        "GIT_GLOB_PATHSPECS": "1", "GIT_ICASE_PATHSPECS": "1", "GIT_REPLACE_REF_BASE": "refs/hijacked/",
        "GIT_INDEX_VERSION": "2", "GIT_TEMPLATE_DIR": str(hooks),
    }
    result = publish(source, deploy, extra_env=caller)
    assert result.returncode == 0, result.stderr
    assert "dev: committed" in result.stdout and f"in {deploy}" in result.stdout
    assert commit_count(deploy) == 2
    assert_committed_exactly(deploy)
    assert (policy_git / "index").read_bytes() == index_before
    assert git(source, "for-each-ref", "--format=%(refname) %(objectname)") == refs_before
    assert git(source, "status", "--porcelain") == ""
    assert ran(tmp_path) == [] and not (tmp_path / "trace").exists()


def test_the_deploy_repos_hooks_never_run(source: Path, deploy: Path, tmp_path: Path) -> None:
    """Hooks in .git/hooks and in a core.hooksPath of the repo's config, through commit, recovery and push."""
    for hook in HOOKS:
        (deploy / ".git" / "hooks" / hook).symlink_to(planted(tmp_path, f"git-dir-{hook}"))
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(deploy, "remote", "add", "origin", str(remote))
    first = publish(source, deploy, "--push")
    assert first.returncode == 0, first.stderr
    assert "dev: committed" in first.stdout and "pushed main to origin" in first.stdout
    git(deploy, "config", "core.hooksPath", str(hook_dir(tmp_path, "config-hooks")))
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    killed = publish(source, deploy, extra_env={"NVPOLICY_PUBLISH_FAULT": "commit"})
    assert killed.returncode < 0
    recovered = publish(source, deploy, "--push")
    assert recovered.returncode == 0, recovered.stderr
    assert "completed the killed publish" in recovered.stderr
    assert ran(tmp_path) == []
    assert_committed_exactly(deploy)
    assert git(remote, "rev-parse", "main") == head(deploy)


CONFIG_PROGRAMS = {
    # commit.gpgSign in the user's config: gpg (here a program that fails) would sign, or hang on a pinentry.
    "gpg-sign": ("global", {"commit.gpgSign": "true", "gpg.program": "PROGRAM", "user.signingKey": "ABC"}, None),
    # core.fsmonitor names a program git runs on every status.
    "fsmonitor": ("local", {"core.fsmonitor": "PROGRAM"}, None),
    # .gitattributes (the deploy repo's authors) names a filter the user's config defines.
    "filter": ("global", {"filter.evil.clean": "PROGRAM", "filter.evil.smudge": "PROGRAM",
                          "filter.evil.process": "PROGRAM", "filter.evil.required": "true"}, "* filter=evil\n"),
    # A diff driver and textconv (publish never diffs, and must not start to).
    "diff-driver": ("global", {"diff.evil.command": "PROGRAM", "diff.evil.textconv": "PROGRAM"},
                    "* diff=evil\n"),
    # Comment stripping that would eat the Nvpolicy-Run trailer, a template and an editor.
    "message-rewrite": ("local", {"commit.cleanup": "strip", "core.commentChar": "N",
                                  "commit.template": "PROGRAM", "core.editor": "PROGRAM"}, None),
    # Recovery reads the log: no signature check, no pager; no auto-gc after a commit.
    "gc-and-signatures": ("local", {"gc.auto": "1", "log.showSignature": "true", "gpg.program": "PROGRAM",
                                    "core.pager": "PROGRAM", "pager.log": "PROGRAM"}, None),
}
# Cases whose settings matter to recovery too: a kill after the commit must still be recognised.
RECOVERY_CASES = {"message-rewrite", "gc-and-signatures"}


@pytest.mark.parametrize("case", sorted(CONFIG_PROGRAMS))
def test_programs_named_in_git_config_never_run(source: Path, deploy: Path, tmp_path: Path, case: str) -> None:
    scope, settings, attributes = CONFIG_PROGRAMS[case]
    program = str(planted(tmp_path, case))
    extra: dict[str, str] = {}
    if attributes:
        (deploy / ".gitattributes").write_text(attributes, encoding="utf-8")
        git(deploy, "add", ".gitattributes")
        git(deploy, "commit", "-q", "-m", "attributes")
    config = tmp_path / "global.gitconfig"
    for key, value in settings.items():
        value = program if value == "PROGRAM" else value
        if scope == "global":
            git(deploy, "config", "--file", str(config), key, value)
        else:
            git(deploy, "config", key, value)
    if scope == "global":
        extra["GIT_CONFIG_GLOBAL"] = str(config)
    before = commit_count(deploy)
    fault = {"NVPOLICY_PUBLISH_FAULT": "commit"} if case in RECOVERY_CASES else {}
    first = publish(source, deploy, extra_env={**extra, **fault})
    assert first.returncode == (-9 if fault else 0), first.stderr
    assert commit_count(deploy) == before + 1
    assert "gpgsig" not in git(deploy, "cat-file", "-p", "HEAD")
    assert "Nvpolicy-Run: " in git(deploy, "log", "-1", "--format=%B")
    # A second run finds nothing to do (and, after a kill, recognises the commit by its trailer).
    again = publish(source, deploy, extra_env=extra)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout
    assert ("completed the killed publish" in again.stderr) == bool(fault)
    assert ran(tmp_path) == []
    assert_committed_exactly(deploy)
