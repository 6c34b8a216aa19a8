"""`.pre-commit-hooks.yaml`: each hook run the way pre-commit runs it, without pre-commit itself.

pre-commit selects the repo's files with ``re.search(files)`` and not ``re.search(exclude)``, runs
``entry`` split by the shell's rules, then ``args``, then the selected files unless
``pass_filenames: false``, in the repo's top directory with the hook's environment on PATH.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.publish_helpers import commit_all, git, init_repo, publish

HOOKS = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def selected(hook: dict[str, Any], repo: Path) -> list[str]:
    files = git(repo, "ls-files").splitlines()
    include, exclude = re.compile(hook.get("files", "")), re.compile(hook.get("exclude", "^$"))
    return [name for name in files if include.search(name) and not exclude.search(name)]


def run_hook(hook_id: str, repo: Path, args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    hook = HOOKS[hook_id]
    files = selected(hook, repo)
    assert files, f"{hook_id} would not run: no file of {repo} matches"
    command = [*shlex.split(hook["entry"]), *(hook.get("args", []) if args is None else args)]
    if hook.get("pass_filenames", True):
        command.extend(files)
    path = f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False, timeout=300,
                          env={**os.environ, "PATH": path})


def test_both_hooks_are_python_hooks_of_the_nvpolicy_command() -> None:
    assert set(HOOKS) == {"nvpolicy-lint", "nvpolicy-test", "nvpolicy-validate"}
    for hook in HOOKS.values():
        assert hook["language"] == "python" and shlex.split(hook["entry"])[0] == "nvpolicy"


@pytest.fixture
def policy_repo(example_project: Path) -> Path:
    init_repo(example_project)
    commit_all(example_project, "policies")
    return example_project


def test_lint_hook_passes_a_clean_policy_repo_and_fails_on_an_error(policy_repo: Path) -> None:
    lint_inputs = [name for name in git(policy_repo, "ls-files").splitlines() if not name.startswith("expect/")]
    assert selected(HOOKS["nvpolicy-lint"], policy_repo) == sorted(lint_inputs)
    clean = run_hook("nvpolicy-lint", policy_repo)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    orders = policy_repo / "policies" / "orders.yaml"
    orders.write_text(orders.read_text(encoding="utf-8").replace("ports: udp/53", "ports: any"), encoding="utf-8")
    commit_all(policy_repo, "open dns to any port")
    for args in (None, ["--env", "dev"]):  # the hook's default args, and a user's own
        failed = run_hook("nvpolicy-lint", policy_repo, args)
        assert failed.returncode == 1
        assert "policies/orders.yaml:29:" in failed.stdout and "(any-ports)" in failed.stdout


def test_validate_hook_checks_the_published_manifests_of_a_deploy_repo(policy_repo: Path, tmp_path: Path) -> None:
    deploy = init_repo(tmp_path / "deploy", {"README.md": "deploy\n"})
    for env in ("dev", "prod"):
        assert publish(policy_repo, deploy, env=env).returncode == 0
    files = selected(HOOKS["nvpolicy-validate"], deploy)
    assert files and all(name.startswith(("dev/", "prod/")) for name in files)
    assert not any(name.endswith(("kustomization.yaml", ".nvpolicy-owned")) for name in files)
    passed = run_hook("nvpolicy-validate", deploy)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    victim = deploy / files[0]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(re.sub(r"policymode: \w+", "policymode: Bogus", text), encoding="utf-8")
    assert "policymode: Bogus" in victim.read_text(encoding="utf-8")
    failed = run_hook("nvpolicy-validate", deploy)
    assert failed.returncode == 1
    assert f"{files[0]}:" in failed.stdout and "'Bogus' is not one of" in failed.stdout
