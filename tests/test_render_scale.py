"""render at scale: --jobs (a process per environment) and the render cache, through the real CLI.

Parallel output must be byte-identical to a serial run; the cache must give the bytes a fresh render
gives, be ignored across versions, and leave unchanged output files untouched on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_nvpolicy, tree_bytes

CACHE = ".nvpolicy-cache"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(root / "repo"), "--n", "12"],
                   check=True, capture_output=True)
    return root / "repo"


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    shutil.copytree(generated, tmp_path / "repo")
    return tmp_path / "repo"


def _render(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_nvpolicy("-C", str(project), "render", "--all", *args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("output_format", ["crds", "list"])
def test_parallel_render_is_byte_identical_to_serial(project: Path, output_format: str) -> None:
    serial = _render(project, "--jobs", "1", "--no-cache", "--format", output_format)
    expected = tree_bytes(project / "rendered")
    shutil.rmtree(project / "rendered")
    parallel = _render(project, "--jobs", "3", "--no-cache", "--format", output_format)
    assert tree_bytes(project / "rendered") == expected
    assert parallel.stdout == serial.stdout  # environments reported in the same order
    assert {"dev", "qa", "prod"} <= {line.split(":")[0] for line in parallel.stdout.splitlines()}
    assert not (project / CACHE).exists()  # --no-cache writes none


def test_errors_of_every_environment_are_reported_together_and_nothing_is_written(project: Path) -> None:
    (project / "policies" / "broken.yaml").write_text(
        "apiVersion: neuvector.com/v1\nkind: NvSecurityRule\nwhen: \"{{ env != 'prod' }}\"\n"
        "metadata:\n  name: \"{{ 'nv.broken.' ~ (dev_only_typo if env == 'dev' else qa_only_typo) }}\"\n"
        "  namespace: \"{{ namespace }}\"\nspec:\n  target:\n    selector: \"{{ service('x') }}\"\n",
        encoding="utf-8")
    result = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "2")
    assert result.returncode == 2
    assert "dev_only_typo" in result.stderr and "qa_only_typo" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "rendered").exists() and not (project / CACHE).exists()


def _tamper(cache: Path, old: str, new: str, header: tuple[str, str] | None = None) -> None:
    for path in cache.iterdir():
        text = path.read_text(encoding="ascii")
        if header is not None:
            text = text.replace(*header, 1)
        path.write_text(text.replace(old, new), encoding="ascii")


def test_second_render_reuses_the_cache_and_a_cache_of_another_version_is_ignored(project: Path) -> None:
    _render(project)
    fresh = tree_bytes(project / "rendered")
    assert len(list((project / CACHE).iterdir())) == 3  # one per environment
    # Rewrite a value inside the cached entries: a render that reuses them shows it (proof of reuse).
    _tamper(project / CACHE, "tcp/9090", "tcp/9091")
    _render(project)
    reused = b"".join(tree_bytes(project / "rendered").values())
    assert b"tcp/9091" in reused and b"tcp/9090" not in reused
    # The same cache under another nvpolicy version is never trusted.
    _tamper(project / CACHE, "tcp/9091", "tcp/9092", header=('"nvpolicy": "', '"nvpolicy": "0.0.0-'))
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    # Safe to delete.
    shutil.rmtree(project / CACHE)
    _render(project)
    assert tree_bytes(project / "rendered") == fresh


def test_change_renders_like_a_fresh_run_and_unchanged_files_stay_untouched(project: Path) -> None:
    _render(project)
    before = {path: os.stat(path) for path in (project / "rendered").rglob("*.yaml")}
    edited = next(p for p in sorted((project / "policies").rglob("*.yaml")) if p.name == "svc-00003.yaml")
    edited.write_text(edited.read_text(encoding="utf-8").replace("tcp/{{ http_port }}", "tcp/7777", 1),
                      encoding="utf-8")
    _render(project, "--jobs", "2")
    after = {path: os.stat(path) for path in (project / "rendered").rglob("*.yaml")}
    assert after.keys() == before.keys()
    rewritten = {path.name for path in before if after[path].st_ino != before[path].st_ino}
    assert len(rewritten) == 3 and all(name.startswith("nvsecurityrule-nv.svc-00003.") for name in rewritten)
    for path in before:
        if path.name not in rewritten:  # same bytes: the very file, mtime kept
            assert after[path].st_mtime_ns == before[path].st_mtime_ns, path
    assert b"tcp/7777" in b"".join(tree_bytes(project / "rendered").values())
    # The cached render gave exactly the bytes of a fresh one.
    cached = tree_bytes(project / "rendered")
    _render(project, "--no-cache", "--jobs", "1")
    assert tree_bytes(project / "rendered") == cached


def test_jobs_must_not_be_negative(project: Path) -> None:
    result = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
