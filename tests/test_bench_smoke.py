"""The benchmark harness keeps working: generator + `bench/run.py` at N = 20, one repetition, no timings asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, run_nvpolicy, tree_bytes

FIGURES = ("render_over_floor", "naive_over_render", "check_jsonschema_over_validate", "validate_over_floor",
           "diff_over_floor", "cold_over_imports", "scaling_2x", "peak_rss_mb", "test_over_render", "parallel_speedup",
           "incremental_over_full", "rss_per_service_kb")


def _generate(out: Path, *extra: str) -> None:
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(out), "--n", "20", *extra],
                   check=True, capture_output=True, text=True)


def test_generator_is_deterministic_and_renders_cleanly(tmp_path: Path) -> None:
    _generate(tmp_path / "a")
    _generate(tmp_path / "b")
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    policies = [p for p in (tmp_path / "a" / "policies").rglob("*.yaml")]
    assert len(policies) == 21  # 20 services + the platform file

    result = run_nvpolicy("-C", str(tmp_path / "a"), "render", "--all")
    assert result.returncode == 0, result.stderr
    prod = tree_bytes(tmp_path / "a" / "rendered" / "prod")
    # An external peer binding in prod became an address group; qa binds some peers in another namespace.
    assert any(b"ext.dep" in text or b"ext-dep" in text for text in prod.values())
    qa = b"".join(tree_bytes(tmp_path / "a" / "rendered" / "qa").values())
    assert b"value: qa-dep" in qa
    # The dev-only document renders in dev alone.
    assert "_cluster/nvclustersecurityrule-dev-debug-tools.yaml" in tree_bytes(tmp_path / "a" / "rendered" / "dev")
    assert "_cluster/nvclustersecurityrule-dev-debug-tools.yaml" not in prod


def test_change_option_alters_about_one_percent(tmp_path: Path) -> None:
    _generate(tmp_path / "base")
    _generate(tmp_path / "changed", "--change", "10")
    base, changed = tree_bytes(tmp_path / "base"), tree_bytes(tmp_path / "changed")
    assert base.keys() == changed.keys()
    assert sum(base[path] != changed[path] for path in base) == 2  # 10% of 20 services


def test_generated_expectations_all_hold(tmp_path: Path) -> None:
    _generate(tmp_path / "repo", "--expect", "200")
    result = run_nvpolicy("-C", str(tmp_path / "repo"), "test", "--all", "--format", "json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0 and summary["total"] > 200  # most expectations hold in every environment


def test_harness_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--n", "20", "--reps", "1", "--rss-n", "40",
         "--out", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["n"] == 20
    for name in FIGURES:
        assert name in results, name
        assert results[name] is None or (isinstance(results[name], float) and results[name] > 0), name
        assert name in result.stdout  # the printed table names every figure
    # Figures of commands this build has are measured; absent ones are null with a note.
    for figure, command in (("check_jsonschema_over_validate", "validate"), ("diff_over_floor", "diff")):
        has = run_nvpolicy(command, "--help").returncode == 0
        if not has:
            assert results[figure] is None
            assert f"`nvpolicy {command}` does not exist" in result.stdout
    assert results["test_expectations"] == 200  # 10 per service
    assert results["test_outcomes"] > 200  # most hold in every environment
    assert results["test_outcomes_per_cpu_s"] == results["test_outcomes"] / results["test_s"]
    for name in ("render_over_floor", "naive_over_render", "validate_over_floor", "cold_over_imports", "scaling_2x",
                 "peak_rss_mb", "test_over_render", "parallel_speedup", "incremental_over_full", "rss_per_service_kb"):
        assert results[name] is not None, name
