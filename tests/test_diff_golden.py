"""Golden diffs: ``tests/diff_cases/<case>/`` holds two rendered trees (``old/``, ``new/``) and the
expected output of ``nvpolicy diff --old old --new new`` in each format. Regenerate with
NVPOLICY_REGOLD=1 (and read the result before committing it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_nvpolicy

CASES = Path(__file__).parent / "diff_cases"
OUTPUTS = {"text": "expected.txt", "json": "expected.json", "markdown": "expected.md"}


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "old").is_dir())


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("output_format", sorted(OUTPUTS))
def test_golden_diff(case: str, output_format: str) -> None:
    folder = CASES / case
    result = run_nvpolicy("diff", "--old", "old", "--new", "new", "--format", output_format, "--exit-code",
                          cwd=folder)
    assert result.returncode == 1, result.stderr  # every case holds changes
    expected = folder / OUTPUTS[output_format]
    if os.environ.get("NVPOLICY_REGOLD"):
        expected.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == expected.read_text(encoding="utf-8")
    if output_format == "json":
        data = json.loads(result.stdout)
        assert data["format"] == "nvpolicy-diff/1"
        assert all(c["change"] in ("added", "removed", "changed", "moved") for o in data["objects"]
                   for c in o["changes"])


def test_golden_cases_reverse_to_opposite_exposure() -> None:
    """Swapping old and new turns every added into removed and widens into narrows for the address case."""
    folder = CASES / "address-groups"
    forward = json.loads(run_nvpolicy("diff", "--old", "old", "--new", "new", "--format", "json", cwd=folder).stdout)
    backward = json.loads(run_nvpolicy("diff", "--old", "new", "--new", "old", "--format", "json", cwd=folder).stdout)
    assert forward["summary"]["widens"] == backward["summary"]["narrows"] == 2
    assert forward["summary"]["narrows"] == backward["summary"]["widens"] == 1
