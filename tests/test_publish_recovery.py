"""A publish killed at each step, the lock, and leftovers: the deploy repo ends as before or fully committed."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from nvpolicy.publish.lock import publish_lock

from tests.conftest import tree_bytes
from tests.publish_helpers import commit_all, commit_count, git, head, init_repo, leftovers, publish

BEFORE_COMMIT = ["journal", "aside", "swap", "object"]


@pytest.fixture
def source(example_project: Path) -> Path:
    init_repo(example_project)
    commit_all(example_project, "policies")
    return example_project


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "deploy", {"README.md": "deploy repo\n"})


def change_source(source: Path) -> None:
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")


def killed(source: Path, deploy: Path, checkpoint: str) -> None:
    result = publish(source, deploy, extra_env={"NVPOLICY_PUBLISH_FAULT": checkpoint})
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    # Killed half-way: the repo shows the run's traces until the next publish recovers.
    assert git(deploy, "status", "--porcelain", "--untracked-files=all") != ""


def assert_consistent(deploy: Path) -> None:
    assert git(deploy, "status", "--porcelain", "--untracked-files=all") == ""
    assert leftovers(deploy) == []
    assert not (deploy / ".git" / "nvpolicy-publish.journal").exists()


@pytest.mark.parametrize("checkpoint", BEFORE_COMMIT)
def test_kill_before_the_commit_rolls_back_to_the_previous_state(
        source: Path, deploy: Path, checkpoint: str) -> None:
    assert publish(source, deploy).returncode == 0
    before, snapshot = head(deploy), tree_bytes(deploy / "dev")
    change_source(source)
    killed(source, deploy, checkpoint)
    assert head(deploy) == before
    # Publish the old policy again: recovery must restore exactly the old tree, so nothing is left to commit.
    git(source, "reset", "-q", "--hard", "HEAD~1")
    rerun = publish(source, deploy)
    assert rerun.returncode == 0, rerun.stderr
    assert "rolled back the uncommitted publish of dev/" in rerun.stderr
    assert "no changes" in rerun.stdout
    assert head(deploy) == before
    assert tree_bytes(deploy / "dev") == snapshot
    assert_consistent(deploy)


def test_kill_during_a_first_publish_leaves_no_directory(source: Path, deploy: Path) -> None:
    killed(source, deploy, "object")
    assert git(deploy, "ls-tree", "--name-only", "HEAD", "dev") == ""
    assert commit_count(deploy) == 1
    rerun = publish(source, deploy)
    assert rerun.returncode == 0, rerun.stderr
    assert "rolled back" in rerun.stderr
    assert commit_count(deploy) == 2
    assert_consistent(deploy)


def test_kill_after_the_commit_is_completed_not_repeated(source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    change_source(source)
    killed(source, deploy, "commit")
    committed = head(deploy)
    assert "0 added, 0 changed, 1 removed" in git(deploy, "log", "-1", "--format=%s")
    rerun = publish(source, deploy)
    assert rerun.returncode == 0, rerun.stderr
    assert "completed the killed publish of dev/" in rerun.stderr
    assert "no changes" in rerun.stdout
    assert head(deploy) == committed
    assert_consistent(deploy)


def test_kill_while_staging_leaves_a_temp_dir_that_the_next_run_removes(source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    stale = deploy / ".nvpolicy-publish.dev.staging.999999"
    (stale / "dev").mkdir(parents=True)
    (stale / "kustomization.yaml").write_text("half\n", encoding="utf-8")
    change_source(source)
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert_consistent(deploy)


def test_a_running_publish_holds_the_lock(source: Path, deploy: Path) -> None:
    lock_file = deploy / ".git" / "nvpolicy-publish.lock"
    with publish_lock(lock_file):
        refused = publish(source, deploy)
    assert refused.returncode == 2
    assert "another nvpolicy publish into this repo is running" in refused.stderr
    assert "pid" in refused.stderr
    assert not (deploy / "dev").exists() and commit_count(deploy) == 1
    after = publish(source, deploy)
    assert after.returncode == 0, after.stderr
    assert "took over" not in after.stderr


def test_the_lock_of_a_killed_run_is_taken_over(source: Path, deploy: Path) -> None:
    lock_file = deploy / ".git" / "nvpolicy-publish.lock"
    lock_file.write_text(json.dumps({"pid": 999999, "host": "gone", "started": "2026-01-01T00:00:00Z"}),
                         encoding="utf-8")
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert "took over the lock left by a killed publish (pid 999999 on gone" in result.stderr
    assert lock_file.read_text(encoding="utf-8") == ""


def test_a_failing_git_commit_rolls_back_at_once(source: Path, deploy: Path) -> None:
    git(deploy, "config", "user.useConfigOnly", "true")
    no_identity = {key: "" for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                                       "GIT_COMMITTER_EMAIL", "EMAIL")}
    result = publish(source, deploy, extra_env=no_identity)
    assert result.returncode == 2
    assert "git commit failed" in result.stderr and "GIT_AUTHOR_" in result.stderr
    assert commit_count(deploy) == 1 and not (deploy / "dev").exists()
    assert_consistent(deploy)


def test_kill_between_the_commit_and_the_journals_removal_is_recognised_as_done(
        source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    change_source(source)
    result = publish(source, deploy, extra_env={"NVPOLICY_PUBLISH_FAULT": "cleanup"})
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    assert (deploy / ".git" / "nvpolicy-publish.journal").exists()
    committed, snapshot = head(deploy), tree_bytes(deploy / "dev")
    rerun = publish(source, deploy)
    assert rerun.returncode == 0, rerun.stderr
    assert "completed the killed publish of dev/" in rerun.stderr and "no changes" in rerun.stdout
    assert head(deploy) == committed and tree_bytes(deploy / "dev") == snapshot
    assert_consistent(deploy)


@pytest.mark.parametrize("meanwhile", ["commit-on-top", "reset-away", "switch-branch"])
def test_a_commit_that_happened_is_never_rolled_back_whatever_moved_since(
        source: Path, deploy: Path, meanwhile: str) -> None:
    """HEAD is no longer the killed run's commit: someone committed on top, reset, or switched branch."""
    assert publish(source, deploy).returncode == 0
    change_source(source)
    killed(source, deploy, "commit")
    committed, snapshot = head(deploy), tree_bytes(deploy / "dev")
    if meanwhile == "commit-on-top":
        (deploy / "README.md").write_text("edited by someone\n", encoding="utf-8")
        git(deploy, "commit", "-q", "-m", "unrelated", "--", "README.md")
    elif meanwhile == "reset-away":
        git(deploy, "reset", "-q", "--soft", "HEAD~1")  # the commit survives only in the reflog
    else:
        git(deploy, "switch", "-q", "-c", "elsewhere")
    rerun = publish(source, deploy)
    assert "rolled back" not in rerun.stderr
    # The published tree stays in place: nothing of the killed run's commit is undone on disk.
    assert tree_bytes(deploy / "dev") == snapshot
    assert git(deploy, "cat-file", "-t", committed) == "commit"
    assert leftovers(deploy) == [] and not (deploy / ".git" / "nvpolicy-publish.journal").exists()
    if meanwhile == "reset-away":
        # Kept on disk, so the reset shows as uncommitted changes under dev/ for the user to decide.
        assert rerun.returncode == 2 and "uncommitted changes under dev/" in rerun.stderr, rerun.stderr
        assert "note: completed the killed publish of dev/" in rerun.stderr
    else:
        assert rerun.returncode == 0, rerun.stderr
        assert "completed the killed publish of dev/" in rerun.stderr and "no changes" in rerun.stdout
        assert git(deploy, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_lock_file_planted_as_a_symlink_is_never_followed(source: Path, deploy: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    (deploy / ".git" / "nvpolicy-publish.lock").symlink_to(victim)
    result = publish(source, deploy)
    assert result.returncode == 2 and "cannot create the publish lock" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n" and commit_count(deploy) == 1
