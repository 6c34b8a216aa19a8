"""The invalid-CR corpus: each file of tests/validate_corpus/ is caught by its intended rule and only that one.

The first line of each file is ``# expect: <rule-id>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nvpolicy.inputs import load_objects
from nvpolicy.validate import validate_objects

from tests.conftest import run_nvpolicy

CORPUS = Path(__file__).parent / "validate_corpus"
CASES = sorted(CORPUS.glob("*.yaml"))


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ").strip()


def test_corpus_is_large_and_covers_every_import_check() -> None:
    from nvpolicy.rules import IMPORT_CHECKS, load_rules

    assert len(CASES) >= 30
    covered = {_expected(path) for path in CASES}
    assert {rule.ID for rule in load_rules(IMPORT_CHECKS)} <= covered


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_caught_by_exactly_the_intended_rule(path: Path) -> None:
    objects, findings = load_objects([(path, path.name)])
    findings += validate_objects(objects)
    assert {finding.rule for finding in findings} == {_expected(path)}, [str(f) for f in findings]
    assert all(finding.location.line > 1 for finding in findings)  # points into the document, past the comment


def test_cli_over_the_corpus_directory(tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(CORPUS.parent), "validate", str(CORPUS), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    by_file: dict[str, set[str]] = {}
    for finding in report["findings"]:
        by_file.setdefault(finding["file"], set()).add(finding["rule"])
    # One run sees every file at once, so the many objects named like the template collide on top.
    cross_file = {"duplicate-object", "group-consistency"}
    for path in CASES:
        rules = by_file[f"validate_corpus/{path.name}"]
        assert _expected(path) in rules and rules - {_expected(path)} <= cross_file, (path.name, rules)
