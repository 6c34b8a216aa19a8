"""``nvpolicy report``: the page is self-contained, loads in a real headless Chromium without console
errors, draws the flow graph (the page's own script counts what is drawn into the DOM) and is
photographed. Chromium comes from ``make browser`` (Debian's package); without it the browser test is
skipped with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_nvpolicy
from tests.propose_payloads import security_json

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil as sh

    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("report")
    project = root / "example"
    for folder in ("policies", "environments", "expect"):
        sh.copytree(REPO / folder, project / folder)
    events = root / "events.json"
    events.write_text(security_json(), encoding="utf-8")
    result = run_nvpolicy("-C", str(project), "report", "--all", "-o", str(root / "out"), "--events", str(events),
                          "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pages"] == ["dev.html", "prod.html", "qa.html"]
    return root / "out"


def test_page_is_self_contained_and_escapes_data(pages: Path) -> None:
    html = (pages / "dev.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must not load anything"
    for section in ("Allowed flows", "Rules, in decision order", "Lint", "Tests", "Replay"):
        assert section in html
    assert "orders.dev → redis.dev tcp/6379 Redis" in html  # replay rows
    assert "orders -&gt; redis tcp/6379 Redis" in html  # propose's fix, escaped as data


def test_report_refuses_to_wipe_a_directory_it_did_not_write(example_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "report", "--env", "prod", "-o", str(out))
    assert result.returncode == 2 and "did not write (notes.txt)" in result.stderr
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine\n"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (run `make browser` as root)")
def test_page_loads_in_chromium_draws_the_graph_and_is_photographed(pages: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = (pages / "prod.html").resolve().as_uri()
    dumped = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile-1'}", "--enable-logging=stderr",
                             "--v=0", "--dump-dom", page], capture_output=True, text=True, timeout=120, check=False)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    console = [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    body = re.search(r"<body([^>]*)>", dumped.stdout)
    assert body is not None
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attributes.get("data-ready") == "1", "the page's script did not run to its end"
    assert attributes["data-graph-nodes"] == "4" and attributes["data-graph-edges"] == "3"
    assert int(attributes["data-graph-width"]) > 500, "the SVG graph has no laid-out size"
    assert "4 groups and 3 allowed flows drawn" in dumped.stdout
    shot = tmp_path / "prod.png"
    taken = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile-2'}", f"--screenshot={shot}",
                            "--window-size=1400,1000", page], capture_output=True, text=True, timeout=120, check=False)
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
