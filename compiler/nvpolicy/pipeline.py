"""The render pipeline: load → render → validate → lay out → write. Each stage returns data."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nvpolicy._fs import read_bytes
from nvpolicy.emit import (
    KUSTOMIZATION,
    OutputFile,
    check_directory_target,
    dump,
    dump_all,
    kustomization,
    object_path,
    replace_directories,
    replace_directory,
)
from nvpolicy.environment import ENVIRONMENTS_DIR, Environment, load_environment
from nvpolicy.errors import ErrorGroup, NvPolicyError, OutputError, RenderBudgetError, SchemaError, SourceError
from nvpolicy.model import Location, RenderedObject, SourceDocument
from nvpolicy.nv.kinds import GROUP_DEFINITION, REGISTRY
from nvpolicy.render import Renderer
from nvpolicy.source import MAX_SOURCE_BYTES, decode, iter_yaml_files, load_text

if TYPE_CHECKING:
    from nvpolicy.rules import CheckSettings

POLICIES_DIR = "policies"
RENDERED_DIR = "rendered"
MAX_REPORTED_ERRORS = 25


@dataclass(frozen=True)
class Rendered:
    environment: Environment
    objects: tuple[RenderedObject, ...]


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a stage builds large trees that all survive.

    Sources, marks and rendered objects are acyclic and live until the end; the collector
    would scan them again and again (gc.disable() made render 40% faster and linear in N).
    Reference counting still frees everything meanwhile; collection resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_policies(project: Path) -> list[SourceDocument]:
    """Every document of every ``policies/**/*.yaml``, in path order."""
    with bulk():
        return _load_policies(project)


def _load_policies(project: Path) -> list[SourceDocument]:
    documents: list[SourceDocument] = []
    for source in policy_sources(project):
        documents.extend(source.documents())
    return documents


@dataclass
class PolicySource:
    """One policy file's bytes, parsed on first use: a render whose cache holds the file never parses it."""

    display: str
    raw: bytes
    _parsed: list[SourceDocument] | None = None

    def documents(self) -> list[SourceDocument]:
        """The documents, parsed once and kept."""
        if self._parsed is None:
            self._parsed = self.parse()
        return self._parsed

    def parse(self, *, marks_later: bool = False) -> list[SourceDocument]:
        """The documents, parsed now and not kept (render's workers hold one chunk of files at a time).

        ``marks_later``: read marks-free, the marks made by the full loader from the same text only
        when something asks where a value is (``inputs.load_marks_on_demand``; the same data, and
        every error and location the same as the full loader's).
        """
        text = decode(self.raw, self.display)
        if marks_later:
            from nvpolicy.inputs import load_marks_on_demand

            loaded = load_marks_on_demand(text, self.display)
        else:
            loaded = load_text(text, self.display)
        if not loaded:
            raise SourceError("holds no YAML document", location=Location(self.display),
                              hint="delete the empty file or add a NeuVector custom resource")
        for document in loaded:
            if not isinstance(document.data, dict):
                raise SourceError("a policy document must be a mapping (one NeuVector custom resource)",
                                  location=document.locate())
        return loaded


def policy_sources(project: Path) -> list[PolicySource]:
    """The bytes of every ``policies/**/*.yaml``, in path order (parsed later, when needed)."""
    folder = project / POLICIES_DIR
    if folder.is_symlink():
        raise SourceError("is a symlink; nvpolicy reads the project's own folder only",
                          location=Location(POLICIES_DIR), hint="replace the link with the folder itself")
    if not folder.is_dir():
        raise SourceError(f"no {POLICIES_DIR}/ directory in {project}",
                          hint="run nvpolicy in a policy repo, or name one with -C DIR")
    # The walk refuses links, FIFOs and devices with their path; O_NOFOLLOW closes the race with a
    # file swapped for a link after the walk.
    sources = []
    for path in iter_yaml_files(folder, project):
        display = path.relative_to(project).as_posix()
        sources.append(PolicySource(display, read_bytes(path, display, follow_symlinks=False,
                                                        limit=MAX_SOURCE_BYTES)))
    return sources


def checked_renders(project: Path, names: Sequence[str], overrides: Iterable[str] = ()) -> Iterator[Rendered]:
    """Each named environment rendered and checked as ``render --all --jobs 1 --no-cache`` does, for a
    command that reads the objects instead of writing them (``test``); nothing is emitted or written.

    Every policy file is parsed once for all the environments, and every check runs (those of one
    object and those across objects; the same errors as ``render``). The files are read marks-free
    and a document's marks are made only when asked (an error, a location in a report): a run that
    asks none reads each file once, with libyaml's events. Environments are yielded in the order
    named, one at a time, so the first that fails raises before the next is rendered. Callers run
    this inside ``bulk()`` (the objects are acyclic and freed by reference counting).
    """
    sources = policy_sources(project)
    with bulk():
        documents = [document for source in sources for document in source.parse(marks_later=True)]
    for name in names:
        yield render_environment(project, name, overrides, documents)


def render_environment(
    project: Path,
    env_name: str,
    overrides: Iterable[str] = (),
    documents: Sequence[SourceDocument] | None = None,
    *,
    check: bool = True,
    apply_path: str = "crd",
    environment: Environment | None = None,
) -> Rendered:
    """Render and validate one environment; raises with every problem found, nothing written.

    ``check=False`` skips the validation, for callers (lint) that report findings themselves.
    ``apply_path`` is how the output reaches NeuVector: ``crd`` (kubectl, GitOps) or ``rest``
    (``render --format list``, ``push``): the checks follow that path's differences.
    """
    with bulk():
        return _render_environment(project, env_name, overrides, documents, check, apply_path, environment)


def _render_environment(
    project: Path,
    env_name: str,
    overrides: Iterable[str],
    documents: Sequence[SourceDocument] | None,
    check: bool,
    apply_path: str = "crd",
    environment: Environment | None = None,
) -> Rendered:
    if environment is None:  # ``environment``: already loaded by the caller from the same name and overrides
        environment = load_environment(project, env_name, overrides)
    if documents is None:
        documents = load_policies(project)
    renderer = Renderer(environment)
    objects: list[RenderedObject] = []
    errors: list[NvPolicyError] = []
    for document in documents:
        try:
            rendered = renderer.render(document)
        except NvPolicyError as error:
            errors.append(error)
            if isinstance(error, RenderBudgetError):
                break  # the render's whole placeholder budget is spent: one message, not one per document
            continue
        if rendered is not None:
            objects.append(rendered)
    raise_all(errors)
    if check:
        check_objects(objects, check_settings(environment, apply_path))
    return Rendered(environment, tuple(objects))


def check_settings(environment: Environment, apply_path: str = "crd", *, ours: bool = True) -> CheckSettings:
    """The checks' settings for an environment: its ``neuvector:`` key (controller namespace, federation role)."""
    from nvpolicy.rules import CheckSettings

    neuvector = environment.data.get("neuvector") or {}
    namespace = str(neuvector.get("controller_namespace", CheckSettings.controller_namespace))
    return CheckSettings(apply_path, ours, namespace, bool(neuvector.get("federation_primary", False)))


def check_objects(objects: Sequence[RenderedObject], settings: CheckSettings | None = None, *,
                  prechecked: Sequence[RenderedObject] = ()) -> None:
    """Raise with every error-level finding: render's source is ours, so a pruned field is an error too.

    ``prechecked`` objects passed the checks of one object already: only the cross-object ones run on them.
    """
    from nvpolicy.rules import CheckSettings
    from nvpolicy.validate import validate_objects

    findings = [finding for finding in validate_objects(objects, settings or CheckSettings(ours=True),
                                                        prechecked=prechecked)
                if finding.level == "error"]
    raise_all(
        [
            SchemaError(f"{finding.message} [{finding.object_id}]", location=finding.location, path=finding.path,
                        hint=finding.hint)
            for finding in findings
        ]
    )


def raise_all(errors: list[NvPolicyError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors[:MAX_REPORTED_ERRORS], omitted=max(0, len(errors) - MAX_REPORTED_ERRORS))


def layout(objects: Sequence[RenderedObject], output_format: str = "crds",
           texts: Mapping[int, str] | None = None) -> list[OutputFile]:
    """The files that represent the objects: one per object plus kustomization.yaml, or REST import lists.

    ``texts`` maps ``id(obj)`` to the object's text already emitted (by a worker, or render's cache).
    """
    with bulk():
        return _layout(objects, output_format, texts or {})


def _layout(objects: Sequence[RenderedObject], output_format: str, texts: Mapping[int, str]) -> list[OutputFile]:
    if output_format == "list":
        return _list_layout(objects)
    files: dict[str, OutputFile] = {}
    ids = {id(obj): obj.id for obj in objects}  # each object's id made once (sorting, then its path)
    for obj in sorted(objects, key=lambda o: ids[id(o)]):
        object_id = ids[id(obj)]
        path = object_path(object_id)
        if path in files:
            raise SchemaError(f"{object_id} would be written to {path}, like another object",
                              location=obj.locate(("metadata", "name")), hint="give the objects distinct names")
        text = texts.get(id(obj))
        files[path] = OutputFile(path, dump(obj.data) if text is None else text)
    return [*files.values(), kustomization(list(files))]


def _list_layout(objects: Sequence[RenderedObject]) -> list[OutputFile]:
    files = []
    for name, documents in _list_documents(objects):
        files.append(OutputFile(name, dump_all(documents)))
        if name == REGISTRY["NvSecurityRule"].list_file:
            _check_rest_import(files[-1])
    return files


def _list_documents(objects: Sequence[RenderedObject]) -> list[tuple[str, list[dict[str, object]]]]:
    """(file name, its kind: List documents) in file-name order."""
    by_file: dict[str, list[RenderedObject]] = {}
    for obj in sorted(objects, key=lambda o: o.id):
        by_file.setdefault(REGISTRY[obj.id.kind].list_file, []).append(obj)
    files = []
    for name, members in sorted(by_file.items()):
        # NeuVector's import reads group definitions first, as a List of their own.
        definitions = [o.data for o in members if o.id.kind == GROUP_DEFINITION]
        rules = [o.data for o in members if o.id.kind != GROUP_DEFINITION]
        files.append((name, [as_list(part) for part in (definitions, rules) if part]))
    return files


def stream(objects: Sequence[RenderedObject], output_format: str = "crds") -> str:
    """The layout's documents as one multi-document YAML text (``render --out -``, ``kubectl apply -f -``):
    the objects in the order their files sort, kustomization.yaml left out (it only lists the files)."""
    with bulk():
        if output_format == "list":
            return dump_all([document for _, documents in _list_documents(objects) for document in documents])
        return dump_all([obj.data for obj in sorted(objects, key=lambda o: o.id)])


def _check_rest_import(file: OutputFile) -> None:
    """X3: the group-policy file must read, as the REST import reads text, into what we wrote."""
    from nvpolicy.nv.rest_import import problems

    found = problems(file.text)
    if found:
        raise OutputError(f"{file.path} would not import: {found[0].message} (X3)",
                          hint="a bug in nvpolicy's list layout; please report it")


def as_list(items: Sequence[object]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def default_output(project: Path, env_name: str) -> Path:
    return project / RENDERED_DIR / env_name


# Folders of a project that an output directory must never replace or sit in: the sources and git.
_PROTECTED = (POLICIES_DIR, ENVIRONMENTS_DIR, ".git")


def check_output_target(project: Path, target: Path) -> None:
    """Refuse an output directory whose atomic replacement would delete what render did not write.

    Checked for every target before any is replaced (``render --all`` is all or nothing):
    - not the project, nor inside its sources or ``.git`` (by the resolved path);
    - no symlink on the way: the target itself, and inside the project every folder between the
      project and the target (``rendered`` or ``rendered/<env>`` linked into the sources or
      anywhere else), since the swap would act on the link's side, not on ours;
    - an existing non-empty target must be a tree render wrote (``is_render_output``), so
      ``--out ~/somewhere`` over unrelated files is refused, nothing deleted.
    """
    _refuse_linked_folders(project, target)
    root, out = project.resolve(), target.resolve()
    if root.is_relative_to(out):
        raise OutputError(f"output directory {target} holds the project itself; replacing it would delete the sources",
                          hint="choose a directory of its own, e.g. the default rendered/<env>")
    for name in _PROTECTED:
        if out.is_relative_to(root / name):
            raise OutputError(f"output directory {target} is inside the project's {name}/; "
                              "replacing it would delete files there",
                              hint="choose a directory of its own, e.g. the default rendered/<env>")
    check_directory_target(target)
    if target.is_dir() and not is_render_output(target):
        raise OutputError(f"output directory {target} holds files render did not write; replacing it would "
                          "delete them", hint="choose a new or empty directory, or remove it first (nothing "
                          "was written)")


def _refuse_linked_folders(project: Path, target: Path) -> None:
    """No symlink as the target, nor (inside the project) on the way from the project to it."""
    root, absolute = Path(os.path.abspath(project)), Path(os.path.abspath(target))
    steps = [absolute]
    if absolute.is_relative_to(root):
        steps = [root.joinpath(*absolute.relative_to(root).parts[:count])
                 for count in range(1, len(absolute.relative_to(root).parts) + 1)]
    for step in steps:
        if step.is_symlink():
            where = "" if step == absolute else f" (on the way to {_shown(absolute, root)})"
            raise OutputError(f"output directory {_shown(step, root)} is a symlink{where}; render replaces "
                              "real folders only", hint="remove the link (nothing was written); render creates "
                              "the folders itself")


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def is_render_output(directory: Path) -> bool:
    """Whether a directory is empty or holds only what render writes: the marker that lets render replace it.

    Render's layouts are ``kustomization.yaml`` plus ``<folder>/<kind>-<name>.yaml`` (crds) or the
    REST import lists (list). A directory with any other entry (a stray file, a link, a deeper
    folder, a hidden file) was not written by render, or was changed since, and is not replaced.
    """
    top_files = {KUSTOMIZATION, *(kind.list_file for kind in REGISTRY.values())}
    object_prefixes = tuple(f"{kind.lower()}-" for kind in REGISTRY)
    try:
        entries = list(os.scandir(directory))
        if not entries:
            return True
        found_top = False
        for entry in entries:
            if entry.is_symlink():
                return False
            if entry.is_file():
                if entry.name not in top_files:
                    return False
                found_top = True
            elif entry.is_dir() and not entry.name.startswith("."):
                for inner in os.scandir(entry.path):
                    if inner.is_symlink() or not inner.is_file() or not inner.name.endswith(".yaml") \
                            or not inner.name.startswith(object_prefixes):
                        return False
            else:
                return False
    except OSError:
        return False
    return found_top


def write_output(target: Path, files: Sequence[OutputFile]) -> None:
    replace_directory(target, files)


def write_outputs(outputs: Sequence[tuple[Path, Sequence[OutputFile]]]) -> None:
    """Replace every output directory, all or nothing (``emit.replace_directories``)."""
    replace_directories(outputs)
