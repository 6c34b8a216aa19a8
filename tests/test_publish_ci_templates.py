"""The CI templates cannot rot: every nvpolicy line of both files runs against the bundled example.

Lines run in a copy of the project that is a real git repository (the base of a pull request is
its previous commit), next to a deploy repo cloned from a local bare remote, as the templates
expect (``../deploy``). Loops over ``$(nvpolicy envs)`` run once per environment. The templates are
the ones `nvpolicy init` writes (compiler/nvpolicy/scaffold/); tests/test_init_wheel.py runs them
whole, through the installed wheel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from nvpolicy.ci import codequality, pr_comment

from tests.ci_templates import GITHUB, GITLAB, path_with
from tests.conftest import REPO
from tests.publish_helpers import GIT_ENV, commit_all, git, init_repo

COMMAND = re.compile(r"^nvpolicy\s")


def command_lines(path: Path) -> list[str]:
    """Every shell line of the file that starts with nvpolicy (a trailing `|| …` dropped)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    scripts: list[str] = []
    for job in data.get("jobs", data).values():
        if not isinstance(job, dict):
            continue
        scripts.extend(step["run"] for step in job.get("steps", []) if isinstance(step, dict) and "run" in step)
        scripts.extend(item for item in job.get("script", []) if isinstance(item, str))
    lines = [line.strip() for script in scripts for line in script.splitlines()]
    return [line.split(" || ")[0] for line in lines if COMMAND.match(line)]


def subcommand(line: str) -> str | None:
    words = line.split()
    return next(word for word in words[1:] if not word.startswith("-"))


def registered(name: str) -> bool:
    return importlib.util.find_spec(f"nvpolicy.commands.{name}") is not None


# PR comments need a forge's API: tests/test_publish_pr_comment.py and tests/test_init_wheel.py post them.
CASES = [pytest.param(path, line, id=f"{path.name}:{line}")
         for path in (GITHUB, GITLAB) for line in command_lines(path) if "pr-comment" not in line]


def test_both_templates_hold_the_pipeline_steps() -> None:
    for path in (GITHUB, GITLAB):
        used = {subcommand(line) for line in command_lines(path)}
        assert {"render", "lint", "diff", "publish"} <= used, path
    assert "github/codeql-action/upload-sarif" in GITHUB.read_text(encoding="utf-8")
    assert "codequality:" in GITLAB.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/project`` (the policy repo, its .venv linked to ours) and ``<root>/deploy``."""
    root = tmp_path_factory.mktemp("ci")
    project = root / "project"
    project.mkdir()
    shutil.copy2(REPO / "compiler" / "nvpolicy" / "scaffold" / "gitignore", project / ".gitignore")
    for folder in ("policies", "environments", "expect"):
        shutil.copytree(REPO / folder, project / folder)
    init_repo(project)
    commit_all(project, "base")
    orders = project / "policies" / "orders.yaml"
    orders.write_text(orders.read_text(encoding="utf-8").replace("openjdk-17", "openjdk-21"), encoding="utf-8")
    commit_all(project, "pull request")
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    init_repo(root / "seed", {"README.md": "deploy\n"})
    git(root / "seed", "push", "-q", str(remote), "main")
    git(root, "clone", "-q", str(remote), str(root / "deploy"))
    return project


@pytest.mark.parametrize(("path", "line"), CASES)
def test_template_line_runs(path: Path, line: str, workspace: Path) -> None:
    name = subcommand(line)
    assert name is None or registered(name), f"`nvpolicy {name}` does not exist (line: {line})"
    environments = subprocess.run(["nvpolicy", "envs"], cwd=workspace, capture_output=True, text=True,
                                  check=True, env={**os.environ, "PATH": path_with()}).stdout.split()
    assert environments == ["dev", "prod", "qa"]
    variables = {"BASE": "HEAD~1", "GITHUB_OUTPUT": os.devnull}
    for env in environments if "$env" in line else [""]:
        (workspace / "reports" / "lint").mkdir(parents=True, exist_ok=True)
        (workspace / "reports" / "sarif").mkdir(parents=True, exist_ok=True)
        (workspace / "reports" / "empty").mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["bash", "-euc", line], cwd=workspace, capture_output=True, text=True, check=False,
                                env={**os.environ, **GIT_ENV, **variables, "env": env, "PATH": path_with()},
                                timeout=300)
        allowed = {0, 1} if name in ("lint", "diff") else {0}
        assert result.returncode in allowed, f"{line} (env={env}):\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
    if name == "render":
        assert sorted(p.name for p in (workspace / "rendered").iterdir()) == ["dev", "prod", "qa"]
    if name == "publish":
        deploy = workspace.parent / "deploy"
        assert git(deploy, "status", "--porcelain") == ""
        assert {"dev", "prod", "qa"} <= {p.name for p in deploy.iterdir()}


def test_comment_parts_update_earlier_comments_instead_of_piling_up(tmp_path: Path) -> None:
    for env, count in (("prod", 2), ("dev", 1)):
        for number in range(1, count + 1):
            (tmp_path / env).mkdir(exist_ok=True)
            (tmp_path / env / f"part-{number}.md").write_text(f"## {env} part {number}\n", encoding="utf-8")
    wanted = pr_comment.parts(tmp_path)
    existing: list[tuple[Any, str]] = [
        (1, "a human comment"),
        (2, wanted[("prod", 1)]),                                          # unchanged: left alone
        (3, "<!-- nvpolicy-diff env=prod part=2 -->\nold text"),          # changed: edited in place
        (4, "<!-- nvpolicy-diff env=prod part=3 -->\na part that is gone"),  # gone: deleted
    ]
    actions = pr_comment.plan(existing, wanted)
    assert actions == [("update", 3, wanted[("prod", 2)]), ("delete", 4, ""), ("create", None, wanted[("dev", 1)])]
    assert pr_comment.plan([(9, body) for body in wanted.values()], wanted) == []


def test_lint_json_converts_to_a_gitlab_code_quality_report() -> None:
    issues = codequality.convert([
        {"location": {"file": "policies/orders.yaml", "line": 12}, "level": "warning", "message": "ports any",
         "rule": "NV101"},
        {"location": "policies/db.yaml:3:5", "level": "error", "message": "bad", "rule": "NV001"},
    ])
    assert [(i["check_name"], i["severity"], i["location"]) for i in issues] == [
        ("NV101", "minor", {"path": "policies/orders.yaml", "lines": {"begin": 12}}),
        ("NV001", "major", {"path": "policies/db.yaml", "lines": {"begin": 3}}),
    ]
    assert len({i["fingerprint"] for i in issues}) == 2
    json.dumps(issues)
