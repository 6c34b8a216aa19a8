"""The lint reports of the CI templates, run as the CI runs them on a project with lint findings.

GitHub's Lint step must leave SARIF that code scanning accepts in one upload (one category per
environment); GitLab's script must turn the real `nvpolicy lint --format json` into a code-quality
report whose issues point at the findings' files and lines, with unique fingerprints. The diff
loops must also comment on an environment that the pull request adds (it has no base to diff).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.ci_templates import VENV_BIN, github_step, gitlab_script, run_script
from tests.conftest import REPO
from tests.publish_helpers import commit_all, init_repo

SARIF_SCHEMA = Path(__file__).parent / "sarif-2.1.0-minimal.schema.json"
ENVIRONMENTS = ["dev", "prod", "qa"]
SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


@pytest.fixture(scope="module")
def findings_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example with one rule opened to any port: an any-ports error in every environment."""
    project = tmp_path_factory.mktemp("ci-reports") / "project"
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, project / folder)
    orders = project / "policies" / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert "ports: udp/53" in text
    orders.write_text(text.replace("ports: udp/53", "ports: any"), encoding="utf-8")
    return project


def lint_json(project: Path, env: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(VENV_BIN / "nvpolicy"), "lint", "--env", env, "--format", "json"],
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


def test_lint_writes_no_report_when_it_could_not_lint(tmp_path: Path) -> None:
    """An input error (exit 2) leaves no half report for code scanning: -o writes only a finished report."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "policies", project / "policies")
    shutil.copytree(REPO / "environments", project / "environments")
    (project / "policies" / "orders.yaml").write_text("kind: [\n", encoding="utf-8")
    done = run_script('nvpolicy lint --env prod --format sarif -o "reports/prod.sarif"', project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (project / "reports" / "prod.sarif").exists()


def gitlab_lint_script() -> str:
    """The check job's script block from its start through the code-quality lint."""
    lines = next(item for item in gitlab_script() if "--format codequality" in item).splitlines()
    cut = next(index for index, line in enumerate(lines) if "--format codequality" in line)
    return "\n".join(lines[:cut + 1])


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
    lines = next(item for item in gitlab_script() if "nvpolicy diff" in item).splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("mkdir -p reports/empty"))
    diff = next(index for index, line in enumerate(lines) if "nvpolicy diff" in line)
    end = next(index for index in range(diff, len(lines)) if lines[index] == "done")
    return "\n".join(lines[start:end + 1])


@pytest.mark.parametrize("template", ["github", "gitlab"])
def test_a_pull_request_that_adds_an_environment_gets_its_diff_comment(tmp_path: Path, template: str) -> None:
    project = tmp_path / "project"
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, project / folder)
    (project / ".gitignore").write_text("rendered/\nreports/\n", encoding="utf-8")
    init_repo(project)
    commit_all(project, "base")
    shutil.copy2(project / "environments" / "qa.yaml", project / "environments" / "stage.yaml")
    commit_all(project, "add stage")
    rendered = run_script("nvpolicy render --all", project)
    assert rendered.returncode == 0, rendered.stderr
    script = github_step("Diff against the base branch")["run"] if template == "github" else gitlab_diff_script()
    done = run_script(script, project, {"BASE": "HEAD~1"})
    assert done.returncode == 0, done.stderr
    stage = (project / "reports" / "diff" / "stage" / "diff-001.md").read_text(encoding="utf-8")
    assert "| **5** | 0 | 1 | 1 | 0 | 0 |" in stage  # the whole environment is new: 1 object added
    for env in ENVIRONMENTS:  # unchanged: no part, so no comment
        assert list((project / "reports" / "diff" / env).iterdir()) == []
    plan = run_script("nvpolicy ci pr-comment plan --pr 0 reports/diff", project)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines() == ["create: <!-- nvpolicy-diff env=stage part=1 -->"]
