"""The CI templates `nvpolicy init` writes into a policy repo, and how tests run their scripts.

Scripts run as both runners run them: bash with -e and pipefail, `nvpolicy` found on PATH (the
project's .venv here; the installed wheel in tests/test_init_wheel.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

SCAFFOLD = REPO / "compiler" / "nvpolicy" / "scaffold"
GITHUB = SCAFFOLD / "github-workflow.yml"
GITLAB = SCAFFOLD / "gitlab-ci.yml"
VENV_BIN = REPO / ".venv" / "bin"


def path_with(bin_dir: Path = VENV_BIN) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def run_script(script: str, cwd: Path, extra_env: dict[str, str] | None = None,
               bin_dir: Path = VENV_BIN) -> subprocess.CompletedProcess[str]:
    """Run a template's script the way both runners do: bash with -e and pipefail."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300,
                          env={**os.environ, "PATH": path_with(bin_dir), **(extra_env or {})})


def github_step(name: str, job: str = "check") -> dict[str, Any]:
    steps = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"][job]["steps"]
    found: dict[str, Any] = next(step for step in steps if step.get("name") == name)
    return found


def gitlab_script(job: str = "check") -> list[str]:
    items: list[str] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))[job]["script"]
    return items
