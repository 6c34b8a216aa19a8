"""``nvpolicy test`` reads the policies marks-free and makes a document's marks only when a location is
asked (``pipeline.checked_renders``; rules and process entries locate themselves when a report asks).
Its output must be what reading every file with its marks gives: every format, every exit code, and
every error of a policy that does not render or validate.

The reference is the same command with the marks-free reader switched off (``fastload.load_indexed``
answering None sends each file to the full loader, as ``test`` read the policies before).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_nvpolicy

FORMATS = (("--format", "text"), ("--format", "text", "--verbose"), ("--format", "json"), ("--format", "junit"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bench's repo (20 services, 200 expectations), with some expectations turned to fail."""
    project = tmp_path_factory.mktemp("marks") / "repo"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(project), "--n", "20",
                    "--expect", "200"], check=True, capture_output=True)
    expect = project / "expect" / "generated.yaml"
    text = expect.read_text(encoding="utf-8")
    # Failures print the deciding rule's (or process entry's) location: the marks must be made for them.
    text = text.replace("expect: deny", "expect: ALLOW", 1)  # one deny turned to allow, ...
    text = text.replace("expect: allow", "expect: deny", 7).replace("expect: ALLOW", "expect: allow")  # 7 the other way
    expect.write_text(text, encoding="utf-8")
    return project


def both_ways(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    fast = run_nvpolicy(*args)
    with monkeypatch.context() as patched:
        patched.setattr("nvpolicy.fastload.load_indexed", lambda text: None)  # every file with its marks
        full = run_nvpolicy(*args)
    return (fast.returncode, fast.stdout, fast.stderr), (full.returncode, full.stdout, full.stderr)


@pytest.mark.parametrize("options", FORMATS, ids=lambda options: "-".join(o.strip("-") for o in options))
def test_every_format_is_what_the_full_reader_gives(generated: Path, monkeypatch: pytest.MonkeyPatch,
                                                    options: tuple[str, ...]) -> None:
    fast, full = both_ways(monkeypatch, "-C", str(generated), "test", "--all", *options)
    assert fast == full
    assert fast[0] == 1  # the turned expectations fail ...
    assert re.search(r"policies/[^:\s]+\.yaml:\d+:\d+", fast[1])  # ... and name their rules' lines


BREAKAGES = {
    # A placeholder that does not render (a render error with its line).
    "render": ("analytics", "ports: tcp/{{ http_port }}", "ports: tcp/{{ no_such_value }}"),
    # A value the schema refuses (a check of one object).
    "schema": ("catalog", "action: allow", "action: permit"),
    # Invalid YAML (the full loader's error, found at once).
    "yaml": ("analytics", "kind: NvSecurityRule", "kind: [NvSecurityRule"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_policy_that_does_not_render_gives_the_same_errors(generated: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, breakage: str) -> None:
    project = tmp_path / "repo"
    shutil.copytree(generated, project)
    folder, old, new = BREAKAGES[breakage]
    victim = sorted((project / "policies" / folder).glob("*.yaml"))[0]
    text = victim.read_text(encoding="utf-8")
    assert old in text
    victim.write_text(text.replace(old, new, 1), encoding="utf-8")
    fast, full = both_ways(monkeypatch, "-C", str(project), "test", "--all")
    assert fast == full
    assert fast[0] == 2
    assert victim.relative_to(project).as_posix() + ":" in fast[2]  # file:line of the breakage


def test_a_duplicate_object_gives_the_same_errors(generated: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A cross-object check (two objects of one name) refuses the repo, as render does."""
    project = tmp_path / "repo"
    shutil.copytree(generated, project)
    first = sorted((project / "policies" / "analytics").glob("*.yaml"))[0]
    shutil.copy(first, first.with_name("copy-" + first.name))
    fast, full = both_ways(monkeypatch, "-C", str(project), "test", "--all")
    assert fast == full
    assert fast[0] == 2
    render = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "1", "--no-cache")
    assert render.returncode == 2
