"""A render killed at any moment leaves ``rendered/<env>/`` as the old or the new complete tree.

Two ways to kill: SIGKILL after random short delays (whatever step the run has reached), and
the test-only fault injection ``NVPOLICY_TEST_KILL_AT=<point>`` (compiler/nvpolicy/_fs.py) for the exact
steps around the swap. After every kill, the next normal run succeeds and removes the staging
trees the killed runs left.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import NVPOLICY, REPO, run_nvpolicy, tree_bytes

ENV = "dev"
# A second version of the sources: a different port, and the postgres policy gone, so the new
# tree both changes a file and drops one; a half-swapped tree would show.
CHANGES = {"tcp/{{ peers.db.port }}": "tcp/{{ peers.db.port + 1 }}"}


Trees = tuple[Path, dict[str, bytes], dict[str, bytes]]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    """A project holding the old sources, and the old and new output trees (rendered once per module)."""
    project = tmp_path_factory.mktemp("crash") / "project"
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, project / folder)
    _use_version(project, new=True)
    new = _render(project)
    _use_version(project, new=False)
    old = _render(project)
    assert old != new and set(old) != set(new)
    return project, old, new


def _versions(trees: Trees, tmp_path: Path) -> Trees:
    """A private copy of the project, its rendered/ holding the old tree."""
    template, old, new = trees
    project = tmp_path / "project"
    shutil.copytree(template, project, symlinks=True)
    assert tree_bytes(project / "rendered" / ENV) == old
    return project, old, new


def _use_version(project: Path, *, new: bool) -> None:
    orders = (REPO / "policies" / "orders.yaml").read_text(encoding="utf-8")
    postgres = project / "policies" / "postgres.yaml"
    if new:
        for before, after in CHANGES.items():
            orders = orders.replace(before, after)
        postgres.unlink(missing_ok=True)
    else:
        shutil.copy(REPO / "policies" / "postgres.yaml", postgres)
    (project / "policies" / "orders.yaml").write_text(orders, encoding="utf-8")


def _render(project: Path) -> dict[str, bytes]:
    result = run_nvpolicy("-C", str(project), "render", "--env", ENV)
    assert result.returncode == 0, result.stderr
    return tree_bytes(project / "rendered" / ENV)


def _leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "rendered").iterdir() if p.name.startswith(".nvpolicy-"))


def _start(project: Path, kill_at: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"}
    if kill_at:
        env["NVPOLICY_TEST_KILL_AT"] = kill_at
    return subprocess.Popen([str(NVPOLICY), "-C", str(project), "render", "--env", ENV], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("point", ["file-1", "file-2", "before-swap", "after-swap"])
def test_kill_at_each_step_leaves_old_or_new_tree(point: str, trees: Trees, tmp_path: Path) -> None:
    project, old, new = _versions(trees, tmp_path)
    _use_version(project, new=True)
    process = _start(project, kill_at=point)
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL
    expected = new if point == "after-swap" else old
    assert tree_bytes(project / "rendered" / ENV) == expected
    assert _leftovers(project), "the killed run should have left its staging tree behind"

    assert _render(project) == new
    assert _leftovers(project) == []


def test_first_render_killed_before_swap_leaves_no_output(trees: Trees, tmp_path: Path) -> None:
    project, _old, new = _versions(trees, tmp_path)
    shutil.rmtree(project / "rendered" / ENV)
    process = _start(project, kill_at="before-swap")
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert not (project / "rendered" / ENV).exists()
    _use_version(project, new=True)
    assert _render(project) == new
    assert _leftovers(project) == []


def test_random_kills_never_leave_a_partial_tree(trees: Trees, tmp_path: Path) -> None:
    project, old, new = _versions(trees, tmp_path)
    state = old
    chooser = random.Random(9)
    outcomes = set()
    for attempt in range(10):
        wanted = attempt % 2 == 0  # alternate, so every run moves towards the other tree
        _use_version(project, new=wanted)
        target = new if wanted else old
        process = _start(project)
        time.sleep(chooser.uniform(0.05, 0.9))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        outcomes.add(process.returncode)
        after = tree_bytes(project / "rendered" / ENV)
        assert after in (state, target), f"attempt {attempt}: a partial tree after a kill"
        state = after
    _use_version(project, new=True)
    assert _render(project) == new
    assert _leftovers(project) == []
    assert outcomes <= {0, -signal.SIGKILL}, "a run failed instead of finishing or being killed"


@pytest.mark.parametrize("stop", ["TERM", "INT"])
def test_a_stop_between_environment_swaps_lands_after_every_swap(tmp_path: Path, stop: str) -> None:
    """render --all replaces one tree per environment; a TERM or Ctrl-C among them waits until all are in."""
    calm, stopped = tmp_path / "calm", tmp_path / "stopped"
    for project in (calm, stopped):
        for folder in ("policies", "environments"):
            shutil.copytree(REPO / folder, project / folder)
    assert run_nvpolicy("-C", str(stopped), "render", "--all").returncode == 0  # the old trees
    for project in (calm, stopped):
        _use_version(project, new=True)
    assert run_nvpolicy("-C", str(calm), "render", "--all").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"}
    env["NVPOLICY_TEST_KILL_AT"] = f"between-swaps:{stop}"
    result = subprocess.run([str(NVPOLICY), "-C", str(stopped), "render", "--all"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == (-signal.SIGTERM if stop == "TERM" else 130), result.stderr
    assert "Traceback" not in result.stderr
    environments = sorted(p.name for p in (calm / "rendered").iterdir())
    assert len(environments) >= 2  # several swaps: the point between them was reached
    for name in environments:
        assert tree_bytes(stopped / "rendered" / name) == tree_bytes(calm / "rendered" / name), name
    assert run_nvpolicy("-C", str(stopped), "render", "--all").returncode == 0
    assert _leftovers(stopped) == []  # what the stopped run could not remove, the next one does
