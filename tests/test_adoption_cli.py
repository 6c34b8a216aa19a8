"""The commands a team meets first: init, schema, envs, rules; and the docs site that explains them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nvpolicy import __version__
from nvpolicy.rules import RULE_MODULES, load_rules

from tests.conftest import REPO, run_nvpolicy


def test_init_writes_the_scaffold_pinned_to_this_version(tmp_path: Path) -> None:
    done = run_nvpolicy("init", str(tmp_path / "repo"), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["version"] == __version__
    written = set(report["written"])
    assert {".gitignore", ".pre-commit-config.yaml", ".github/workflows/nvpolicy.yml", ".gitlab-ci.yml",
            "schemas/environment.schema.json", "environments/_base.yaml", "environments/dev.yaml",
            "environments/qa.yaml", "environments/prod.yaml"} <= written
    assert any(name.startswith("policies/") for name in written)
    for name in written:  # the example is the bundled one, byte for byte
        if name.startswith(("policies/", "environments/")):
            assert (tmp_path / "repo" / name).read_bytes() == (REPO / name).read_bytes()
    rendered = run_nvpolicy("-C", str(tmp_path / "repo"), "lint", "--all")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


def test_init_refuses_to_overwrite_anything_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "repo" / "environments").mkdir(parents=True)
    (tmp_path / "repo" / "environments" / "dev.yaml").write_text("mine\n", encoding="utf-8")
    done = run_nvpolicy("init", str(tmp_path / "repo"))
    assert done.returncode == 2 and "environments/dev.yaml" in done.stderr and "--force" in done.stderr
    assert sorted(p.name for p in (tmp_path / "repo").rglob("*")) == ["dev.yaml", "environments"]


def test_init_does_not_write_through_a_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "policies").symlink_to(outside)
    done = run_nvpolicy("init", str(tmp_path / "repo"), "--force")
    assert done.returncode == 2 and "leads outside" in done.stderr
    assert list(outside.iterdir()) == []


def test_schema_prints_and_writes_the_environment_schema(tmp_path: Path) -> None:
    printed = run_nvpolicy("schema", "environment")
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == json.loads((REPO / "schemas" / "environment.schema.json").read_text())
    written = run_nvpolicy("schema", "NvSecurityRule", "-o", str(tmp_path / "s.json"))
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "s.json").read_text() == (REPO / "schemas" / "nvsecurityrule.schema.json").read_text()
    typo = run_nvpolicy("schema", "enviroment")
    assert typo.returncode == 2 and "did you mean 'environment'" in typo.stderr


def test_envs_lists_what_render_all_renders(example_project: Path) -> None:
    (example_project / "environments" / "_partial.yaml").write_text("vars: {}\n", encoding="utf-8")
    done = run_nvpolicy("-C", str(example_project), "envs")
    assert done.stdout.split() == ["dev", "prod", "qa"]
    assert json.loads(run_nvpolicy("-C", str(example_project), "envs", "--format", "json").stdout) == [
        "dev", "prod", "qa"]


def test_lint_all_reports_every_environment_and_exits_on_the_worst(example_project: Path) -> None:
    orders = example_project / "policies" / "orders.yaml"
    orders.write_text(orders.read_text(encoding="utf-8").replace("ports: udp/53", "ports: any"), encoding="utf-8")
    done = run_nvpolicy("-C", str(example_project), "lint", "--all", "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)["environments"]
    assert sorted(report) == ["dev", "prod", "qa"]
    assert all(any(f["rule"] == "any-ports" for f in env["findings"]) for env in report.values())
    both = run_nvpolicy("-C", str(example_project), "lint", "--all", "--env", "qa")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_lint_all_reports_every_environments_input_errors_in_one_run(example_project: Path) -> None:
    for env in ("qa", "prod"):
        path = example_project / "environments" / f"{env}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "policy_mode: Sleep\n", encoding="utf-8")
    done = run_nvpolicy("-C", str(example_project), "lint", "--all")
    assert done.returncode == 2
    assert "environments/qa.yaml" in done.stderr and "environments/prod.yaml" in done.stderr


def test_rules_lists_every_rule_and_shows_one_with_its_examples() -> None:
    listing = run_nvpolicy("rules")
    ids = [module.ID for module in load_rules(RULE_MODULES)]
    assert [line.split()[0] for line in listing.stdout.splitlines()] == ids
    one = run_nvpolicy("rules", "any-ports")
    assert one.returncode == 0 and "**PASS**" in one.stdout and "**FAIL**" in one.stdout
    assert "reference/rules/#any-ports" in one.stdout
    typo = run_nvpolicy("rules", "any-port")
    assert typo.returncode == 2 and "did you mean 'any-ports'" in typo.stderr


def test_sarif_rules_link_to_their_reference_entry(example_project: Path) -> None:
    done = run_nvpolicy("-C", str(example_project), "lint", "--env", "prod", "--format", "sarif")
    rules = json.loads(done.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all(rule["helpUri"].endswith(f"reference/rules/#{rule['id']}") for rule in rules)


def test_help_lists_format_choices_and_completion_is_on() -> None:
    assert "text, json, sarif, github or codequality" in run_nvpolicy("lint", "--help").stdout.replace("\n", " ")
    assert "--install-completion" in run_nvpolicy("--help").stdout


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
                    reason="mkdocs is a dev dependency (make install)")
def test_docs_site_builds_strictly_with_generated_references(tmp_path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-q", "-d",
                           str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=300, env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)})
    assert done.returncode == 0, done.stdout + done.stderr
    rules_page = (tmp_path / "site" / "reference" / "rules" / "index.html").read_text(encoding="utf-8")
    for module in load_rules(RULE_MODULES):
        assert f'id="{module.ID}"' in rules_page, module.ID
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("render", "validate", "lint", "diff", "publish", "import", "propose", "init", "schema",
                    "rules", "ci pr-comment"):
        assert f"nvpolicy {command}" in cli_page, command
