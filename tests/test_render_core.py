"""The core promises of `nvpolicy render`: determinism, all-or-nothing output, stale files removed, -C."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO, run_nvpolicy, tree_bytes


def test_same_bytes_under_any_hash_seed(example_project: Path, tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "1", "4242", "random"):
        out = tmp_path / f"out-{seed}"
        result = run_nvpolicy("-C", str(example_project), "render", "--env", "qa", "--out", str(out),
                              env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        trees.append(tree_bytes(out))
    assert trees[0], "nothing rendered"
    assert all(tree == trees[0] for tree in trees[1:])


def test_failed_render_leaves_previous_output_untouched(example_project: Path) -> None:
    assert run_nvpolicy("-C", str(example_project), "render", "--all").returncode == 0
    rendered = example_project / "rendered"
    before = tree_bytes(rendered)
    policy = example_project / "policies" / "orders.yaml"
    policy.write_text(policy.read_text().replace("ports: udp/53", "ports: udp/530000"))

    result = run_nvpolicy("-C", str(example_project), "render", "--all")

    assert result.returncode == 2
    assert "policies/orders.yaml:" in result.stderr and "Traceback" not in result.stderr
    assert tree_bytes(rendered) == before
    assert sorted(p.name for p in rendered.iterdir()) == ["dev", "prod", "qa"], "no staging leftovers"


def test_one_failing_environment_writes_no_environment(example_project: Path) -> None:
    (example_project / "environments" / "qa.yaml").write_text("extends: _base\nnamespace: QA\npolicy_mode: Monitor\n")
    result = run_nvpolicy("-C", str(example_project), "render", "--all")
    assert result.returncode == 2
    assert "environments/qa.yaml:2:12" in result.stderr
    assert not (example_project / "rendered").exists()


def test_files_of_removed_objects_disappear(example_project: Path) -> None:
    assert run_nvpolicy("-C", str(example_project), "render", "--env", "dev").returncode == 0
    out = example_project / "rendered" / "dev"
    assert (out / "dev" / "nvsecurityrule-nv.postgres.dev.yaml").is_file()
    (example_project / "policies" / "postgres.yaml").unlink()

    assert run_nvpolicy("-C", str(example_project), "render", "--env", "dev").returncode == 0
    assert sorted(tree_bytes(out)) == ["dev/nvsecurityrule-nv.orders.dev.yaml", "kustomization.yaml"]
    assert b"postgres.dev.yaml" not in (out / "kustomization.yaml").read_bytes()


def test_project_dir_from_anywhere_with_dash_c(example_project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_nvpolicy("-C", str(example_project), "render", "--env", "prod", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (example_project / "rendered" / "prod" / "kustomization.yaml").is_file()
    assert not any(elsewhere.iterdir())


def test_without_policies_dir_says_where_to_run(tmp_path: Path) -> None:
    result = run_nvpolicy("render", "--env", "prod", cwd=tmp_path)
    assert result.returncode == 2
    assert "no policies/ directory" in result.stderr and "-C DIR" in result.stderr


def test_version_and_help_with_examples_for_every_command() -> None:
    version = run_nvpolicy("--version")
    assert version.returncode == 0 and version.stdout.startswith("nvpolicy ")
    top = run_nvpolicy("--help")
    assert top.returncode == 0 and "-C, --directory DIR" in top.stdout
    commands = [line.split()[0] for line in top.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert "render" in commands
    for command in commands:
        text = run_nvpolicy(command, "--help").stdout
        assert "Examples:" in text and f"nvpolicy {command}" in text.split("Examples:")[1], command


def test_bundled_make_render_uses_namespace_only_from_command_line(tmp_path: Path) -> None:
    import subprocess

    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", "rendered", ".venv", "tests", "*.egg-info"))
    (copy / ".venv").symlink_to(REPO / ".venv")
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    make = ["make", "-s", "-o", ".venv/.installed", "render", "ENV=dev"]
    exported = subprocess.run(make, cwd=copy, capture_output=True, text=True,
                              env={**base, "NAMESPACE": "prod-hijack"}, check=False)
    assert exported.returncode == 0, exported.stderr
    assert (copy / "rendered" / "dev" / "dev").is_dir()
    given = subprocess.run([*make, "NAMESPACE=feature-6293"], cwd=copy,
                           capture_output=True, text=True, env=base, check=False)
    assert given.returncode == 0, given.stderr
    assert sorted(p.name for p in (copy / "rendered" / "dev").iterdir()) == ["feature-6293", "kustomization.yaml"]
