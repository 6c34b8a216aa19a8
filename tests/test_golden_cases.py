"""Golden folders: ``tests/cases/<case>/`` holds a project and what running a command on it gives.

Each case has ``cmd`` (the nvpolicy arguments, one line, run with -C <case copy>), its
``policies/`` and ``environments/``, and either ``expected/`` (the exact output tree the
command writes to ``out/``) or ``expected_error`` (exit code on the first line, then lines
that must all appear in stderr). Regenerate an output tree with NVPOLICY_REGOLD=1.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_nvpolicy, tree_bytes

CASES = Path(__file__).parent / "cases"


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "cmd").is_file())


@pytest.mark.parametrize("case", _cases())
def test_golden_case(case: str, tmp_path: Path) -> None:
    source = CASES / case
    work = tmp_path / case
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("expected", "expected_error", "cmd"))
    args = shlex.split((source / "cmd").read_text(encoding="utf-8").strip())
    result = run_nvpolicy("-C", str(work), *args, "--out", str(work / "out"))

    expected_error = source / "expected_error"
    if expected_error.is_file():
        code, *fragments = expected_error.read_text(encoding="utf-8").splitlines()
        assert result.returncode == int(code), result.stderr
        for fragment in filter(None, fragments):
            assert fragment in result.stderr, f"missing {fragment!r} in:\n{result.stderr}"
        assert "Traceback" not in result.stderr
        assert not (work / "out").exists(), "a failed render must not write output"
        return

    assert result.returncode == 0, result.stderr
    if os.environ.get("NVPOLICY_REGOLD"):
        shutil.rmtree(source / "expected", ignore_errors=True)
        shutil.copytree(work / "out", source / "expected")
    assert tree_bytes(work / "out") == tree_bytes(source / "expected")
