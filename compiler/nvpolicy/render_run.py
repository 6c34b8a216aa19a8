"""Render several environments fast: the policy files split into chunks over processes (``--jobs``),
render's cache for files that did not change, each environment staged as soon as it is ready.

Work is split by environment and chunk of policy files, so 3 environments keep 2 cores busy to the
end. A worker renders its chunk's documents, checks each object on its own (schema, size, the
per-object import checks) and emits its text; it sends back plain data and text, never object
trees with marks. The parent runs the cross-object checks over each environment's objects and
lays out its files. Whenever anything fails (a placeholder, a check, the budget), that
environment is rendered again the ordinary way (``pipeline.render_environment``), in this
process and without the cache, so every error keeps its file:line; the errors of all
environments are reported together. ``--jobs 1``, or work that fits one chunk, uses no pool.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nvpolicy.budget import Budget
from nvpolicy.emit import OutputFile, dump
from nvpolicy.environment import Environment, load_environment
from nvpolicy.errors import ErrorGroup, NvPolicyError, RenderError
from nvpolicy.model import Marks, RenderedObject, SourceDocument
from nvpolicy.pipeline import (
    MAX_REPORTED_ERRORS,
    PolicySource,
    _bulk,
    _raise_all,
    check_objects,
    check_settings,
    layout,
    policy_sources,
    render_environment,
)
from nvpolicy.render import Renderer
from nvpolicy.render_cache import CachedObject, FileResult, PendingCache, RenderCache, file_digest

if TYPE_CHECKING:
    from nvpolicy.rules import CheckSettings

# A chunk is at least this many policy files: smaller ones cost more in hand-over than they gain.
MIN_CHUNK = 32
# Chunks per worker: enough that the last round is short, few enough that hand-over stays cheap.
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class EnvironmentOutput:
    name: str
    objects: int
    paths: tuple[str, ...]  # the files written, relative to the environment's folder
    cache: PendingCache | None = None  # moved in by ``commit_caches`` once all is written


@dataclass(frozen=True)
class RenderRequest:
    """What every environment of one ``render`` shares."""

    project: Path
    overrides: tuple[str, ...]
    output_format: str  # crds or list
    apply_path: str  # crd or rest
    cache_dir: Path | None = None


@dataclass
class _Environment:
    """One environment's share of the run: its files' results, filled in by the cache and the chunks."""

    name: str
    environment: Environment
    settings: CheckSettings
    cache: RenderCache | None
    keys: list[str]
    results: list[FileResult | None]
    pending: int = 0  # chunks not back yet
    failed: bool = False  # a chunk found a problem: rendered again the ordinary way for exact errors
    seconds: float = 0.0
    misses: list[int] = field(default_factory=list)


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# What forked workers inherit from the parent (copy on write, nothing pickled): the run's request,
# its policy files and environments. Set just before the pool starts, cleared after.
_SHARED: tuple[RenderRequest, Sequence[PolicySource], dict[str, _Environment]] | None = None


def render_outputs(request: RenderRequest, names: Sequence[str], *, jobs: int = 1,
                   on_ready: Callable[[str, list[OutputFile]], None] | None = None) -> list[EnvironmentOutput]:
    """Every environment's output, in the order named; raises with the errors of all environments.

    ``on_ready(name, files)`` takes each environment's files as soon as they are made (render
    stages them on disk), so one environment's text is in memory at a time; it is not called
    once an error was found. The caller undoes what it did with them if this raises; new cache
    files are left pending (``commit_caches`` / ``discard_caches``).
    """
    # The whole run without the cyclic collector: what it builds (sources, cache entries, objects)
    # is acyclic and freed by reference counting (``pipeline._bulk``).
    with _bulk():
        return _render_outputs(request, names, jobs, on_ready)


def _render_outputs(request: RenderRequest, names: Sequence[str], jobs: int,
                    on_ready: Callable[[str, list[OutputFile]], None] | None) -> list[EnvironmentOutput]:
    global _SHARED
    sources = policy_sources(request.project)
    digests = [file_digest(source.raw) for source in sources] if request.cache_dir is not None else []
    budget = Budget.from_environ(os.environ)
    errors: dict[str, NvPolicyError] = {}  # a source error is found by every environment: reported once
    omitted = 0

    def failed(error: NvPolicyError) -> None:
        nonlocal omitted
        for each in error.errors if isinstance(error, ErrorGroup) else (error,):
            errors.setdefault(each.format_message(), each)
        omitted += error.omitted if isinstance(error, ErrorGroup) else 0

    plans: dict[str, _Environment] = {}
    for name in names:
        try:
            plans[name] = _plan(request, name, sources, digests, budget)
        except NvPolicyError as error:
            failed(error)
    tasks = _chunks(plans, max(1, jobs))
    outputs: list[EnvironmentOutput] = []
    try:
        if len(tasks) <= 1 or jobs <= 1 or not _can_fork():
            _run_serial(request, sources, plans, tasks, budget, outputs, failed, on_ready, lambda: bool(errors))
        else:
            _SHARED = (request, sources, plans)
            _warm_up()
            _run_pool(request, sources, plans, tasks, budget, min(jobs, len(tasks)), outputs, failed, on_ready,
                      lambda: bool(errors))
    except BaseException:
        discard_caches(outputs)  # staging failed (or an interrupt): no cache file is left behind
        raise
    finally:
        _SHARED = None
    if errors:
        discard_caches(outputs)
        if omitted:
            raise ErrorGroup(list(errors.values())[:MAX_REPORTED_ERRORS], omitted=omitted)
        _raise_all(list(errors.values()))
    return outputs


def _plan(request: RenderRequest, name: str, sources: Sequence[PolicySource], digests: Sequence[str],
          budget: Budget) -> _Environment:
    """Load the environment and look its files up in the cache; the misses are left to render."""
    environment = load_environment(request.project, name, request.overrides)
    settings = check_settings(environment, request.apply_path)
    cache = None
    if request.cache_dir is not None:
        cache = RenderCache(request.cache_dir, environment, (settings, request.output_format, budget))
    plan = _Environment(name, environment, settings, cache, [], [None] * len(sources))
    for index, source in enumerate(sources):
        if cache is None:
            plan.misses.append(index)
            continue
        key = cache.key(source.display, digests[index])
        plan.keys.append(key)
        hit = cache.get(key)
        if hit is None:
            plan.misses.append(index)
        else:
            plan.results[index] = hit
    return plan


def _chunks(plans: dict[str, _Environment], jobs: int) -> list[tuple[str, tuple[int, ...]]]:
    """(environment, policy file indexes) to render, in the order environments are named."""
    total = sum(len(plan.misses) for plan in plans.values())
    size = max(MIN_CHUNK, -(-total // (jobs * CHUNKS_PER_WORKER)))
    tasks = []
    for name, plan in plans.items():
        for start in range(0, len(plan.misses), size):
            tasks.append((name, tuple(plan.misses[start:start + size])))
        plan.pending = -(-len(plan.misses) // size)
    return tasks


def _run_serial(request: RenderRequest, sources: Sequence[PolicySource], plans: dict[str, _Environment],
                tasks: list[tuple[str, tuple[int, ...]]], budget: Budget, outputs: list[EnvironmentOutput],
                failed: Callable[[NvPolicyError], None],
                on_ready: Callable[[str, list[OutputFile]], None] | None, stop: Callable[[], bool]) -> None:
    by_name: dict[str, list[tuple[int, ...]]] = {}
    for name, indexes in tasks:
        by_name.setdefault(name, []).append(indexes)
    for name, plan in plans.items():
        for indexes in by_name.get(name, []):
            _take(plan, indexes, _render_chunk(request, sources, plan, indexes))
        _finish(request, sources, plan, budget, outputs, failed, on_ready, stop)


def _run_pool(request: RenderRequest, sources: Sequence[PolicySource], plans: dict[str, _Environment],
              tasks: list[tuple[str, tuple[int, ...]]], budget: Budget, workers: int,
              outputs: list[EnvironmentOutput], failed: Callable[[NvPolicyError], None],
              on_ready: Callable[[str, list[OutputFile]], None] | None, stop: Callable[[], bool]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # Results are taken in order with a bounded number in flight, so the parent holds about one
    # environment's objects plus a few chunks, not every environment at once.
    in_flight: deque[tuple[str, tuple[int, ...], Future[_ChunkResult]]] = deque()
    queue = deque(tasks)
    remaining = {name: plan.pending for name, plan in plans.items()}
    finished: set[str] = set()

    def finish_ready() -> None:
        for name, plan in plans.items():  # in the order named: outputs and staging follow it
            if name in finished:
                continue
            if remaining[name]:
                return
            finished.add(name)
            _finish(request, sources, plan, budget, outputs, failed, on_ready, stop)

    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            finish_ready()  # environments wholly cached
            while queue or in_flight:
                while queue and len(in_flight) < workers * 2:
                    name, indexes = queue.popleft()
                    in_flight.append((name, indexes, pool.submit(_render_forked, name, indexes)))
                name, indexes, future = in_flight.popleft()
                _take(plans[name], indexes, future.result())
                remaining[name] -= 1
                finish_ready()
    except BrokenProcessPool:
        raise RenderError("a render worker process died (out of memory?)",
                          hint="render with fewer processes: --jobs 1") from None
    finish_ready()


_ChunkResult = tuple[list[FileResult], float] | None  # None: something failed, render again for the errors


def _render_forked(name: str, indexes: tuple[int, ...]) -> _ChunkResult:
    assert _SHARED is not None, "a render worker runs forked from render_outputs"
    request, sources, plans = _SHARED
    return _render_chunk(request, sources, plans[name], indexes)


def _render_chunk(request: RenderRequest, sources: Sequence[PolicySource], plan: _Environment,
                  indexes: tuple[int, ...]) -> _ChunkResult:
    """Render, check one by one and emit the given policy files; None as soon as anything fails."""
    from nvpolicy.validate import validate_objects

    renderer = Renderer(plan.environment)
    meter = renderer.meter
    results: list[FileResult] = []
    objects: list[RenderedObject] = []
    with _bulk():
        try:
            for index in indexes:
                before = meter.render_size
                made = [obj for obj in map(renderer.render, sources[index].documents()) if obj is not None]
                objects.extend(made)
                results.append(FileResult(tuple(CachedObject(obj.data, None) for obj in made),
                                          meter.render_size - before))
            findings = validate_objects(objects, plan.settings, cross=False)
        except NvPolicyError:
            return None
        if any(finding.level == "error" for finding in findings):
            return None
        if request.output_format == "crds":
            results = [FileResult(tuple(CachedObject(obj.data, dump(obj.data)) for obj in result.objects),
                                  result.size) for result in results]
    return results, meter.render_seconds


def _take(plan: _Environment, indexes: tuple[int, ...], outcome: _ChunkResult) -> None:
    if outcome is None:
        plan.failed = True
        return
    results, seconds = outcome
    plan.seconds += seconds
    for index, result in zip(indexes, results, strict=True):
        plan.results[index] = result


def _finish(request: RenderRequest, sources: Sequence[PolicySource], plan: _Environment, budget: Budget,
            outputs: list[EnvironmentOutput], failed: Callable[[NvPolicyError], None],
            on_ready: Callable[[str, list[OutputFile]], None] | None, stop: Callable[[], bool]) -> None:
    """Check the environment's objects together and lay out its files; on any problem, render it the
    ordinary way for errors with their lines (the cache only ever speeds up a render that succeeds)."""
    try:
        made = None if plan.failed else _assemble(request, sources, plan, budget)
        if made is None:
            made = _render_exactly(request, sources, plan)
    except NvPolicyError as error:
        failed(error)
        return
    files, count = made
    pending = None
    if plan.cache is not None:
        for index in plan.misses:
            result = plan.results[index]
            assert result is not None
            plan.cache.put(plan.keys[index], result)
    plan.results = []  # the environment's objects are not needed any more
    if stop():
        return
    if on_ready is not None:
        on_ready(plan.name, files)
    if plan.cache is not None:
        pending = plan.cache.save()
    outputs.append(EnvironmentOutput(plan.name, count, tuple(file.path for file in files), pending))


def _assemble(request: RenderRequest, sources: Sequence[PolicySource], plan: _Environment,
              budget: Budget) -> tuple[list[OutputFile], int] | None:
    """The environment's files and object count from its checked objects, or None when the ordinary
    render must decide."""
    if sum(result.size for result in plan.results if result is not None) > budget.render_size \
            or plan.seconds > budget.render_seconds:
        return None  # the render's budget is spent: the ordinary render says where
    objects: list[RenderedObject] = []
    texts: dict[int, str] = {}
    with _bulk():
        for source, result in zip(sources, plan.results, strict=True):
            assert result is not None, "every policy file is cached or rendered by now"
            for index, cached in enumerate(result.objects):
                # No marks: were a check to fail, the ordinary render reports it with its lines.
                obj = RenderedObject(cached.data, SourceDocument(None, Marks(source.display), index))
                objects.append(obj)
                if cached.text is not None:
                    texts[id(obj)] = cached.text
        try:
            check_objects((), plan.settings, prechecked=objects)
            return layout(objects, request.output_format, texts), len(objects)
        except NvPolicyError:
            return None


def _render_exactly(request: RenderRequest, sources: Sequence[PolicySource],
                    plan: _Environment) -> tuple[list[OutputFile], int]:
    """The ordinary render, marks and all: raises with every problem at its place."""
    documents = [document for source in sources for document in source.documents()]
    rendered = render_environment(request.project, plan.name, request.overrides, documents,
                                  apply_path=request.apply_path)
    # It succeeded where the split render did not (only a render budget's clock can do that):
    # its output stands, and nothing of this environment is cached.
    plan.cache = None
    return layout(rendered.objects, request.output_format), len(rendered.objects)


def commit_caches(outputs: Sequence[EnvironmentOutput]) -> None:
    """Move the environments' new cache files in: after the outputs were written."""
    for output in outputs:
        if output.cache is not None:
            output.cache.commit()


def discard_caches(outputs: Sequence[EnvironmentOutput]) -> None:
    """A failed render leaves the project as it was: no cache file either."""
    for output in outputs:
        if output.cache is not None:
            output.cache.discard()


def _warm_up() -> None:
    """Load the checks and compile the schemas once, before the fork: every worker inherits them."""
    from nvpolicy.nv.kinds import REGISTRY
    from nvpolicy.rules import IMPORT_CHECKS, load_rules
    from nvpolicy.schema_registry import validator

    load_rules(IMPORT_CHECKS)
    for kind in REGISTRY.values():
        validator(kind.schema_file)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
