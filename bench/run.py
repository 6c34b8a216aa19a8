"""``make bench``: nvpolicy against the libyaml floor and against what a user would run instead.

Every timed run is a fresh subprocess, so no cache of one repetition helps the next. For the
in-process figures (render, floor, naive) the worker imports its libraries first and times only
the work; cold start, validate and diff are timed as whole commands, as a user meets them. Each
figure is the median of its repetitions; ratios are taken within one run, so a busy machine
slows both sides alike. Results go to bench/results.json and a table on stdout.

    python bench/run.py [--n 1000] [--reps 3] [--rss-n 10000] [--out bench/results.json] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import ENVIRONMENTS, generate  # noqa: E402

BIN = Path(sys.executable).parent
NVPOLICY = BIN / "nvpolicy"

# name -> (goal text, test on the value)
GOALS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "render_over_floor": ("<= 1.0", lambda v: v <= 1.0),
    "naive_over_render": (">= 5", lambda v: v >= 5),
    "check_jsonschema_over_validate": (">= 5", lambda v: v >= 5),
    "validate_over_floor": ("<= 1.2", lambda v: v <= 1.2),
    "diff_over_floor": ("<= 1.5", lambda v: v <= 1.5),
    "cold_over_imports": ("<= 1.0", lambda v: v <= 1.0),
    "scaling_2x": ("<= 2.2", lambda v: v <= 2.2),
    "peak_rss_mb": ("<= 150", lambda v: v <= 150),
    "test_over_render": ("<= 1.0", lambda v: v <= 1.0),
    "parallel_speedup": (">= 1.6", lambda v: v >= 1.6),
    "incremental_over_full": ("<= 0.25", lambda v: v <= 0.25),
    "rss_per_service_kb": ("<= 25", lambda v: v <= 25),
}
RSS_SMALL_N = 100  # the baseline of rss_per_service_kb: the interpreter, libraries and a small repo
EXPECTATIONS_PER_SERVICE = 10  # N = 1000 gives the 10,000 expectations of the test_over_render goal


# ---------------------------------------------------------------------------------------------
# Workers: run in their own process, print {"seconds": …} as the last line of stdout.


def _worker_render(project: Path, out: Path) -> tuple[float, float]:
    """``nvpolicy render --all`` through the real command, in-process, libraries already imported."""
    import contextlib
    import io

    import jinja2.sandbox  # noqa: F401
    import jsonschema  # noqa: F401
    import nvpolicy.pipeline
    import nvpolicy.validate  # noqa: F401
    import referencing  # noqa: F401
    from nvpolicy.cli import app, register_commands

    register_commands()

    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        # One process (CPU time counts this one) and no cache: the figure is a full render.
        app(args=["-C", str(project), "render", "--all", "--jobs", "1", "--no-cache"], prog_name="nvpolicy",
            standalone_mode=False)
    return time.perf_counter() - start, time.process_time() - cpu


def _worker_floor(project: Path, out: Path) -> tuple[float, float]:
    """libyaml's C loader over the sources, its C dumper over the same output objects, and the writes."""
    import yaml

    loader, dumper = yaml.CSafeLoader, yaml.CSafeDumper
    rendered = project / "rendered"
    outputs = {env: [(path.relative_to(rendered / env), yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
                     for path in sorted((rendered / env).rglob("*.yaml"))] for env in ENVIRONMENTS}
    sources = sorted((project / "policies").rglob("*.yaml")) + sorted((project / "environments").glob("*.yaml"))
    start, cpu = time.perf_counter(), time.process_time()
    for path in sources:
        list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader))
    for env, files in outputs.items():
        for relative, data in files:
            target = out / env / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(yaml.dump(data, Dumper=dumper, sort_keys=False), encoding="utf-8")
    return time.perf_counter() - start, time.process_time() - cpu


def _worker_naive(project: Path, out: Path) -> tuple[float, float]:
    """What a Helm-minded user writes: Jinja over the YAML text, then PyYAML, jsonschema, yaml.dump.

    Text templating cannot insert a mapping into a quoted YAML value, so the one documented
    preprocessing step rewrites every whole-value placeholder ``"{{ expr }}"`` (quoted either
    way) to ``{{ (expr) | tojson }}``: JSON is YAML, so a selector mapping lands as a flow
    mapping and a number stays a number. Compiled templates are reused across environments,
    as Jinja's own loader would.
    """
    import re

    import jinja2
    import jsonschema
    import yaml
    from referencing import Registry, Resource

    whole = re.compile(r"""(["'])\{\{(.*?)\}\}\1""")

    def unquote(match: re.Match[str]) -> str:
        expr = match.group(2).replace("''", "'") if match.group(1) == "'" else match.group(2)
        return "{{ (" + expr.strip() + ") | tojson }}"

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (REPO / "schemas").glob("*.schema.json")}
    registry = Registry().with_resources([(name, Resource.from_contents(s)) for name, s in schemas.items()])
    sources = sorted((project / "policies").rglob("*.yaml"))
    environments = {env: yaml.safe_load((project / "environments" / f"{env}.yaml").read_text()) for env in ENVIRONMENTS}
    base = yaml.safe_load((project / "environments" / "_base.yaml").read_text())

    start, cpu = time.perf_counter(), time.process_time()
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    templates: dict[Path, jinja2.Template] = {}
    for env, settings in environments.items():
        peers = {**base.get("peers", {}), **settings.get("peers", {})}
        namespace = settings["namespace"]

        def service(name: str, ns: str | None = None, namespace: str = namespace) -> dict[str, Any]:
            ns = ns or namespace
            return {"name": f"nv.{name}.{ns}", "criteria": [{"key": "service", "op": "=", "value": f"{name}.{ns}"},
                                                           {"key": "domain", "op": "=", "value": ns}]}

        def peer(name: str, peers: dict[str, Any] = peers, service: Any = service,
                 namespace: str = namespace) -> dict[str, Any]:
            bound = peers[name]
            if "address" in bound:
                group = bound.get("group") or f"ext.{name}.{namespace}"
                return {"name": group, "criteria": [{"key": "address", "op": "=", "value": bound["address"]}]}
            made: dict[str, Any] = service(bound["service"], bound.get("namespace"))
            return made

        context = {**base.get("vars", {}), **settings.get("vars", {}), "env": env, "namespace": namespace,
                   "policy_mode": settings.get("policy_mode", base.get("policy_mode")), "peers": peers,
                   "service": service, "peer": peer}
        count = 0
        for path in sources:
            template = templates.get(path)
            if template is None:
                template = templates[path] = jinja.from_string(whole.sub(unquote, path.read_text(encoding="utf-8")))
            for document in yaml.load_all(template.render(context), Loader=yaml.SafeLoader):
                if not document or document.pop("when", True) is False:
                    continue
                jsonschema.validate(document, schemas[f"{document['kind'].lower()}.schema.json"], registry=registry)
                target = out / env / f"{count:06d}.yaml"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(yaml.dump(document), encoding="utf-8")
                count += 1
    return time.perf_counter() - start, time.process_time() - cpu


WORKERS = {"render": _worker_render, "floor": _worker_floor, "naive": _worker_naive}


# ---------------------------------------------------------------------------------------------
# Measuring


Timing = tuple[float, float]  # (CPU seconds, wall seconds)


def run_timed(command: Sequence[str], ok: Sequence[int] = (0,)) -> Timing:
    """CPU (user + system) and wall seconds of one whole command, start-up included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(list(command), capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in ok:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr.decode()[-2000:]}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def worker(name: str, project: Path, out: Path) -> tuple[Timing, float]:
    """CPU and wall seconds the worker timed, and the worker process's peak RSS in MiB."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(project), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return (float(report["cpu_seconds"]), float(report["seconds"])), float(report["peak_rss_mb"])


def total(timings: Sequence[Timing]) -> Timing:
    return sum(t[0] for t in timings), sum(t[1] for t in timings)


def ratio(results: dict[str, Any], name: str, top: list[Timing], bottom: list[Timing]) -> None:
    """The figure from CPU medians (robust on a shared machine), the wall-clock ratio beside it."""
    results[name] = median([t[0] for t in top]) / median([t[0] for t in bottom])
    results[f"{name}_wall"] = median([t[1] for t in top]) / median([t[1] for t in bottom])


def seconds(results: dict[str, Any], name: str, timings: list[Timing]) -> None:
    results[f"{name}_s"] = median([t[0] for t in timings])
    results[f"{name}_wall_s"] = median([t[1] for t in timings])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def has_command(name: str) -> bool:
    text = subprocess.run([str(NVPOLICY), "--help"], capture_output=True, text=True, check=False).stdout
    commands = text.split("Commands:", 1)[1] if "Commands:" in text else ""
    return any(line.split()[:1] == [name] for line in commands.splitlines())


def byte_compile() -> None:
    """nvpolicy byte-compiled, as pip compiles an installed wheel (and the libraries it is compared with).

    An editable install under PYTHONDONTWRITEBYTECODE would otherwise compile nvpolicy's ~80 modules
    from source on every timed start (~45 ms), which no installed nvpolicy does.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "compiler" / "nvpolicy")],
                   check=True, capture_output=True)


def rendered_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.yaml")) if p.name != "kustomization.yaml"]


def measure(n: int, reps: int, workdir: Path, log: Callable[[str], None], rss_n: int = 10_000) -> dict[str, Any]:
    results: dict[str, Any] = {"n": n}
    byte_compile()  # before anything is timed as a whole process
    project = generate(workdir / "repo", n)
    double = generate(workdir / "repo2x", 2 * n)
    # Rendered once up front: proves the repo renders cleanly, and gives the floor its output objects.
    for repo in (project, double):
        subprocess.run([str(NVPOLICY), "-C", str(repo), "render", "--all", "--no-cache"], check=True,
                       capture_output=True)

    log(f"render vs floor vs naive, N={n}, {reps} repetitions")
    render: list[Timing] = []
    floor: list[Timing] = []
    naive: list[Timing] = []
    render2x: list[Timing] = []
    rss: list[float] = []
    for rep in range(reps):
        floor.append(worker("floor", project, workdir / "floor-out")[0])
        timing, peak = worker("render", project, workdir / "unused")
        render.append(timing)
        rss.append(peak)
        render2x.append(worker("render", double, workdir / "unused")[0])
        if rep < max(1, min(reps, 3)):  # the naive pipeline is slow; three samples are plenty
            naive.append(worker("naive", project, workdir / "naive-out")[0])
        log(f"  rep {rep + 1} (CPU s): floor {floor[-1][0]:.2f} render {render[-1][0]:.2f} "
            f"render@2N {render2x[-1][0]:.2f}" + (f" naive {naive[-1][0]:.2f}" if len(naive) == rep + 1 else ""))
    for name, timings in (("render", render), ("floor", floor), ("naive", naive), ("render_2x", render2x)):
        seconds(results, name, timings)
    ratio(results, "render_over_floor", render, floor)
    ratio(results, "naive_over_render", naive, render)
    ratio(results, "scaling_2x", render2x, render)
    results["peak_rss_mb"] = median(rss)

    results.update(parallel_figures(project, reps, log))
    results.update(incremental_figures(workdir, n, reps, log))
    results.update(rss_figures(workdir, rss_n, log))
    results.update(cold_start(workdir, reps * 3, log))
    results.update(validate_figures(project, reps, log))
    results.update(diff_figures(workdir, n, reps, log))
    results.update(test_figures(workdir, n, reps, log))
    return results


def parallel_figures(project: Path, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Wall seconds of ``render --all --no-cache`` (3 environments) with ``--jobs 1`` over ``--jobs 2``.

    Wall-clock by nature (processes do not shrink CPU time): meaningful only on two idle cores.
    The runs are interleaved so load from elsewhere hits both alike; the CPU ratio beside it
    (``parallel_cpu_over_serial``) is what the split costs in all.
    """
    base = [str(NVPOLICY), "-C", str(project), "render", "--all", "--no-cache"]
    serial: list[Timing] = []
    parallel: list[Timing] = []
    for _ in range(max(reps, 3)):
        serial.append(run_timed([*base, "--jobs", "1"]))
        parallel.append(run_timed([*base, "--jobs", "2"]))
    results: dict[str, Any] = {}
    seconds(results, "render_jobs1", serial)
    seconds(results, "render_jobs2", parallel)
    results["parallel_speedup"] = median([t[1] for t in serial]) / median([t[1] for t in parallel])
    results["parallel_cpu_over_serial"] = median([t[0] for t in parallel]) / median([t[0] for t in serial])
    log(f"parallel (wall): --jobs 1 {results['render_jobs1_wall_s']:.2f}s, --jobs 2 "
        f"{results['render_jobs2_wall_s']:.2f}s (CPU {results['parallel_cpu_over_serial']:.2f}x)")
    return results


def incremental_figures(workdir: Path, n: int, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    """CPU of ``render --all`` after a 1% change, with the cache of the render before, over a full render.

    Both in one process (``--jobs 1``): CPU time is then the whole cost. The full render is
    ``--no-cache`` (neither reading nor writing one); the incremental one reads the cache, renders
    the changed files, writes the new cache and leaves unchanged output files in place.
    """
    changed = generate(workdir / "repo-changed", n, change=1)
    project = workdir / "repo-incremental"
    full: list[Timing] = []
    incremental: list[Timing] = []
    for _ in range(reps):
        if project.exists():
            shutil.rmtree(project)
        generate(project, n)
        render = [str(NVPOLICY), "-C", str(project), "render", "--all", "--jobs", "1"]
        full.append(run_timed([*render, "--no-cache"]))
        run_timed(render)  # fills the cache
        shutil.rmtree(project / "policies")
        shutil.copytree(changed / "policies", project / "policies")
        incremental.append(run_timed(render))
    results: dict[str, Any] = {}
    seconds(results, "render_full", full)
    seconds(results, "render_incremental", incremental)
    ratio(results, "incremental_over_full", incremental, full)
    log(f"incremental (CPU): full {results['render_full_s']:.2f}s, after a 1% change "
        f"{results['render_incremental_s']:.2f}s")
    return results


_PEAK_RSS = """import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kb(command: Sequence[str]) -> float:
    """The largest resident set of any process of ``command`` (parent or worker), in KiB.

    Run under a fresh Python so no earlier child's peak counts (ru_maxrss of children is a maximum
    over every child ever waited for).
    """
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS, *command], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def rss_figures(workdir: Path, big_n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Memory per service: (peak RSS of ``render --all --no-cache`` at N minus at N = 100) / N, in KiB.

    The default command (``--jobs`` = the cores available), so the peak is the largest of the
    parent and its workers; ``--jobs 1`` (one process holding it all) is not what this measures
    and peaks higher (docs/benchmarks.md). The small repo's peak is the fixed part (interpreter,
    libraries).
    """
    small_n = min(RSS_SMALL_N, max(1, big_n // 2))
    peaks = {}
    for count in (small_n, big_n):
        repo = generate(workdir / f"repo-rss-{count}", count)
        peaks[count] = peak_rss_kb([str(NVPOLICY), "-C", str(repo), "render", "--all", "--no-cache"])
    results: dict[str, Any] = {"rss_n": big_n, "rss_peak_mb": peaks[big_n] / 1024,
                               "rss_per_service_kb": (peaks[big_n] - peaks[small_n]) / big_n}
    log(f"memory: render --all at N={big_n} peaks at {peaks[big_n] / 1024:.0f} MiB, at N={small_n} "
        f"{peaks[small_n] / 1024:.0f} MiB: {results['rss_per_service_kb']:.1f} KiB per service")
    return results


def cold_start(workdir: Path, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    example = workdir / "example"
    if example.exists():
        shutil.rmtree(example)
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, example / folder)
    render_cmd = [str(NVPOLICY), "-C", str(example), "render", "--env", "prod"]
    imports_cmd = [sys.executable, "-c", "import typer, jinja2, yaml, jsonschema"]
    byte_compile()
    run_timed(render_cmd)  # warm the page cache for both sides
    run_timed(imports_cmd)
    cold: list[Timing] = []
    imports: list[Timing] = []
    for _ in range(reps):  # interleaved, so load on the machine hits both alike
        cold.append(run_timed(render_cmd))
        imports.append(run_timed(imports_cmd))
    results: dict[str, Any] = {}
    seconds(results, "cold", cold)
    seconds(results, "imports", imports)
    ratio(results, "cold_over_imports", cold, imports)
    log(f"cold start (CPU): render --env prod {results['cold_s'] * 1000:.0f} ms, "
        f"imports {results['imports_s'] * 1000:.0f} ms")
    return results


# The physical minimum of validating a rendered tree in Python: libyaml's C loader over each file and
# the compiled Draft 2020-12 validator (jsonschema-rs) of its kind, ``is_valid`` only, over the same
# schemas/ files. One process per directory, start-up included, as ``nvpolicy validate`` is timed.
_VALIDATE_FLOOR = """\
import json, pathlib, sys
import jsonschema_rs, yaml
schemas = pathlib.Path(sys.argv[1])
base = 'file:///floor/schemas/'
loaded = {p.name: json.loads(p.read_text(encoding='utf-8')) for p in schemas.glob('*.schema.json')}
registry = jsonschema_rs.Registry([(base + name, schema) for name, schema in loaded.items()])
validators = {}
invalid = 0
for path in sorted(pathlib.Path(sys.argv[2]).rglob('*.yaml')):
    if path.name == 'kustomization.yaml':
        continue
    data = yaml.load(path.read_text(encoding='utf-8'), Loader=yaml.CSafeLoader)
    name = data['kind'].lower() + '.schema.json'
    if name not in validators:
        validators[name] = jsonschema_rs.Draft202012Validator(loaded[name], registry=registry, base_uri=base + name)
    invalid += not validators[name].is_valid(data)
sys.exit(1 if invalid else 0)
"""


def validate_figures(project: Path, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``nvpolicy validate rendered/<env>`` for the 3 environments, as processes, against check-jsonschema
    (``check_jsonschema_over_validate``) and against the C loader + compiled-schema floor
    (``validate_over_floor``), all interleaved."""
    results: dict[str, Any] = {"check_jsonschema_over_validate": None, "validate_over_floor": None}
    if not has_command("validate"):
        log("note: `nvpolicy validate` does not exist in this build; check_jsonschema_over_validate and "
            "validate_over_floor are null")
        return results
    byte_compile()
    dirs = [project / "rendered" / env for env in ENVIRONMENTS]
    by_kind: dict[str, list[str]] = {}
    for directory in dirs:
        for path in rendered_files(directory):
            by_kind.setdefault(path.name.split("-", 1)[0], []).append(str(path))
    checker = BIN / "check-jsonschema"
    checks = [[str(checker), "--schemafile", str(REPO / "schemas" / f"{kind}.schema.json"), *files]
              for kind, files in sorted(by_kind.items())]
    if not checker.exists():
        log("note: check-jsonschema is not installed (pip install -e '.[bench]'); check_jsonschema_over_validate "
            "is null")
        checks = []
    validates = [[str(NVPOLICY), "-C", str(project), "validate", str(directory)] for directory in dirs]
    floors = [[sys.executable, "-c", _VALIDATE_FLOOR, str(REPO / "schemas"), str(directory)] for directory in dirs]
    theirs: list[Timing] = []
    ours: list[Timing] = []
    floor: list[Timing] = []
    for _ in range(reps):  # interleaved, so load on the machine hits all sides alike
        if checks:
            theirs.append(total([run_timed(command) for command in checks]))
        ours.append(total([run_timed(command) for command in validates]))
        floor.append(total([run_timed(command) for command in floors]))  # exit 0: every file is valid
    seconds(results, "validate", ours)
    seconds(results, "validate_floor", floor)
    ratio(results, "validate_over_floor", ours, floor)
    text = (f"nvpolicy validate {results['validate_s']:.2f}s, C loader + compiled schemas "
            f"{results['validate_floor_s']:.2f}s")
    if checks:
        seconds(results, "check_jsonschema", theirs)
        ratio(results, "check_jsonschema_over_validate", theirs, ours)
        text = f"check-jsonschema {results['check_jsonschema_s']:.2f}s, " + text
    log(f"validate (CPU): {text} ({sum(map(len, by_kind.values()))} files)")
    return results


_LOAD_TREES = """\
import pathlib, sys, yaml
for root in sys.argv[1:]:
    for path in sorted(pathlib.Path(root).rglob('*.yaml')):
        yaml.load(path.read_text(encoding='utf-8'), Loader=yaml.CSafeLoader)
"""


def diff_figures(workdir: Path, n: int, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    if not has_command("diff"):
        log("note: `nvpolicy diff` does not exist in this build; diff_over_floor is null")
        return {"diff_over_floor": None}
    changed = generate(workdir / "repo-changed", n, change=1)
    old, new = workdir / "diff-old", workdir / "diff-new"
    for repo, target in ((workdir / "repo", old), (changed, new)):
        subprocess.run([str(NVPOLICY), "-C", str(repo), "render", "--env", "prod", "--out", str(target)],
                       check=True, capture_output=True)
    diff_cmd = [str(NVPOLICY), "diff", "--old", str(old), "--new", str(new)]
    floor_cmd = [sys.executable, "-c", _LOAD_TREES, str(old), str(new)]
    ours: list[Timing] = []
    floor: list[Timing] = []
    for _ in range(reps):
        ours.append(run_timed(diff_cmd, ok=(0, 1)))
        floor.append(run_timed(floor_cmd))
    results: dict[str, Any] = {}
    seconds(results, "diff", ours)
    seconds(results, "diff_floor", floor)
    ratio(results, "diff_over_floor", ours, floor)
    log(f"diff (CPU): nvpolicy diff {results['diff_s']:.2f}s, C loader over both trees {results['diff_floor_s']:.2f}s")
    return results


def test_figures(workdir: Path, n: int, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``nvpolicy test --all`` (render and validate every environment, model it, decide every
    expectation) against ``nvpolicy render --all`` of the same repo, both as whole commands."""
    if not has_command("test"):
        log("note: `nvpolicy test` does not exist in this build; test_over_render is null")
        return {"test_over_render": None}
    count = EXPECTATIONS_PER_SERVICE * n
    repo = generate(workdir / "repo-expect", n, expect=count)
    test_cmd = [str(NVPOLICY), "-C", str(repo), "test", "--all"]
    render_cmd = [str(NVPOLICY), "-C", str(repo), "render", "--all", "--jobs", "1", "--no-cache"]  # full, as test
    ours: list[Timing] = []
    renders: list[Timing] = []
    for _ in range(reps):
        ours.append(run_timed(test_cmd))  # exit 0: every generated expectation holds
        renders.append(run_timed(render_cmd))
    # Untimed: how many outcomes (expectation x environment it applies to) one run decides.
    summary = subprocess.run([*test_cmd, "--format", "json"], capture_output=True, check=True).stdout
    outcomes = int(json.loads(summary)["summary"]["total"])
    results: dict[str, Any] = {"test_expectations": count, "test_outcomes": outcomes}
    seconds(results, "test", ours)
    seconds(results, "test_render", renders)
    ratio(results, "test_over_render", ours, renders)
    results["test_outcomes_per_cpu_s"] = outcomes / results["test_s"]  # the whole command, rendering included
    log(f"test (CPU): nvpolicy test --all with {count:,} expectations ({outcomes:,} outcomes, "
        f"{results['test_outcomes_per_cpu_s']:,.0f} per CPU second) {results['test_s']:.2f}s, "
        f"render --all {results['test_render_s']:.2f}s")
    return results


def table(results: dict[str, Any]) -> str:
    lines = [f"nvpolicy bench, N = {results['n']} services x {len(ENVIRONMENTS)} environments", "",
             f"{'figure':<32} {'value':>8}  {'goal':<8} status", "-" * 60]
    for name, (goal, test) in GOALS.items():
        value = results.get(name)
        if value is None:
            lines.append(f"{name:<32} {'null':>8}  {goal:<8} n/a (command not in this build)")
        else:
            lines.append(f"{name:<32} {value:>8.2f}  {goal:<8} {'ok' if test(value) else 'MISSED'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=int(os.environ.get("N") or 1000))
    parser.add_argument("--reps", type=int, default=int(os.environ.get("REPS") or 3))
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--rss-n", type=int, default=int(os.environ.get("RSS_N") or 10_000),
                        help="services of the repo whose render's memory is measured (rss_per_service_kb)")
    parser.add_argument("--workdir", type=Path, help="keep the generated repos here (default: a temporary dir)")
    parser.add_argument("--worker", nargs=3, metavar=("NAME", "PROJECT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, project, out = args.worker
        seconds, cpu = WORKERS[name](Path(project), Path(out))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak}))
        return 0

    def log(text: str) -> None:
        print(text, flush=True)

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = measure(args.n, args.reps, args.workdir, log, args.rss_n)
    else:
        with tempfile.TemporaryDirectory(prefix="nvpolicy-bench-") as tmp:
            results = measure(args.n, args.reps, Path(tmp), log, args.rss_n)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print()
    print(table(results))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
