"""The lint reports of the CI templates, run as the CI runs them on a project with lint findings.

GitHub's Lint step must leave SARIF that code scanning accepts in one upload (one category per
environment); GitLab's script must turn the real `nvpolicy lint --format json` into a code-quality
report whose issues point at the findings' files and lines, with unique fingerprints. The diff
loops must also comment on an environment that the pull request adds (it has no base to diff).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPO
from tests.publish_helpers import commit_all, init_repo

GITHUB = REPO / ".github" / "workflows" / "nvpolicy.yml"
GITLAB = REPO / ".gitlab-ci.yml"
SARIF_SCHEMA = Path(__file__).parent / "sarif-2.1.0-minimal.schema.json"
ENVIRONMENTS = ["dev", "prod", "qa"]
SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


@pytest.fixture(scope="module")
def findings_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example with one rule opened to any port: an any-ports error in every environment."""
    project = tmp_path_factory.mktemp("ci-reports") / "project"
    for folder in ("policies", "environments", "ci"):
        shutil.copytree(REPO / folder, project / folder)
    (project / ".venv").symlink_to(REPO / ".venv")
    orders = project / "policies" / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert "ports: udp/53" in text
    orders.write_text(text.replace("ports: udp/53", "ports: any"), encoding="utf-8")
    return project


def run_script(script: str, cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a template's script the way both runners do: bash with -e and pipefail."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300,
                          env={**os.environ, **(extra_env or {})})


def github_step(name: str) -> dict[str, Any]:
    steps = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"]["check"]["steps"]
    found: dict[str, Any] = next(step for step in steps if step.get("name") == name)
    return found


def lint_json(project: Path, env: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(project / ".venv" / "bin" / "nvpolicy"), "lint", "--env", env, "--format", "json"],
                          cwd=project, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 1, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)["findings"]
    return findings


def test_github_lint_step_leaves_one_sarif_category_per_environment(findings_project: Path, tmp_path: Path) -> None:
    shutil.rmtree(findings_project / "reports", ignore_errors=True)
    output = tmp_path / "github-output"
    done = run_script(github_step("Lint")["run"], findings_project, {"GITHUB_OUTPUT": str(output)})
    assert done.returncode == 0, done.stderr  # lint errors are reported, and fail the job only at the end
    assert output.read_text(encoding="utf-8").strip() == "status=1"
    upload = github_step("Upload lint results to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    # A `category` input would not override the runs' own ids; leaving it out keeps the intent plain.
    assert "category" not in upload["with"]
    uploaded = sorted((findings_project / upload["with"]["sarif_file"]).glob("*.sarif"))
    assert [path.stem for path in uploaded] == ENVIRONMENTS
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    keys = []
    for path in uploaded:
        document = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(document, schema)
        for run in document["runs"]:
            keys.append((run["tool"]["driver"]["name"], run["automationDetails"]["id"]))
            assert run["automationDetails"]["id"] == f"nvpolicy/{path.stem}/"
            assert [result["ruleId"] for result in run["results"]] == ["any-ports"]
    # What code scanning refuses in one upload: two runs of one tool in one category.
    assert len(keys) == len(set(keys)) == len(ENVIRONMENTS)


def test_sarif_category_leaves_out_a_file_that_lint_could_not_write(tmp_path: Path) -> None:
    (tmp_path / "prod.sarif").write_text('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "nvpolicy"}}, '
                                         '"results": []}]}', encoding="utf-8")
    (tmp_path / "dev.sarif").write_text("", encoding="utf-8")  # lint exited 2 before writing
    done = subprocess.run(["python3", str(REPO / "ci" / "sarif_category.py"), *sorted(map(str, tmp_path.iterdir()))],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "dev.sarif: not a SARIF file" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["prod.sarif"]
    stamped = json.loads((tmp_path / "prod.sarif").read_text(encoding="utf-8"))
    assert stamped["runs"][0]["automationDetails"] == {"id": "nvpolicy/prod/"}


def gitlab_lint_script() -> str:
    """The check job's script from `mkdir -p reports/lint` through the code-quality conversion."""
    items: list[str] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["check"]["script"]
    start = next(index for index, item in enumerate(items) if item.startswith("mkdir -p reports/lint"))
    block_index = next(index for index, item in enumerate(items) if "ci/codequality.py" in item)
    lines = items[block_index].splitlines()
    cut = next(index for index, line in enumerate(lines) if "ci/codequality.py" in line)
    return "\n".join([*items[start:block_index], *lines[:cut + 1]])


def test_gitlab_code_quality_report_matches_the_lint_json(findings_project: Path) -> None:
    shutil.rmtree(findings_project / "reports", ignore_errors=True)
    (findings_project / "gl-code-quality-report.json").unlink(missing_ok=True)
    done = run_script(gitlab_lint_script(), findings_project)
    assert done.returncode == 0, done.stderr
    report = json.loads((findings_project / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    expected = []
    for env in ENVIRONMENTS:
        for finding in lint_json(findings_project, env):
            expected.append((f"[{env}] {finding['message']}", finding["rule"], SEVERITY[finding["level"]],
                             {"path": finding["file"], "lines": {"begin": finding["line"]}}))
    assert len(expected) == len(ENVIRONMENTS)
    assert sorted((i["description"], i["check_name"], i["severity"], i["location"]) for i in report) == sorted(expected)
    for issue in report:
        assert (findings_project / issue["location"]["path"]).is_file()
    assert len({issue["fingerprint"] for issue in report}) == len(report)


def gitlab_diff_script() -> str:
    """The check job's diff loop: from `mkdir -p reports/empty` to the `done` after `nvpolicy diff`."""
    items: list[str] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["check"]["script"]
    lines = next(item for item in items if "nvpolicy diff" in item).splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("mkdir -p reports/empty"))
    diff = next(index for index, line in enumerate(lines) if "nvpolicy diff" in line)
    end = next(index for index in range(diff, len(lines)) if lines[index] == "done")
    return "\n".join(lines[start:end + 1])


@pytest.mark.parametrize("template", ["github", "gitlab"])
def test_a_pull_request_that_adds_an_environment_gets_its_diff_comment(tmp_path: Path, template: str) -> None:
    project = tmp_path / "project"
    for folder in ("policies", "environments", "ci"):
        shutil.copytree(REPO / folder, project / folder)
    (project / ".venv").symlink_to(REPO / ".venv")
    (project / ".gitignore").write_text(".venv\nrendered/\nreports/\n", encoding="utf-8")
    init_repo(project)
    commit_all(project, "base")
    shutil.copy2(project / "environments" / "qa.yaml", project / "environments" / "stage.yaml")
    commit_all(project, "add stage")
    rendered = run_script(".venv/bin/nvpolicy render --all", project)
    assert rendered.returncode == 0, rendered.stderr
    script = github_step("Diff against the base branch")["run"] if template == "github" else gitlab_diff_script()
    done = run_script(script, project, {"BASE": "HEAD~1"})
    assert done.returncode == 0, done.stderr
    stage = (project / "reports" / "diff" / "stage" / "diff-001.md").read_text(encoding="utf-8")
    assert "| **5** | 0 | 1 | 1 | 0 | 0 |" in stage  # the whole environment is new: 1 object added
    for env in ENVIRONMENTS:
        assert "No changes." in (project / "reports" / "diff" / env / "diff-001.md").read_text(encoding="utf-8")
    plan = subprocess.run(["python3", "ci/pr_comment.py", "plan", "--pr", "0", "reports/diff"], cwd=project,
                          capture_output=True, text=True, check=True).stdout
    assert "create: <!-- nvpolicy-diff env=stage part=1 -->" in plan.splitlines()
