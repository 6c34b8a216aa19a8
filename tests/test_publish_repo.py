"""``nvpolicy publish`` against real git repositories: commits, idempotence, ownership, refusals, push."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nvpolicy.pipeline import layout, render_environment

from tests.conftest import run_nvpolicy, tree_bytes
from tests.publish_helpers import GIT_ENV, commit_all, commit_count, git, head, init_repo, leftovers, publish

MANIFEST = ".nvpolicy-owned"


@pytest.fixture
def source(example_project: Path) -> Path:
    init_repo(example_project)
    commit_all(example_project, "policies")
    return example_project


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "deploy", {"README.md": "deploy repo\n", "qa/keep.yaml": "kind: Foreign\n"})


def rendered(source: Path, env: str, tmp_path: Path) -> dict[str, bytes]:
    """What `nvpolicy render --env ENV` writes, computed in-process (the render tests cover the CLI)."""
    files = layout(render_environment(source, env).objects)
    return {f.path: f.text.encode("utf-8") for f in sorted(files, key=lambda f: f.path)}


def published(deploy: Path, subdir: str) -> dict[str, bytes]:
    return {path: data for path, data in tree_bytes(deploy / subdir).items() if path != MANIFEST}


def test_first_publish_commits_the_render_with_provenance(source: Path, deploy: Path, tmp_path: Path) -> None:
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert "committed" in result.stdout and "2 added, 0 changed, 0 removed" in result.stdout
    assert published(deploy, "dev") == rendered(source, "dev", tmp_path)
    assert commit_count(deploy) == 2
    assert git(deploy, "status", "--porcelain") == ""
    message = git(deploy, "log", "-1", "--format=%B")
    assert message.startswith("nvpolicy publish dev: 2 added, 0 changed, 0 removed")
    assert "Environment: dev" in message
    assert f"Source: {git(source, 'rev-parse', '--short', 'HEAD')} (clean) on branch main" in message
    owned = (deploy / "dev" / MANIFEST).read_text(encoding="utf-8").splitlines()[1:]
    assert owned == sorted(rendered(source, "dev", tmp_path))
    assert leftovers(deploy) == []


def test_second_publish_of_unchanged_policy_makes_no_commit(source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    before = head(deploy)
    again = publish(source, deploy)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout and "nothing committed" in again.stdout
    assert head(deploy) == before
    assert leftovers(deploy) == []


def test_changed_and_removed_objects_are_counted_and_stale_files_removed(
        source: Path, deploy: Path, tmp_path: Path) -> None:
    assert publish(source, deploy).returncode == 0
    (source / "policies" / "postgres.yaml").unlink()
    orders = source / "policies" / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert "openjdk-17/bin/java" in text
    orders.write_text(text.replace("openjdk-17/bin/java", "openjdk-21/bin/java"), encoding="utf-8")
    commit_all(source, "drop postgres, rename process")
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert "0 added, 1 changed, 1 removed" in result.stdout
    assert published(deploy, "dev") == rendered(source, "dev", tmp_path)
    assert not any("postgres" in path for path in tree_bytes(deploy / "dev"))
    assert "0 added, 1 changed, 1 removed" in git(deploy, "log", "-1", "--format=%s")


def test_the_commit_message_counts_widening_changes_as_nvpolicy_diff_does(source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    orders = source / "policies" / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert "ports: udp/53" in text and "path: /pause" in text
    # Two widenings (any port, a shell allowed) and one narrowing (/pause no longer allowed).
    orders.write_text(text.replace("ports: udp/53", "ports: any").replace("path: /pause", "path: /bin/sh"),
                      encoding="utf-8")
    commit_all(source, "widen dns, swap pause for a shell")
    diff = run_nvpolicy("-C", str(source), "diff", "--env", "dev", "--base", "HEAD~1", "--format", "json")
    assert diff.returncode == 0, diff.stderr
    widens = json.loads(diff.stdout)["summary"]["widens"]
    assert widens == 2
    # `ports: any` is a lint error in every environment: the gate would refuse it, so override it.
    result = publish(source, deploy, "--no-gate", "--reason", "widening on purpose, to count it")
    assert result.returncode == 0, result.stderr
    assert "0 added, 1 changed, 0 removed, 2 widening" in result.stdout
    assert git(deploy, "log", "-1", "--format=%s") == "nvpolicy publish dev: 0 added, 1 changed, 0 removed, 2 widening"
    assert "Objects: 0 added, 1 changed, 0 removed, 2 widening" in git(deploy, "log", "-1", "--format=%B")
    orders.write_text(text, encoding="utf-8")
    commit_all(source, "back")
    narrowed = publish(source, deploy)
    assert narrowed.returncode == 0, narrowed.stderr
    assert git(deploy, "log", "-1", "--format=%s").endswith("0 added, 1 changed, 0 removed, 1 widening")


def test_foreign_files_inside_and_outside_the_directory_are_untouched(source: Path, deploy: Path) -> None:
    (deploy / "dev").mkdir()
    (deploy / "dev" / "NOTES.md").write_text("hand-written\n", encoding="utf-8")
    (deploy / "dev" / "root").symlink_to("/")  # foreign, and never followed
    commit_all(deploy, "notes")
    assert publish(source, deploy).returncode == 0
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    # Uncommitted work outside SUBDIR: allowed, and neither committed nor changed.
    (deploy / "README.md").write_text("edited, staged\n", encoding="utf-8")
    git(deploy, "add", "README.md")
    before = {name: tree_bytes(deploy / name) for name in ("qa",)}
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert (deploy / "dev" / "NOTES.md").read_text(encoding="utf-8") == "hand-written\n"
    assert (deploy / "dev" / "root").is_symlink() and str((deploy / "dev" / "root").readlink()) == "/"
    assert (deploy / "README.md").read_text(encoding="utf-8") == "edited, staged\n"
    assert {name: tree_bytes(deploy / name) for name in ("qa",)} == before
    changed = git(deploy, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed and all(path.startswith("dev/") for path in changed)
    assert "NOTES.md" not in " ".join(changed)
    assert git(deploy, "status", "--porcelain") == "M  README.md"


def test_a_manifest_naming_paths_outside_the_directory_owns_none_of_them(source: Path, deploy: Path) -> None:
    assert publish(source, deploy).returncode == 0
    outside = ["../README.md", "../qa/keep.yaml", str(deploy / "README.md"), "./../qa/keep.yaml"]
    with (deploy / "dev" / MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write("".join(f"{path}\n" for path in outside))
    commit_all(deploy, "someone edits the ownership record")
    before = {name: tree_bytes(deploy / name) for name in ("qa",)}
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    result = publish(source, deploy)
    assert result.returncode == 0, result.stderr
    assert "0 added, 0 changed, 1 removed" in result.stdout
    assert (deploy / "README.md").read_text(encoding="utf-8") == "deploy repo\n"
    assert {name: tree_bytes(deploy / name) for name in ("qa",)} == before
    changed = git(deploy, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed and all(path.startswith("dev/") for path in changed)
    assert not any(path in (deploy / "dev" / MANIFEST).read_text(encoding="utf-8") for path in outside)


def test_several_environments_share_one_deploy_repo(source: Path, deploy: Path, tmp_path: Path) -> None:
    for env in ("qa", "prod"):
        result = publish(source, deploy, env=env)
        assert result.returncode == 0, result.stderr
    assert published(deploy, "prod") == rendered(source, "prod", tmp_path)
    assert (deploy / "qa" / "keep.yaml").read_text(encoding="utf-8") == "kind: Foreign\n"
    custom = publish(source, deploy, "--dir", "clusters/eu/prod", "--message", "Release 7",
                     "--set", "policy_mode=Monitor", "--no-gate", "--reason", "a Monitor copy for the EU cluster",
                     env="prod")
    assert custom.returncode == 0, custom.stderr
    expected = layout(render_environment(source, "prod", ["policy_mode=Monitor"]).objects)
    assert published(deploy, "clusters/eu/prod") == {f.path: f.text.encode("utf-8") for f in expected}
    assert git(deploy, "log", "-1", "--format=%s") == "Release 7"
    body = git(deploy, "log", "-1", "--format=%B")
    assert "Environment: prod" in body and "Override: policy_mode=Monitor" in body


@pytest.mark.parametrize("change", ["modified", "untracked"])
def test_uncommitted_changes_under_the_directory_are_refused(source: Path, deploy: Path, change: str) -> None:
    assert publish(source, deploy).returncode == 0
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    victim = deploy / "dev" / ("kustomization.yaml" if change == "modified" else "extra.yaml")
    victim.write_text("local edit\n", encoding="utf-8")
    before, snapshot = head(deploy), tree_bytes(deploy / "dev")
    result = publish(source, deploy)
    assert result.returncode == 2
    assert "uncommitted changes under dev/" in result.stderr and "hint:" in result.stderr
    assert head(deploy) == before and tree_bytes(deploy / "dev") == snapshot


@pytest.mark.parametrize(("operation", "marker", "said"), [("merge", "MERGE_HEAD", "a merge in progress"),
                                                          ("rebase", "rebase-merge", "a rebase in progress")])
def test_merge_or_rebase_in_progress_is_refused(source: Path, deploy: Path, operation: str, marker: str,
                                                said: str) -> None:
    git(deploy, "switch", "-q", "-c", "other")
    (deploy / "README.md").write_text("other\n", encoding="utf-8")
    commit_all(deploy, "other")
    git(deploy, "switch", "-q", "main")
    (deploy / "README.md").write_text("main\n", encoding="utf-8")
    commit_all(deploy, "main")
    git(deploy, operation, "other", check=False)  # conflicts on README.md, so git stops half-way
    assert (deploy / ".git" / marker).exists()
    before = head(deploy)
    result = publish(source, deploy)
    assert result.returncode == 2
    assert said in result.stderr and "hint:" in result.stderr
    assert not (deploy / "dev").exists() and head(deploy) == before


def test_dirty_source_is_refused_unless_allowed(source: Path, deploy: Path) -> None:
    (source / "policies" / "extra-notes.yaml").write_text("# wip\n", encoding="utf-8")
    refused = publish(source, deploy)
    assert refused.returncode == 2
    assert "uncommitted changes" in refused.stderr and "--allow-dirty" in refused.stderr
    assert "?? policies/extra-notes.yaml" in refused.stderr  # which files, so a forgotten rendered/ is plain
    assert commit_count(deploy) == 1
    (source / "policies" / "extra-notes.yaml").unlink()
    (source / "environments" / "dev.yaml").write_text(
        (source / "environments" / "dev.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    allowed = publish(source, deploy, "--allow-dirty")
    assert allowed.returncode == 0, allowed.stderr
    assert "(dirty working tree)" in git(deploy, "log", "-1", "--format=%B")


def test_not_a_work_tree_is_refused(source: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = publish(source, plain)
    assert result.returncode == 2
    assert "is not a git work tree" in result.stderr
    assert list(plain.iterdir()) == []


def test_branch_must_be_checked_out(source: Path, deploy: Path) -> None:
    result = publish(source, deploy, "--branch", "release")
    assert result.returncode == 2
    assert "has branch main checked out, not release" in result.stderr
    assert publish(source, deploy, "--branch", "main").returncode == 0


def test_push_to_a_bare_remote_and_a_rejected_push(source: Path, deploy: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(deploy, "remote", "add", "origin", str(remote))
    pushed = publish(source, deploy, "--push")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed main to origin" in pushed.stdout
    assert git(remote, "rev-parse", "main") == head(deploy)

    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "README.md").write_text("someone else\n", encoding="utf-8")
    commit_all(other, "someone else")
    git(other, "push", "-q", "origin", "main")
    (source / "policies" / "postgres.yaml").unlink()
    commit_all(source, "drop postgres")
    rejected = publish(source, deploy, "--push")
    assert rejected.returncode == 2
    assert "was rejected" in rejected.stderr and "stays committed locally" in rejected.stderr
    assert "pull --rebase" in rejected.stderr
    assert git(remote, "rev-parse", "main") == head(other)
    assert "0 added, 0 changed, 1 removed" in git(deploy, "log", "-1", "--format=%s")


def test_push_to_a_missing_remote_is_reported(source: Path, deploy: Path) -> None:
    result = publish(source, deploy, "--push", "--remote", "nowhere")
    assert result.returncode == 2
    assert "no remote named 'nowhere'" in result.stderr


def test_push_names_its_remote_as_push_remote_or_remote(source: Path, deploy: Path, tmp_path: Path) -> None:
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(upstream))
    git(deploy, "remote", "add", "upstream", str(upstream))
    pushed = publish(source, deploy, "--push", "upstream")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed main to upstream" in pushed.stdout
    assert git(upstream, "rev-parse", "main") == head(deploy)
    again = publish(source, deploy, "--remote", "upstream", "--push")
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout and "up to date" in again.stdout


@pytest.mark.parametrize(("args", "said"), [
    (["--push", "origin", "--remote", "upstream"], "--push origin and --remote upstream name different remotes"),
    (["--remote", "upstream"], "--remote upstream without --push"),
    (["upstream"], "unexpected argument 'upstream'"),
    (["--push", "a", "b"], "--push takes one REMOTE"),
])
def test_ambiguous_push_arguments_are_refused_before_anything_changes(
        source: Path, deploy: Path, args: list[str], said: str) -> None:
    result = publish(source, deploy, *args)
    assert result.returncode == 2
    assert said in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr
    assert commit_count(deploy) == 1 and not (deploy / "dev").exists()


@pytest.mark.parametrize("subdir", ["../outside", ".git/hooks", "."])
def test_a_directory_outside_the_repo_is_refused(source: Path, deploy: Path, subdir: str) -> None:
    result = publish(source, deploy, "--dir", subdir)
    assert result.returncode == 2
    assert f"--dir {subdir!r}" in result.stderr
    assert commit_count(deploy) == 1


@pytest.mark.parametrize(("repo", "subdir", "said"), [
    (".", "policies", "overlaps the policy sources"),
    (".", "environments", "overlaps the policy sources"),
    (".", "policies/rendered", "overlaps the policy sources"),
    ("policies", "deploy", "overlaps the policy sources"),
    ("..", "example", "which holds the policy project"),
    ("link", "prod", "overlaps the policy sources"),  # a symlink into the sources is followed
])
def test_a_directory_overlapping_the_policy_sources_is_refused_and_nothing_moves(
        source: Path, repo: str, subdir: str, said: str) -> None:
    """`publish --repo . --dir policies`: the policy repo as deploy repo, SUBDIR its sources (or holding them)."""
    (source / "link").symlink_to("environments")
    commit_all(source, "a link")
    git(source.parent, "init", "-q", "-b", "main")  # `--repo ..` is a work tree too
    before, snapshot = head(source), tree_bytes(source)
    result = run_nvpolicy("-C", str(source), "publish", "--env", "prod", "--repo", repo, "--dir", subdir,
                          cwd=source, env=GIT_ENV)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr and "hint: publish into a separate deploy repo" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert head(source) == before and tree_bytes(source) == snapshot
    assert leftovers(source) == [] and leftovers(source / "policies") == []


def test_the_policy_repo_may_be_the_deploy_repo_with_a_separate_directory(source: Path) -> None:
    result = run_nvpolicy("-C", str(source), "publish", "--env", "dev", "--repo", ".", "--dir", "deploy/dev",
                          cwd=source, env=GIT_ENV)
    assert result.returncode == 0, result.stderr
    assert git(source, "show", "--name-only", "--format=", "HEAD").splitlines() == sorted(
        f"deploy/dev/{path}" for path in tree_bytes(source / "deploy" / "dev"))
