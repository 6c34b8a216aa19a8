"""Render never touches the network: with every socket call failing, rendering still works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, tree_bytes

NO_NETWORK = """
import socket, sys

def refuse(*args, **kwargs):
    raise SystemExit("network access attempted")

socket.socket = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from nvpolicy.cli import main
main(sys.argv[1:])
"""


def test_render_runs_with_the_network_cut(example_project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "-C", str(example_project), "render", "--all"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "network access attempted" not in result.stderr
    for env in ("dev", "qa", "prod"):
        assert tree_bytes(example_project / "rendered" / env)
