"""publish is gated by lint and the expectations: refused with exit 1 and the deploy repo untouched;
``--no-gate --reason`` publishes and records the reason in the commit. Real git, the installed command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.publish_helpers import commit_all, commit_count, git, head, init_repo, publish

BROKEN = ("- name: prod must reach the frontend\n  from: {service: orders}\n  to: {service: frontend}\n"
          "  port: tcp/80\n  expect: allow\n  env: prod\n")


@pytest.fixture
def source(example_project: Path) -> Path:
    (example_project / "expect" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    init_repo(example_project)
    commit_all(example_project, "policies with an expectation prod does not meet")
    return example_project


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "deploy", {"README.md": "deploy repo\n"})


def test_failing_expectation_refuses_publish_and_leaves_deploy_repo_alone(source: Path, deploy: Path) -> None:
    before = head(deploy)
    result = publish(source, deploy, env="prod")
    assert result.returncode == 1, result.stderr
    assert "publish prod refused by the gate; the deploy repo is untouched" in result.stderr
    assert "expect/broken.yaml:1:3: expectation 'prod must reach the frontend' expects allow" in result.stderr
    assert "--no-gate --reason TEXT" in result.stderr
    assert head(deploy) == before and git(deploy, "status", "--porcelain") == ""
    assert not (deploy / "prod").exists()


def test_other_environments_are_not_held_back(source: Path, deploy: Path) -> None:
    result = publish(source, deploy, env="qa")
    assert result.returncode == 0, result.stderr
    assert (deploy / "qa").is_dir()


def test_no_gate_needs_a_reason_and_records_it(source: Path, deploy: Path) -> None:
    refused = publish(source, deploy, "--no-gate", env="prod")
    assert refused.returncode == 2 and "--no-gate needs --reason" in refused.stderr
    count = commit_count(deploy)
    done = publish(source, deploy, "--no-gate", "--reason", "hotfix INC-42\napproved by the on-call", env="prod")
    assert done.returncode == 0, done.stderr
    assert "publishing prod past its gate" in done.stderr
    assert commit_count(deploy) == count + 1
    body = git(deploy, "log", "-1", "--format=%B")
    assert "Gate overridden: hotfix INC-42 approved by the on-call" in body


def test_lint_errors_close_the_gate(example_project: Path, deploy: Path) -> None:
    env = example_project / "environments" / "prod.yaml"
    env.write_text(env.read_text(encoding="utf-8").replace("policy_mode: Protect", "policy_mode: Monitor"),
                   encoding="utf-8")
    init_repo(example_project)
    commit_all(example_project, "prod in Monitor, which its guardrails forbid")
    result = publish(example_project, deploy, env="prod")
    assert result.returncode == 1
    assert "refused by the gate" in result.stderr and "[error]" in result.stderr
    assert not (deploy / "prod").exists()
