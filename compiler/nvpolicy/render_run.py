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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from nvpolicy.budget import Budget
from nvpolicy.emit import OutputFile, dump
from nvpolicy.environment import Environment, load_environment
from nvpolicy.errors import ErrorGroup, NvPolicyError, RenderError
from nvpolicy.model import Marks, ObjectId, RenderedObject, SourceDocument
from nvpolicy.pipeline import (
    MAX_REPORTED_ERRORS,
    PolicySource,
    bulk,
    check_objects,
    check_settings,
    layout,
    policy_sources,
    raise_all,
    render_environment,
)
from nvpolicy.render import Renderer

if TYPE_CHECKING:
    from nvpolicy.render_cache import FileResult, PendingCache, RenderCache
    from nvpolicy.rules import CheckSettings

# Render's cache folder in the project; its module is imported only when a render uses it (start-up).
CACHE_DIR = ".nvpolicy-cache"

# A chunk is at least this many policy files: smaller ones cost more in hand-over than they gain;
# at most MAX_CHUNK, so a worker holds few objects with their marks at a time (memory at large N).
MIN_CHUNK = 32
MAX_CHUNK = 250
# A repo with fewer policy files is rendered afresh every time, without a cache: it costs more than it saves.
MIN_CACHED_FILES = 32
# Chunks per worker: enough that the last round is short, few enough that hand-over stays cheap.
CHUNKS_PER_WORKER = 4


# Plain classes, not dataclasses: this module is imported by every render, and making a dataclass
# costs about half a millisecond of start-up each.


class EnvironmentOutput(NamedTuple):
    name: str
    objects: int
    paths: tuple[str, ...]  # the files written, relative to the environment's folder
    cache: PendingCache | None = None  # moved in by ``commit_caches`` once all is written


class RenderRequest(NamedTuple):
    """What every environment of one ``render`` shares."""

    project: Path
    overrides: tuple[str, ...]
    output_format: str  # crds or list
    apply_path: str  # crd or rest
    cache_dir: Path | None = None


class _Environment:
    """One environment's share of the run: its files' results, filled in by the cache and the chunks."""

    def __init__(self, name: str, environment: Environment, settings: CheckSettings, cache: RenderCache | None,
                 count: int) -> None:
        self.name, self.environment, self.settings, self.cache = name, environment, settings, cache
        self.keys: list[str] = []  # per policy file, its cache key (with a cache)
        # Per policy file: a cache key (a hit, decoded when assembled), its result, or None (not back yet).
        self.results: list[FileResult | str | None] = [None] * count
        # The chunks' results (``_render_chunk``), as marshal bytes: compact while the other chunks
        # come in. The data (for the checks) and the texts with the objects' ids (for the layout)
        # apart, so the parent of a pool never holds an environment's object trees.
        self.data: list[bytes] = []
        self.texts: list[bytes] = []
        self.entries: dict[int, bytes] = {}  # new cache entries by policy file, encoded
        self.ordinary = False  # rendered the ordinary way: a chunk found a problem (exact errors), or no split
        self.seconds = 0.0
        self.misses: list[int] = []


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# What forked workers inherit from the parent (copy on write, nothing pickled): the run's request,
# its policy files and environments. Set just before the pool starts, cleared after.
_SHARED: tuple[RenderRequest, Sequence[PolicySource], dict[str, _Environment], list[_Task]] | None = None


def render_outputs(request: RenderRequest, names: Sequence[str], *, jobs: int = 1,
                   on_ready: Callable[[str, list[OutputFile]], None] | None = None) -> list[EnvironmentOutput]:
    """Every environment's output, in the order named; raises with the errors of all environments.

    ``on_ready(name, files)`` takes each environment's files as soon as they are made (render
    stages them on disk), so one environment's text is in memory at a time; it is not called
    once an error was found. The caller undoes what it did with them if this raises; new cache
    files are left pending (``commit_caches`` / ``discard_caches``).
    """
    # The whole run without the cyclic collector: what it builds (sources, cache entries, objects)
    # is acyclic and freed by reference counting (``pipeline.bulk``).
    with bulk():
        return _render_outputs(request, names, jobs, on_ready)


def _render_outputs(request: RenderRequest, names: Sequence[str], jobs: int,
                    on_ready: Callable[[str, list[OutputFile]], None] | None) -> list[EnvironmentOutput]:
    global _SHARED
    sources = policy_sources(request.project)
    if len(sources) < MIN_CACHED_FILES:
        request = request._replace(cache_dir=None)  # reading and writing a cache costs more than it saves
    digests: list[str] = []
    if request.cache_dir is not None:
        from nvpolicy.render_cache import file_digest

        digests = [file_digest(source.raw) for source in sources]
    budget = Budget.from_environ(os.environ)
    # Each environment's errors, reported in the order the environments are named (as one process
    # finds them), whatever order the workers finish in.
    by_environment: dict[str, list[NvPolicyError]] = {}

    def failed(name: str, error: NvPolicyError) -> None:
        by_environment.setdefault(name, []).append(error)

    plans: dict[str, _Environment] = {}
    for name in names:
        try:
            plans[name] = _plan(request, name, sources, digests, budget)
        except NvPolicyError as error:
            failed(name, error)
    tasks = _chunks(plans, len(sources), max(1, jobs))
    outputs: list[EnvironmentOutput] = []
    try:
        def finish(plan: _Environment, checked: Callable[[], bool] | None = None) -> None:
            _finish(request, sources, plan, budget, outputs, failed, on_ready, lambda: bool(by_environment),
                    checked)

        def recheck(plan: _Environment) -> None:
            """A worker's cross-object check failed after the environment was staged: render it the ordinary way."""
            for number, output in enumerate(outputs):
                if output.name == plan.name:
                    discard_caches([output])
                    del outputs[number]
                    break
            plan.ordinary, plan.cache = True, None
            finish(plan)

        if len(tasks) <= 1 and request.cache_dir is None:
            # Work for one chunk and no cache (a small repo): the ordinary render, nothing to split.
            for plan in plans.values():
                plan.ordinary = True
                finish(plan)
        elif len(tasks) <= 1 or jobs <= 1 or not _can_fork():
            _run_serial(request, sources, plans, tasks)
            for plan in plans.values():  # in the order named: outputs and staging follow it
                finish(plan)
        else:
            _SHARED = (request, sources, plans, tasks)
            _warm_up()
            _run_pool(request, sources, plans, tasks, min(jobs, len(tasks)), budget, finish, recheck)
    except BaseException:
        discard_caches(outputs)  # staging failed (or an interrupt): no cache file is left behind
        raise
    finally:
        _SHARED = None
    if by_environment:
        discard_caches(outputs)
        _raise_in_order([error for name in names for error in by_environment.get(name, [])])
    order = {name: number for number, name in enumerate(names)}
    return sorted(outputs, key=lambda output: order[output.name])


def _raise_in_order(found: list[NvPolicyError]) -> None:
    """Every error once (a source error is found by every environment), in the order found."""
    errors: dict[str, NvPolicyError] = {}
    omitted = 0
    for error in found:
        for each in error.errors if isinstance(error, ErrorGroup) else (error,):
            errors.setdefault(each.format_message(), each)
        omitted += error.omitted if isinstance(error, ErrorGroup) else 0
    if omitted:
        raise ErrorGroup(list(errors.values())[:MAX_REPORTED_ERRORS], omitted=omitted)
    raise_all(list(errors.values()))


def _plan(request: RenderRequest, name: str, sources: Sequence[PolicySource], digests: Sequence[str],
          budget: Budget) -> _Environment:
    """Load the environment and look its files up in the cache; the misses are left to render."""
    environment = load_environment(request.project, name, request.overrides)
    settings = check_settings(environment, request.apply_path)
    cache = None
    if request.cache_dir is not None:
        from nvpolicy.render_cache import RenderCache

        cache = RenderCache(request.cache_dir, environment, (settings, request.output_format, budget))
    plan = _Environment(name, environment, settings, cache, len(sources))
    for index, source in enumerate(sources):
        if cache is None:
            plan.misses.append(index)
            continue
        key = cache.key(source.display, digests[index])
        plan.keys.append(key)
        if cache.has(key):
            plan.results[index] = key  # decoded when the environment is assembled: one at a time in memory
        else:
            plan.misses.append(index)
    return plan


_Task = tuple[tuple[int, tuple[str, ...]], ...]  # (policy file, the environments it is rendered for)


def _chunks(plans: dict[str, _Environment], count: int, jobs: int) -> list[_Task]:
    """The files to render, each once for every environment that misses it, in chunks of files.

    A file's documents are parsed once and rendered for every environment in the same chunk, so
    no process parses a file twice; the chunks are small enough to keep every worker busy.
    """
    needed: dict[int, list[str]] = {}
    for name, plan in plans.items():
        for index in plan.misses:
            needed.setdefault(index, []).append(name)
    work = [(index, tuple(needed[index])) for index in range(count) if index in needed]
    size = min(MAX_CHUNK, max(MIN_CHUNK, -(-len(work) // (jobs * CHUNKS_PER_WORKER))))
    return [tuple(work[start:start + size]) for start in range(0, len(work), size)]


def _run_serial(request: RenderRequest, sources: Sequence[PolicySource], plans: dict[str, _Environment],
                tasks: list[_Task]) -> None:
    for task in tasks:
        _take(plans, task, _render_chunk(request, sources, plans, task))


def _run_pool(request: RenderRequest, sources: Sequence[PolicySource], plans: dict[str, _Environment],
              tasks: list[_Task], workers: int, budget: Budget,
              finish: Callable[[_Environment, Callable[[], bool] | None], None],
              recheck: Callable[[_Environment], None]) -> None:
    """Chunks over the workers; then, per environment, the cross-object checks in a worker while
    this process lays out and stages its files."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for task, outcome in zip(tasks, pool.map(_render_forked, range(len(tasks))), strict=True):
                _take(plans, task, outcome)
            checks = {name: pool.submit(_cross_forked, name, plan.data, plan.seconds, budget)
                      for name, plan in plans.items() if not plan.ordinary}
            # Staged while the workers check: a failed check then renders that environment the ordinary
            # way (its errors, or its output staged again), and a failed render discards what was staged.
            for name, plan in plans.items():  # in the order named: outputs and staging follow it
                finish(plan, (lambda: True) if name in checks else None)
            for name, check in checks.items():
                if not check.result():
                    recheck(plans[name])
    except BrokenProcessPool:
        raise RenderError("a render worker process died (out of memory?)",
                          hint="render with fewer processes: --jobs 1") from None


# Per environment: (data, texts, new cache entries or None, placeholder seconds), or None when
# something failed (the ordinary render then finds the errors).
_ChunkResult = dict[str, tuple[bytes, bytes, dict[int, bytes] | None, float] | None]


def _render_forked(number: int) -> _ChunkResult:
    assert _SHARED is not None, "a render worker runs forked from render_outputs"
    request, sources, plans, tasks = _SHARED
    return _render_chunk(request, sources, plans, tasks[number])


def _render_chunk(request: RenderRequest, sources: Sequence[PolicySource], plans: dict[str, _Environment],
                  task: _Task) -> _ChunkResult:
    """Render the chunk's files for their environments, check each object on its own and emit its text."""
    import marshal

    from nvpolicy.rules._walk import cross_view
    from nvpolicy.validate import validate_objects

    renderers: dict[str, Renderer] = {}
    made: dict[str, list[tuple[int, int, list[RenderedObject]]]] = {}
    failed: set[str] = set()
    for index, names in task:
        try:
            documents = sources[index].parse()  # not kept: the next chunk's parse reuses the memory
        except NvPolicyError:
            failed.update(names)
            continue
        for name in names:
            if name in failed:
                continue
            renderer = renderers.get(name)
            if renderer is None:
                renderer = renderers[name] = Renderer(plans[name].environment)
            before = renderer.meter.render_size
            try:
                objects = [obj for obj in map(renderer.render, documents) if obj is not None]
            except NvPolicyError:
                failed.add(name)
                continue
            made.setdefault(name, []).append((index, renderer.meter.render_size - before, objects))
    outcome: _ChunkResult = {}
    emit = request.output_format == "crds"
    for name in dict.fromkeys(name for _, names in task for name in names):
        files = made.get(name, [])
        if name in failed or _has_errors(validate_objects([obj for *_, objects in files for obj in objects],
                                                          plans[name].settings, cross=False)):
            outcome[name] = None
            continue
        texts = [(index, [(_ident(obj.data), dump(obj.data) if emit else None) for obj in objects])
                 for index, _, objects in files]
        # With each object's text made, the rest of the run needs of its data only what the
        # cross-object checks read (the layout takes ids and texts); lists are laid out from the data.
        kept = [[cross_view(obj.data) if emit else obj.data for obj in objects] for _, _, objects in files]
        entries = None
        if plans[name].cache is not None:
            from nvpolicy.render_cache import CachedObject, FileResult, encode

            entries = {}
            for (index, size, _), data, (_, emitted) in zip(files, kept, texts, strict=True):
                encoded = encode(FileResult(tuple(CachedObject(item, text) for item, (_, text)
                                                  in zip(data, emitted, strict=True)), size))
                if encoded is not None:
                    entries[index] = encoded
        seconds = renderers[name].meter.render_seconds if name in renderers else 0.0
        try:
            outcome[name] = (marshal.dumps([(index, size, data) for (index, size, _), data
                                            in zip(files, kept, strict=True)]),
                             marshal.dumps(texts), entries, seconds)
        except ValueError:  # a value marshal cannot hold (none today): the ordinary render decides
            outcome[name] = None
    return outcome


def _ident(data: dict[str, object]) -> tuple[str, str, str]:
    """What the layout needs of an object besides its text: its id (kind, namespace, name)."""
    object_id = ObjectId.of(data)
    return object_id.kind, object_id.namespace, object_id.name


def _has_errors(findings: Sequence[object]) -> bool:
    return any(getattr(finding, "level", None) == "error" for finding in findings)


def _take(plans: dict[str, _Environment], task: _Task, outcome: _ChunkResult) -> None:
    for name, result in outcome.items():
        plan = plans[name]
        if result is None:
            plan.ordinary = True
            continue
        data, texts, entries, seconds = result
        plan.seconds += seconds
        plan.data.append(data)
        plan.texts.append(texts)
        plan.entries.update(entries or {})


def _finish(request: RenderRequest, sources: Sequence[PolicySource], plan: _Environment, budget: Budget,
            outputs: list[EnvironmentOutput], failed: Callable[[str, NvPolicyError], None],
            on_ready: Callable[[str, list[OutputFile]], None] | None, stop: Callable[[], bool],
            checked: Callable[[], bool] | None = None) -> None:
    """Check the environment's objects together and lay out its files; on any problem, render it the
    ordinary way for errors with their lines (the cache only ever speeds up a render that succeeds)."""
    try:
        made = None if plan.ordinary else _assemble(request, sources, plan, budget, checked)
        if made is None:
            made = _render_exactly(request, sources, plan)
    except NvPolicyError as error:
        failed(plan.name, error)
        return
    files, count = made
    pending = None
    if plan.cache is not None:
        for index, encoded in plan.entries.items():
            plan.cache.put(plan.keys[index], encoded)
    # The environment's results are not needed any more: freed before the next one is decoded.
    plan.results, plan.data, plan.texts, plan.entries = [], [], [], {}
    if stop():
        return
    if on_ready is not None:
        on_ready(plan.name, files)
    if plan.cache is not None:
        pending = plan.cache.save()
        plan.cache.old, plan.cache.new = {}, {}
    outputs.append(EnvironmentOutput(plan.name, count, tuple(file.path for file in files), pending))


def _assemble(request: RenderRequest, sources: Sequence[PolicySource], plan: _Environment, budget: Budget,
              checked: Callable[[], bool] | None = None) -> tuple[list[OutputFile], int] | None:
    """The environment's files and object count from its checked objects, or None when the ordinary
    render must decide. ``checked`` answers whether the cross-object checks passed (a worker ran
    them meanwhile, on the data); without it they run here."""
    if checked is not None and request.output_format == "crds":
        decoded = _decode_texts(sources, plan)  # the layout needs ids and texts only
    else:
        decoded = _decode(sources, plan, budget, texts=True)
    if decoded is None:
        return None
    objects, texts = decoded
    try:
        if checked is None:
            check_objects((), plan.settings, prechecked=objects)
        files = layout(objects, request.output_format, texts)
    except NvPolicyError:
        return None
    if checked is not None and not checked():
        return None
    return files, len(objects)


def _hits(plan: _Environment) -> dict[int, FileResult] | None:
    """The environment's cache hits, decoded; None if one does not decode."""
    hits = {}
    for index, result in enumerate(plan.results):
        if isinstance(result, str):
            assert plan.cache is not None
            hit = plan.cache.get(result)
            if hit is None:  # an entry that does not decode: rendered the ordinary way, nothing cached
                return None
            hits[index] = hit
    return hits


def _decode(sources: Sequence[PolicySource], plan: _Environment, budget: Budget,
            texts: bool) -> tuple[list[RenderedObject], dict[int, str]] | None:
    """The environment's objects (without marks) from its chunks and cache hits, with their texts if
    asked; None when the budget is spent or a part is missing (the ordinary render decides)."""
    import marshal

    hits = _hits(plan)
    if hits is None:
        return None
    data: dict[int, tuple[int, list[dict[str, object]]]] = {}
    for blob in plan.data:
        for index, size, items in marshal.loads(blob):
            data[index] = (size, items)
    emitted: dict[int, list[str | None]] = {}
    if texts:
        for blob in plan.texts:
            for index, items in marshal.loads(blob):
                emitted[index] = [text for _, text in items]
    if len(data) + len(hits) != len(sources):
        return None  # a chunk failed without saying so (never expected): the ordinary render decides
    size = sum(size for size, _ in data.values()) + sum(hit.size for hit in hits.values())
    if size > budget.render_size or plan.seconds > budget.render_seconds:
        return None  # the render's budget is spent: the ordinary render says where
    objects: list[RenderedObject] = []
    by_object: dict[int, str] = {}
    for index, source in enumerate(sources):
        hit = hits.get(index)
        if hit is not None:
            pairs: list[tuple[dict[str, object], str | None]] = [(obj.data, obj.text) for obj in hit.objects]
        else:
            items = data[index][1]
            pairs = list(zip(items, emitted.get(index) or [None] * len(items), strict=True))
        marks = Marks(source.display)  # frozen: one for the file's objects
        for number, (item, text) in enumerate(pairs):
            # No marks: were a check to fail, the ordinary render reports it with its lines.
            obj = RenderedObject(item, SourceDocument(None, marks, number))
            objects.append(obj)
            if text is not None:
                by_object[id(obj)] = text
    return objects, by_object


def _decode_texts(sources: Sequence[PolicySource],
                  plan: _Environment) -> tuple[list[RenderedObject], dict[int, str]] | None:
    """The environment's objects as ids only (kind, namespace, name), with their texts: the crds layout."""
    import marshal

    hits = _hits(plan)
    if hits is None:
        return None
    emitted: dict[int, list[tuple[tuple[str, str, str], str | None]]] = {}
    for blob in plan.texts:
        for index, items in marshal.loads(blob):
            emitted[index] = items
    if len(emitted) + len(hits) != len(sources):
        return None
    objects: list[RenderedObject] = []
    by_object: dict[int, str] = {}
    for index, source in enumerate(sources):
        hit = hits.get(index)
        items = [(_ident(obj.data), obj.text) for obj in hit.objects] if hit is not None else emitted[index]
        marks = Marks(source.display)  # frozen: one for the file's objects
        for number, ((kind, namespace, name), text) in enumerate(items):
            if text is None:
                return None
            shell = {"kind": kind, "metadata": {"namespace": namespace, "name": name}}
            obj = RenderedObject(shell, SourceDocument(None, marks, number))
            objects.append(obj)
            by_object[id(obj)] = text
    return objects, by_object


def _cross_forked(name: str, data: list[bytes], seconds: float, budget: Budget) -> bool:
    """In a worker: whether the environment's objects pass the budget and the cross-object checks."""
    assert _SHARED is not None, "a render worker runs forked from render_outputs"
    _, sources, plans, _ = _SHARED
    plan = plans[name]
    plan.data, plan.texts, plan.seconds = data, [], seconds
    decoded = _decode(sources, plan, budget, texts=False)
    if decoded is None:
        return False
    try:
        check_objects((), plan.settings, prechecked=decoded[0])
    except NvPolicyError:
        return False
    return True


def _render_exactly(request: RenderRequest, sources: Sequence[PolicySource],
                    plan: _Environment) -> tuple[list[OutputFile], int]:
    """The ordinary render, marks and all: raises with every problem at its place."""
    documents = [document for source in sources for document in source.documents()]
    rendered = render_environment(request.project, plan.name, request.overrides, documents,
                                  apply_path=request.apply_path, environment=plan.environment)
    # Its output stands; nothing of this environment is cached (if the split render failed and this
    # did not, only a render budget's clock can be why).
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
