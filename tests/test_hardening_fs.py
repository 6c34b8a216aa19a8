"""The file-system layer (nvpolicy._fs and its users): bounded reads, exclusive atomic writes, confinement.

The corpus (tests/bad_inputs/) covers what one CLI run over a project shows; these cover what needs
stdin, a planted link beside a target, a signal mid-write, a umask or a property over many names.
Hangs are what some of these guard against, so every CLI run has a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy import _fs
from nvpolicy.emit import OutputFile, replace_directory
from nvpolicy.errors import OutputError, SourceError

from tests import propose_payloads as payloads
from tests.conftest import EXAMPLES, NVPOLICY, run_nvpolicy, tree_bytes
from tests.fake_controller import APIKEY, FakeController

HANG_LIMIT = 20  # seconds: each refusal here takes well under one


def _run(*args: str, stdin: int | None = None, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"} | (env or {})
    return subprocess.run([str(NVPOLICY), *args], stdin=stdin, capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=HANG_LIMIT, check=False)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------------------------
# Bounded reads


@pytest.mark.parametrize("command", [["import", "-", "--namespace", "web"], ["propose", "-", "--namespace", "web"]])
def test_endless_stdin_is_cut_off_at_the_cap(command: list[str], tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        result = _run("-C", str(tmp_path), *command, stdin=zero.fileno())
    assert result.returncode == 2, result.stderr
    assert f"<stdin>: error: input is larger than the {_fs.MAX_INPUT_BYTES:,} bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_fifo_nobody_writes_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "export.yaml"
    os.mkfifo(fifo)
    for command in (["import", str(fifo), "--namespace", "web"], ["validate", str(fifo)],
                    ["propose", str(fifo), "--namespace", "web"]):
        result = _run("-C", str(tmp_path), *command)
        assert result.returncode == 2, (command, result.stderr)
        assert "is a FIFO (named pipe), expected a regular file" in result.stderr


def test_a_device_file_under_policies_is_an_error_with_its_path(example_project: Path) -> None:
    device = example_project / "policies" / "zero.yaml"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD")
    for command in (["render", "--env", "dev"], ["validate", "policies"], ["lint", "--env", "dev"]):
        result = _run("-C", str(example_project), *command)
        assert result.returncode == 2, (command, result.stderr)
        assert "policies/zero.yaml: error: is a device file" in result.stderr, result.stderr


def test_reading_stops_at_the_cap_whatever_the_size_claims(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 100)
    assert _fs.read_bytes(path, limit=100) == b"x" * 100
    with pytest.raises(SourceError, match="larger than the 99 bytes"):
        _fs.read_bytes(path, limit=99)
    with pytest.raises(SourceError, match="is a device file"):
        _fs.read_bytes(Path("/dev/zero"))


def test_a_link_is_refused_where_links_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    assert _fs.read_bytes(tmp_path / "link.yaml") == b"a: 1\n"
    with pytest.raises(SourceError, match="is a symlink"):
        _fs.read_bytes(tmp_path / "link.yaml", follow_symlinks=False)


# ---------------------------------------------------------------------------------------------
# Exclusive, atomic writes


def test_write_never_goes_through_a_planted_link(tmp_path: Path) -> None:
    """The old fixed temporary name (`.<name>.nvpolicy-tmp`) could be planted as a link; no name can be now."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    target = tmp_path / "out" / "events.json"
    target.parent.mkdir()
    (target.parent / ".events.json.nvpolicy-tmp").symlink_to(victim)
    _fs.write_atomic(target, "{}\n")
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert target.read_text(encoding="utf-8") == "{}\n" and not target.is_symlink()
    assert sorted(p.name for p in target.parent.iterdir()) == [".events.json.nvpolicy-tmp", "events.json"]


def test_a_target_that_is_a_link_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    (tmp_path / "out.json").symlink_to(victim)
    with pytest.raises(OutputError, match="it is a symlink"):
        _fs.write_atomic(tmp_path / "out.json", "{}\n")
    assert victim.read_text(encoding="utf-8") == "precious\n"


def test_several_files_are_written_all_or_none(tmp_path: Path) -> None:
    first, blocked = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("old\n", encoding="utf-8")
    blocked.mkdir()
    with pytest.raises(OutputError, match=r"b\.yaml: it is a directory"):
        _fs.write_all_atomic({first: "new\n", blocked: "new\n"})
    assert first.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]  # no temporary file left


@pytest.mark.parametrize("stop", ["TERM", "INT"])
def test_a_stop_between_renames_lands_after_the_whole_write(tmp_path: Path, stop: str) -> None:
    """import writes policy files and an environment file; a stop mid-way leaves all of them, or none."""
    sample = EXAMPLES / "neuvector-docs_usingcrd_sample-exported-crd.yaml"
    command = ("import", str(sample), "-n", "demo", "--env-out", "environments/demo.yaml")
    calm, stopped = tmp_path / "calm", tmp_path / "stopped"
    for project in (calm, stopped):
        project.mkdir()
    assert _run("-C", str(calm), *command).returncode == 0
    result = _run("-C", str(stopped), *command, env={"NVPOLICY_TEST_KILL_AT": f"between-renames:{stop}"})
    # The held signal is delivered once the write is whole: TERM ends the process, Ctrl-C is reported.
    assert result.returncode == (-15 if stop == "TERM" else 130), result.stderr
    assert "Traceback" not in result.stderr
    written = tree_bytes(stopped)
    assert written == tree_bytes(calm)
    assert len(written) >= 2  # several files: the point between renames was reached
    assert not [name for name in written if ".tmp" in name or name.startswith(".")]


def test_new_files_honour_the_umask_and_replaced_files_keep_their_mode(tmp_path: Path, umask_022: None) -> None:
    new, kept = tmp_path / "new.yaml", tmp_path / "kept.yaml"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o640)
    _fs.write_all_atomic({new: "a\n", kept: "b\n"})
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text(encoding="utf-8") == "b\n"


def test_events_output_is_written_exclusively(fake: FakeController, cert: tuple[Path, Path], tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI for a test cert")
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    (tmp_path / ".events.json.nvpolicy-tmp").symlink_to(victim)
    out = tmp_path / "events.json"
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "-o", str(out),
                          env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 0, result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert set(json.loads(out.read_text(encoding="utf-8"))) == {"violations", "incidents"}

    (tmp_path / "linked.json").symlink_to(victim)
    refused = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "-o",
                           str(tmp_path / "linked.json"), env={"NVPOLICY_APIKEY": APIKEY})
    assert refused.returncode == 2 and "it is a symlink" in refused.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"


# ---------------------------------------------------------------------------------------------
# Render's output directory


def test_rendered_folders_honour_the_umask(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "rendered" / "prod"
    replace_directory(target, [OutputFile("ns/a.yaml", "a: 1\n"), OutputFile("kustomization.yaml", "k\n")])
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "ns").stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "ns" / "a.yaml").stat().st_mode) == 0o644


def test_a_leftover_staging_link_is_removed_not_followed(example_project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.yaml").write_text("mine\n", encoding="utf-8")
    rendered = example_project / "rendered"
    rendered.mkdir(exist_ok=True)
    dead_pid = 2**22 + 1  # above Linux's pid_max: no such process
    (rendered / f".nvpolicy-staging-dev-{dead_pid}-abc").symlink_to(outside, target_is_directory=True)
    (rendered / f".nvpolicy-retired-dev-{dead_pid}").symlink_to(outside, target_is_directory=True)
    result = _run("-C", str(example_project), "render", "--env", "dev")
    assert result.returncode == 0, result.stderr
    assert tree_bytes(outside) == {"keep.yaml": b"mine\n"}
    assert sorted(p.name for p in rendered.iterdir()) == ["dev"]


def test_a_refused_linked_target_leaves_no_staging_behind(example_project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kustomization.yaml").write_text("resources: []\n", encoding="utf-8")
    (example_project / "rendered").mkdir(exist_ok=True)
    (example_project / "rendered" / "dev").symlink_to(elsewhere, target_is_directory=True)
    result = _run("-C", str(example_project), "render", "--env", "dev")
    assert result.returncode == 2 and "output directory rendered/dev is a symlink" in result.stderr
    assert sorted(p.name for p in (example_project / "rendered").iterdir()) == ["dev"]
    assert tree_bytes(elsewhere) == {"kustomization.yaml": b"resources: []\n"}


def test_render_replaces_its_own_output_in_either_format(example_project: Path) -> None:
    for output_format in ("crds", "list", "crds"):
        result = _run("-C", str(example_project), "render", "--env", "dev", "--format", output_format)
        assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# propose --write: confined, and rolled back on SIGTERM


def _events(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "events.json"
    path.write_text(body, encoding="utf-8")
    return path


def test_propose_write_rolls_back_on_sigterm(example_project: Path, tmp_path: Path) -> None:
    events = _events(tmp_path, payloads.security_json())
    before = tree_bytes(example_project)
    result = _run("-C", str(example_project), "propose", str(events), "--env", "dev", "--write",
                  env={"NVPOLICY_TEST_KILL_AT": "proposals-written:TERM"})
    assert result.returncode == 128 + 15, result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(example_project) == before


def test_a_service_name_from_an_event_never_leaves_policies(example_project: Path, tmp_path: Path) -> None:
    escape = ("x-1", "../../escaped", "dev")
    incident = payloads.incident("i-9", 5, escape, "jcmd", "/usr/bin/jcmd", "java", "/usr/bin/java")
    events = _events(tmp_path, json.dumps({"incidents": [incident]}))
    before = tree_bytes(example_project)
    result = _run("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    # Not a DNS-1123 name: the event is ignored with its reason, and nothing is written anywhere.
    assert result.returncode == 0, result.stderr
    assert "'../../escaped' is not a DNS-1123 name" in result.stdout
    assert not list(tmp_path.rglob("escaped*")) and not (example_project.parent / "escaped.yaml").exists()
    assert tree_bytes(example_project) == before


def test_propose_write_refuses_a_linked_policy_folder(example_project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (example_project / "policies").rename(outside)
    (example_project / "policies").symlink_to(outside, target_is_directory=True)
    result = _run("-C", str(example_project), "propose", str(_events(tmp_path, payloads.security_json())),
                  "--env", "dev", "--write")
    assert result.returncode == 2 and "is a symlink" in result.stderr


# ---------------------------------------------------------------------------------------------
# Confinement, over many names


_NAME_PART = st.sampled_from(["..", ".", "", "a", "b.yaml", "/", "//", "x/../..", "\\", "..a", "a..", "~"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_NAME_PART, min_size=1, max_size=6))
def test_confined_paths_stay_below_their_root(parts: list[str]) -> None:
    root = Path("/srv/project/policies")
    name = "/".join(parts)
    try:
        result = _fs.confined(root, root / name)
    except OutputError:
        return
    assert result.is_relative_to(root) and result != root
    assert ".." not in result.parts
    assert os.path.normpath(result) == str(result)


def test_confined_refuses_a_link_on_the_way(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    (root / "team").mkdir(parents=True)
    (root / "linked").symlink_to(tmp_path, target_is_directory=True)
    assert _fs.confined(root, root / "team" / "new" / "x.yaml") == root / "team" / "new" / "x.yaml"
    with pytest.raises(OutputError, match="is a symlink"):
        _fs.confined(root, root / "linked" / "x.yaml")
    with pytest.raises(OutputError, match="outside"):
        _fs.confined(root, root / ".." / "x.yaml")


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="FIFOs, /dev/zero and umask semantics as on Linux")
