"""`nvpolicy ci pr-comment` against a fake GitHub comments API on 127.0.0.1: a rerun edits, never piles up."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fake_forge import FakeForge, running


@pytest.fixture
def github() -> Iterator[FakeForge]:
    with running("github") as server:
        yield server


def post(server: FakeForge, reports: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_API_URL": server.url,
           "GITHUB_TOKEN": "secret-token", "GITHUB_REPOSITORY": "org/policies"}
    return subprocess.run([str(REPO / ".venv" / "bin" / "nvpolicy"), "ci", "pr-comment", "github", "--pr", "7",
                           str(reports)],
                          capture_output=True, text=True, check=False, timeout=60, env=env)


def write_parts(reports: Path, parts: dict[str, list[str]]) -> None:
    for env, texts in parts.items():
        folder = reports / env
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.md"):
            old.unlink()
        for number, text in enumerate(texts, start=1):
            (folder / f"diff-{number:03}.md").write_text(text, encoding="utf-8")


def test_a_rerun_edits_the_earlier_comments_and_removes_parts_that_are_gone(github: FakeForge, tmp_path: Path) -> None:
    reports = tmp_path / "diff"
    write_parts(reports, {"dev": ["dev: no changes\n"], "prod": ["prod part 1\n", "prod part 2\n"]})
    first = post(github, reports)
    assert first.returncode == 0, first.stderr
    assert github.tokens == {"Bearer secret-token"}
    assert sorted(github.comments.values()) == sorted([
        "a human comment",
        "<!-- nvpolicy-diff env=dev part=1 -->\ndev: no changes\n",
        "<!-- nvpolicy-diff env=prod part=1 -->\nprod part 1\n",
        "<!-- nvpolicy-diff env=prod part=2 -->\nprod part 2\n",
    ])
    prod_one = next(key for key, body in github.comments.items() if "env=prod part=1" in body)

    write_parts(reports, {"dev": ["dev: no changes\n"], "prod": ["prod, now one part\n"]})
    second = post(github, reports)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["update", str(prod_one), "delete", str(prod_one + 1)]
    assert github.comments[prod_one] == "<!-- nvpolicy-diff env=prod part=1 -->\nprod, now one part\n"
    assert len(github.comments) == 3 and github.comments[1] == "a human comment"
    assert post(github, reports).stdout == ""  # nothing changed: nothing posted


def test_a_read_only_token_is_reported_without_a_traceback(github: FakeForge, tmp_path: Path) -> None:
    write_parts(tmp_path / "diff", {"prod": ["prod part 1\n"]})
    github.refuse = True
    result = post(github, tmp_path / "diff")
    assert result.returncode == 1
    assert "403" in result.stderr and "Resource not accessible by integration" in result.stderr
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
    assert github.comments == {1: "a human comment"}
