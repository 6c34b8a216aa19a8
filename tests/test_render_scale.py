"""render at scale: --jobs (chunks of policy files over processes), the render cache and staged writes,
through the real CLI on a generated repo.

Parallel output must be byte-identical to a serial run; a cache hit must give the bytes and the
findings a fresh render gives, be ignored whenever an input or nvpolicy changes, and leave
unchanged output files untouched on disk; a failed render leaves everything as it was.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy import render_run

from tests.conftest import REPO, run_nvpolicy, tree_bytes

CACHE = ".nvpolicy-cache"
# 70 services: 71 policy files, more than one chunk (render_run.MIN_CHUNK), so --jobs 2+ uses the pool.
SERVICES = 70


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(root / "repo"), "--n", str(SERVICES)],
                   check=True, capture_output=True)
    return root / "repo"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 policy files: still two chunks with --jobs 2, half the work of ``generated``."""
    root = tmp_path_factory.mktemp("small")
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(root / "repo"), "--n", "35"],
                   check=True, capture_output=True)
    return root / "repo"


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    shutil.copytree(generated, tmp_path / "repo")
    return tmp_path / "repo"


def _render(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_nvpolicy("-C", str(project), "render", "--all", *args)
    assert result.returncode == 0, result.stderr
    return result


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _service_file(project: Path, number: int) -> Path:
    return next(p for p in (project / "policies").rglob(f"svc-{number:05d}.yaml"))


def test_the_pool_is_used_at_this_size(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parallel tests below mean something only if --jobs 2 really splits the work."""
    used: list[int] = []
    original = render_run._run_pool

    def spy(*args: object, **kwargs: object) -> None:
        used.append(len(args[3]))  # type: ignore[arg-type]
        original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render_run, "_run_pool", spy)
    _render(project, "--jobs", "2", "--no-cache")
    assert used and used[0] >= 2
    _render(project, "--jobs", "1", "--no-cache")
    assert len(used) == 1  # --jobs 1 starts no pool


@pytest.mark.parametrize("output_format", ["crds", "list"])
def test_parallel_render_is_byte_identical_to_serial(project: Path, output_format: str) -> None:
    serial = _render(project, "--jobs", "1", "--no-cache", "--format", output_format)
    expected = tree_bytes(project / "rendered")
    shutil.rmtree(project / "rendered")
    parallel = _render(project, "--jobs", "3", "--no-cache", "--format", output_format)
    assert tree_bytes(project / "rendered") == expected
    assert parallel.stdout == serial.stdout  # environments reported in the same order, same counts
    assert [line.split(":")[0] for line in parallel.stdout.splitlines()] == ["dev", "prod", "qa"]
    assert not (project / CACHE).exists()  # --no-cache writes none


def test_errors_of_every_environment_are_reported_together_and_nothing_is_written(project: Path) -> None:
    (project / "policies" / "broken.yaml").write_text(
        "apiVersion: neuvector.com/v1\nkind: NvSecurityRule\nwhen: \"{{ env != 'prod' }}\"\n"
        "metadata:\n  name: \"{{ 'nv.broken.' ~ (dev_only_typo if env == 'dev' else qa_only_typo) }}\"\n"
        "  namespace: \"{{ namespace }}\"\nspec:\n  target:\n    selector: \"{{ service('x') }}\"\n",
        encoding="utf-8")
    _edit(_service_file(project, 5), "tcp/{{ http_port }}", "tcp/9-1")  # a check fails in every environment
    serial = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "1", "--no-cache")
    result = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "2")
    assert result.returncode == 2
    assert "dev_only_typo" in result.stderr and "qa_only_typo" in result.stderr, result.stderr
    assert "svc-00005.yaml:" in result.stderr and "tcp/9-1" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == serial.stderr  # the same errors at the same lines as one process without cache
    assert not (project / "rendered").exists() and not (project / CACHE).exists()


def test_a_cross_object_error_found_by_a_worker_is_reported_as_one_process_reports_it(project: Path) -> None:
    """Every object passes on its own; only the cross-object check (S20, run in a worker) fails."""
    _render(project)
    before = tree_bytes(project / "rendered")
    (project / "policies" / "zz-inconsistent.yaml").write_text(
        "apiVersion: neuvector.com/v1\nkind: NvClusterSecurityRule\nmetadata:\n  name: zz-inconsistent\nspec:\n"
        "  target:\n    selector: {name: web, criteria: [{key: app, op: '=', value: web}]}\n  egress:\n"
        "  - {name: r1, action: allow, selector: {name: web, criteria: [{key: app, op: '=', value: api}]}}\n",
        encoding="utf-8")
    parallel = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "2")
    serial = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "1", "--no-cache")
    assert parallel.returncode == serial.returncode == 2
    assert "zz-inconsistent.yaml:9:" in parallel.stderr and "S20" in parallel.stderr, parallel.stderr
    assert parallel.stderr == serial.stderr
    assert tree_bytes(project / "rendered") == before  # nothing of the failed run was swapped in
    assert not [p for p in (project / "rendered").iterdir() if p.name.startswith(".")]


def test_a_failed_render_leaves_every_earlier_output_and_cache_as_it_was(project: Path) -> None:
    _render(project)
    before = tree_bytes(project / "rendered")
    cache_before = tree_bytes(project / CACHE)
    _edit(_service_file(project, 7), "tcp/{{ http_port }}", "tcp/{{ no_such_value }}")
    result = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "2")
    assert result.returncode == 2 and "no_such_value" in result.stderr
    assert tree_bytes(project / "rendered") == before
    assert tree_bytes(project / CACHE) == cache_before
    assert not [p for p in project.rglob("*") if ".tmp" in p.name or p.name.startswith(".nvpolicy-staging")]


def _tamper(cache: Path, old: str, new: str, header: tuple[str, str] | None = None) -> None:
    """Rewrite a value inside the cache files' entries (marshal keeps a string's bytes as they are;
    ``new`` is as long as ``old``), and in the header line if asked."""
    assert len(old) == len(new)
    for path in cache.iterdir():
        data = path.read_bytes()
        if header is not None:
            assert header[0].encode() in data
            data = data.replace(header[0].encode(), header[1].encode(), 1)
        assert old.encode() in data
        path.write_bytes(data.replace(old.encode(), new.encode()))


def test_second_render_reuses_the_cache_and_a_cache_of_another_version_is_ignored(project: Path) -> None:
    _render(project)
    fresh = tree_bytes(project / "rendered")
    assert len(list((project / CACHE).iterdir())) == 3  # one per environment
    # Rewrite a value inside the cached entries: a render that reuses them shows it (proof of reuse).
    _tamper(project / CACHE, "tcp/9090", "tcp/9091")
    _render(project, "--jobs", "2")
    reused = b"".join(tree_bytes(project / "rendered").values())
    assert b"tcp/9091" in reused and b"tcp/9090" not in reused
    # The same cache under another nvpolicy version is never trusted.
    _tamper(project / CACHE, "tcp/9091", "tcp/9092", header=('"nvpolicy": "', '"nvpolicy": "0.0.0-'))
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    # Safe to delete.
    shutil.rmtree(project / CACHE)
    _render(project)
    assert tree_bytes(project / "rendered") == fresh


def test_publish_never_reads_the_render_cache(project: Path, tmp_path: Path) -> None:
    """What is published (and gated) is rendered afresh: a tampered cache shows in render, never in publish."""
    from tests.publish_helpers import init_repo, publish

    _render(project)
    _tamper(project / CACHE, "tcp/9090", "tcp/9091")
    _render(project)
    assert b"tcp/9091" in b"".join(tree_bytes(project / "rendered").values())  # render does use it
    init_repo(project, {".gitignore": "rendered/\n.nvpolicy-cache/\n"})
    deploy = init_repo(tmp_path / "deploy", {"README.md": "deploy\n"})
    result = publish(project, deploy, "--no-gate", "--reason", "cache test", env="prod")
    assert result.returncode == 0, result.stderr
    published = b"".join(path.read_bytes() for path in sorted(deploy.rglob("*.yaml")) if ".git" not in path.parts)
    assert b"tcp/9090" in published and b"tcp/9091" not in published


@pytest.mark.parametrize(("change", "args"), [
    ("environment file", ()),
    ("--set", ("--set", "vars.http_port=8181")),
    ("--for", ("--for", "rest")),
    ("policy file", ()),
    ("budget setting", ()),
])
def test_a_changed_input_is_never_served_from_the_cache(project: Path, change: str, args: tuple[str, ...],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _render(project)
    # Poison every entry: any entry reused after the change would show 'tcp/6666' in the output.
    _tamper(project / CACHE, "tcp/8080", "tcp/6666")
    if change == "environment file":
        _edit(project / "environments" / "_base.yaml", "region: eu-west-1", "region: eu-west-2")  # every env's
    elif change == "policy file":
        for path in (project / "policies").rglob("*.yaml"):
            path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same YAML, other bytes
    elif change == "budget setting":
        monkeypatch.setenv("NVPOLICY_VALUE_SIZE", "65000")
    _render(project, *args)
    cached = tree_bytes(project / "rendered")
    _render(project, "--no-cache", *args)
    assert tree_bytes(project / "rendered") == cached
    assert b"tcp/6666" not in b"".join(cached.values())


def test_a_corrupt_cache_or_a_linked_cache_folder_is_ignored_never_followed(project: Path, tmp_path: Path) -> None:
    _render(project, "--no-cache")
    fresh = tree_bytes(project / "rendered")
    _render(project)
    for path in (project / CACHE).iterdir():  # a line cut short, a line of garbage, bytes that are not ASCII
        text = path.read_bytes()
        path.write_bytes(text[: len(text) // 2] + b"\nnot a key {[\n\xff\xfe")
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    # A well-formed file whose entries are not: each entry cut short, or of another shape.
    for number, path in enumerate(sorted((project / CACHE).iterdir())):
        header, _, body = path.read_bytes().partition(b"\n")
        entries = marshal.loads(body)
        assert entries and all(isinstance(entry, bytes) for entry in entries.values())
        spoilt = {key: entry[: len(entry) // 2] if number % 2 else marshal.dumps({"not": "an entry"})
                  for key, entry in entries.items()}
        path.write_bytes(header + b"\n" + marshal.dumps(spoilt))
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    # A cache folder that is a link: refused, nothing read or written through it.
    shutil.rmtree(project / CACHE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / CACHE).symlink_to(elsewhere)
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    assert list(elsewhere.iterdir()) == []
    # A file where the folder should be: the same.
    (project / CACHE).unlink()
    (project / CACHE).write_text("not a folder", encoding="utf-8")
    _render(project)
    assert tree_bytes(project / "rendered") == fresh
    assert (project / CACHE).read_text(encoding="utf-8") == "not a folder"


def test_cache_deleted_during_a_render_only_costs_time(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _render(project)
    fresh = tree_bytes(project / "rendered")
    original = render_run._chunks

    def delete_then_chunk(*args: object) -> object:
        shutil.rmtree(project / CACHE)  # after the entries were looked up, before anything is written
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(render_run, "_chunks", delete_then_chunk)
    _edit(_service_file(project, 3), "tcp/{{ http_port }}", "tcp/7777")
    _render(project, "--jobs", "2")
    monkeypatch.undo()
    cached = tree_bytes(project / "rendered")
    assert cached != fresh
    _render(project, "--no-cache")
    assert tree_bytes(project / "rendered") == cached


def test_change_renders_like_a_fresh_run_and_unchanged_files_stay_untouched(project: Path) -> None:
    _render(project)
    before = {path: os.stat(path) for path in (project / "rendered").rglob("*.yaml")}
    _edit(_service_file(project, 3), "tcp/{{ http_port }}", "tcp/7777")
    _render(project, "--jobs", "2")
    after = {path: os.stat(path) for path in (project / "rendered").rglob("*.yaml")}
    assert after.keys() == before.keys()
    rewritten = {path.name for path in before if after[path].st_ino != before[path].st_ino}
    assert len(rewritten) == 3 and all(name.startswith("nvsecurityrule-nv.svc-00003.") for name in rewritten)
    for path in before:
        if path.name not in rewritten:  # same bytes: the very file, mtime kept
            assert after[path].st_mtime_ns == before[path].st_mtime_ns, path
            assert after[path].st_ino == before[path].st_ino, path
    assert b"tcp/7777" in b"".join(tree_bytes(project / "rendered").values())
    # The cached render gave exactly the bytes of a fresh one.
    cached = tree_bytes(project / "rendered")
    _render(project, "--no-cache", "--jobs", "1")
    assert tree_bytes(project / "rendered") == cached


def test_jobs_must_not_be_negative(project: Path) -> None:
    result = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr


# A change to the inputs between two renders: (what, value). Some break the render (findings).
_CHANGES = st.lists(st.one_of(
    st.tuples(st.just("port"), st.sampled_from(["8080", "8181", "9-1", "{{ http_port }}"])),
    st.tuples(st.just("env"), st.sampled_from(["8080", "8282"])),
    st.tuples(st.just("set"), st.sampled_from(["", "vars.http_port=8383", "namespace=shop-x"])),
    st.tuples(st.just("for"), st.sampled_from(["crd", "rest"])),
    st.tuples(st.just("format"), st.sampled_from(["crds", "list"])),
    st.tuples(st.just("jobs"), st.sampled_from(["1", "2"])),
), min_size=1, max_size=3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=_CHANGES)
def test_a_cache_hit_gives_the_bytes_and_findings_of_a_miss(small: Path, tmp_path_factory: pytest.TempPathFactory,
                                                            changes: list[tuple[str, str]]) -> None:
    """Whatever changed since the cache was made, a render with it equals one without: files, output
    and errors (with their lines) alike."""
    root = tmp_path_factory.mktemp("property")
    project = root / "repo"
    shutil.copytree(small, project)
    shutil.copytree(project, root / "twin")  # rendered only without a cache
    options: dict[str, str] = {"set": "", "for": "crd", "format": "crds", "jobs": "1"}
    _render(project)
    _render(root / "twin", "--no-cache")
    for what, value in changes:
        for repo in (project, root / "twin"):
            if what == "port":
                path = _service_file(repo, 11)
                text = path.read_text(encoding="utf-8")
                start = text.index("ports: tcp/") + len("ports: tcp/")
                path.write_text(text[:start] + value + text[text.index("\n", start):], encoding="utf-8")
            elif what == "env":
                base = repo / "environments" / "_base.yaml"
                text = base.read_text(encoding="utf-8")
                start = text.index("http_port: ") + len("http_port: ")
                base.write_text(text[:start] + value + text[text.index("\n", start):], encoding="utf-8")
        if what in options:
            options[what] = value
        args = ["--for", options["for"], "--format", options["format"]]
        args += ["--set", options["set"]] if options["set"] else []
        cached = run_nvpolicy("-C", str(project), "render", "--all", "--jobs", options["jobs"], *args)
        fresh = run_nvpolicy("-C", str(root / "twin"), "render", "--all", "--jobs", "1", "--no-cache", *args)
        assert (cached.returncode, cached.stdout, cached.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
        assert tree_bytes(project / "rendered") == tree_bytes(root / "twin" / "rendered")
