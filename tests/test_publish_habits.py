"""publish --format json, the source branch in the commit message, and the documented way for hand-written
files next to a published directory (a kustomization one level up that lists both)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.publish_helpers import commit_all, git, head, init_repo, publish


@pytest.fixture
def source(example_project: Path) -> Path:
    init_repo(example_project)
    commit_all(example_project, "policies")
    git(example_project, "switch", "-q", "-c", "feature/orders-egress")
    return example_project


def test_json_names_commit_branch_directory_and_files(source: Path, tmp_path: Path) -> None:
    deploy = init_repo(tmp_path / "deploy", {"README.md": "deploy\n"})
    result = publish(source, deploy, "--format", "json", "--dir", "clusters/eu/dev")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["commit"] == git(deploy, "rev-parse", "--short", "HEAD") and shown["branch"] == "main"
    assert shown["directory"] == "clusters/eu/dev" and shown["env"] == "dev" and shown["pushed"] is None
    committed = git(deploy, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert shown["files"] and set(shown["files"]) <= set(committed)
    assert "clusters/eu/dev/kustomization.yaml" in shown["files"]
    assert shown["source"] == {"commit": git(source, "rev-parse", "--short", "HEAD"),
                               "branch": "feature/orders-egress", "dirty": False}
    again = json.loads(publish(source, deploy, "--format", "json", "--dir", "clusters/eu/dev").stdout)
    assert (again["commit"], again["files"]) == (None, [])


def test_the_commit_message_names_the_source_branch(source: Path, tmp_path: Path) -> None:
    deploy = init_repo(tmp_path / "deploy", {"README.md": "deploy\n"})
    assert publish(source, deploy).returncode == 0
    message = git(deploy, "log", "-1", "--format=%B")
    assert f"Source: {git(source, 'rev-parse', '--short', 'HEAD')} (clean) on branch feature/orders-egress" \
        in message


def test_hand_written_files_join_through_a_kustomization_above(source: Path, tmp_path: Path) -> None:
    # The README's recipe: publish owns clusters/dev/nvpolicy/; clusters/dev/kustomization.yaml is yours
    # and lists it with your own files. publish never touches them, so `kubectl apply -k clusters/dev` takes both.
    mine = {"clusters/dev/kustomization.yaml": "resources:\n- nvpolicy\n- extra-rule.yaml\n",
            "clusters/dev/extra-rule.yaml": "apiVersion: neuvector.com/v1\nkind: NvSecurityRule\n"}
    deploy = init_repo(tmp_path / "deploy", mine)
    before = head(deploy)
    assert publish(source, deploy, "--dir", "clusters/dev/nvpolicy").returncode == 0
    assert head(deploy) != before
    for path, text in mine.items():
        assert (deploy / path).read_text(encoding="utf-8") == text
    changed = git(deploy, "diff", "--name-only", before, "HEAD").splitlines()
    assert changed and all(name.startswith("clusters/dev/nvpolicy/") for name in changed)
    assert (deploy / "clusters/dev/nvpolicy/kustomization.yaml").is_file()
