"""Shared test helpers: the real installed command, throwaway projects, the reference material."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.fake_controller import FakeController

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
CRD_FILE = REFERENCE / "neuvector-crds.yaml"
EXAMPLES = REFERENCE / "examples"
NVPOLICY = Path(sys.executable).parent / "nvpolicy"


def run_nvpolicy(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    subprocess_: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``nvpolicy`` as a user would: in this process (the CLI's own entry point, stdout and stderr
    captured, the working directory and environment set for the call), or as the installed console
    script where a process of its own is the point: standard input, a test-only fault injection
    that kills the process, or ``subprocess_=True``."""
    own_process = subprocess_ or input is not None or any(
        key.startswith(("NVPOLICY_TEST_", "NVPOLICY_PUBLISH_FAULT")) for key in (env or {}))
    if not own_process:
        return _in_process(args, cwd or REPO, env)
    full_env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"}
    if env:
        full_env.update(env)
    return subprocess.run(
        [str(NVPOLICY), *args], cwd=cwd or REPO, env=full_env, input=input,
        capture_output=True, text=True, timeout=300, check=False,
    )


def _in_process(args: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> subprocess.CompletedProcess[str]:
    import contextlib
    import io

    from nvpolicy.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    code: int = 0
    try:
        os.environ.pop("NVPOLICY_DEBUG", None)
        os.environ.update(env or {})
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess([str(NVPOLICY), *args], code, out.getvalue(), err.getvalue())


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root, by relative path; the way tests compare whole output trees."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def nvpolicy() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_nvpolicy


@pytest.fixture
def project(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """A fresh project dir made of the given files (paths relative to the project)."""

    def make(files: Mapping[str, str]) -> Path:
        return write_tree(tmp_path / "project", files)

    return make


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A copy of the bundled example (policies/, environments/ and expect/)."""
    import shutil

    target = tmp_path / "example"
    for folder in ("policies", "environments", "expect"):
        shutil.copytree(REPO / folder, target / folder)
    return target


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and key for the loopback fake NeuVector controller."""
    from tests.fake_controller import make_self_signed

    return make_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def fake(cert: tuple[Path, Path]) -> Iterator[FakeController]:
    """The fake controller, serving HTTPS on 127.0.0.1 for one test."""
    from tests.fake_controller import FakeController

    with FakeController(cert) as server:
        yield server
