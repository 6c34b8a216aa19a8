"""Reading NeuVector YAML for ``validate``: hand-written CRs, rendered output and NeuVector's own exports.

Export quirks normalised silently (NeuVector itself reads them so):
- ``kind: List`` documents are unpacked into their items (``metadata: null`` on the List is ignored),
  also several Lists in one file (NvGroupDefinition list, then the rules);
- ``null`` values (``egress: null``, ``policymode: null``) mean "not set" and are dropped;
- ``metadata.namespace: ""`` on a cluster-scoped kind is dropped;
- unquoted ``op: =`` is read as the string ``=`` (nvpolicy.source).
- a top-level ``status`` (``kubectl get -o yaml``) is written by the server, not applied: dropped (X1);
- a UTF-8 byte-order mark is skipped (nvpolicy.source), as files saved by some Windows editors carry one.
Reported instead: a non-empty namespace on a cluster-scoped kind (``namespace: default`` in older
exports) is a warning (``cluster-namespace``): Kubernetes ignores it, but it says the author meant
something else. Kustomize's ``kustomization.yaml`` (rendered output) is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from nvpolicy.errors import ErrorGroup, NvPolicyError, SourceError
from nvpolicy.model import CLUSTER_KINDS, KINDS, Finding, Location, Marks, RenderedObject, SourceDocument
from nvpolicy.model import Path as KeyPath
from nvpolicy.nv.kinds import KindSet
from nvpolicy.source import iter_yaml_files, load_text, read_text

CLUSTER_NAMESPACE_RULE = "cluster-namespace"
CLUSTER_NAMESPACE_HELP = "A cluster-scoped kind carries no metadata.namespace; Kubernetes ignores it."
_SKIPPED_KINDS = KindSet({"Kustomization"})


def input_files(paths: Sequence[Path]) -> list[Path]:
    """The YAML files named, and those below named directories (recursively, in path order)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(iter_yaml_files(path))
        elif os.path.lexists(path):
            files.append(path)  # reading refuses a FIFO, a device or a dangling link, naming it
        else:
            raise SourceError("no such file or directory", location=Location(str(path)))
    return list(dict.fromkeys(files))


def load_objects(files: Iterable[tuple[Path, str]],
                 reader: Callable[[str], str] | None = None) -> tuple[list[RenderedObject], list[Finding]]:
    """Every NeuVector object of the files (path, display name), plus findings about export quirks.

    ``reader`` turns a file's text into what is parsed (the REST import drops lines first; see
    nvpolicy.nv.rest_import), keeping line numbers. Raises one error per unreadable file, all
    together, when any file cannot be read.
    """
    objects: list[RenderedObject] = []
    findings: list[Finding] = []
    errors: list[NvPolicyError] = []
    for path, display in files:
        try:
            text = read_text(path, display)
            if reader is not None:
                text = reader(text)
            documents = load_marks_on_demand(text, display)
        except NvPolicyError as error:
            errors.append(error)
            continue
        # A placeholder is a string holding "{{": the text holds it too, unless written with escapes.
        check_not_source(documents, deep="{{" in text or "\\" in text)
        for document in documents:
            for obj in _objects(document):
                findings.extend(_normalise(obj))
                if obj.data.get("kind") not in _SKIPPED_KINDS:
                    objects.append(obj)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors)
    return objects, findings


class NoObjectsError(SourceError):
    """Nothing to validate: an empty run must not pass for a clean one."""


class PolicySourceError(SourceError):
    """validate was given nvpolicy source (policies/), which only means something once rendered."""


def load_marks_on_demand(text: str, name: str) -> list[SourceDocument]:
    """The documents of a file; their marks are made by the full loader only when a finding asks.

    Marks cost more than the data and are read only to place a finding, so a file is read with
    the marks-free loader (nvpolicy.fastload), which hands anything unusual (anchors, tags,
    duplicate keys, invalid YAML) to ``load_text`` for its errors. When a finding asks where a
    value is, ``load_text`` reads the same text once for the whole file, so every file:line is
    the one the full loader gives.
    """
    from nvpolicy.fastload import load_indexed

    indexed = load_indexed(text)
    if indexed is None:
        return load_text(text, name)
    marks = _MarksOnDemand(text, name)
    return [SourceDocument(data, Marks(name, _Later(partial(marks.by_path, index)),
                                       _Later(partial(marks.keys, index))), index)
            for index, data in indexed]


class _MarksOnDemand:
    """The marks of one file's documents, by document index, made by the full loader on first use."""

    def __init__(self, text: str, name: str) -> None:
        self._text, self._name = text, name
        self._documents: dict[int, SourceDocument] | None = None

    def _document(self, index: int) -> SourceDocument:
        if self._documents is None:
            self._documents = {document.index: document for document in load_text(self._text, self._name)}
            self._text = ""  # read once; the marks are all that is kept
        return self._documents[index]

    def by_path(self, index: int) -> Mapping[KeyPath, tuple[int, int]]:
        return self._document(index).marks.by_path

    def keys(self, index: int) -> Mapping[KeyPath, tuple[int, int]]:
        return self._document(index).marks.keys


class _Later(Mapping[KeyPath, tuple[int, int]]):
    """A read-only mapping made on first access (``Marks.by_path``/``keys`` of a fast-loaded document)."""

    def __init__(self, make: Callable[[], Mapping[KeyPath, tuple[int, int]]]) -> None:
        self._make = make
        self._made: Mapping[KeyPath, tuple[int, int]] | None = None

    def _mapping(self) -> Mapping[KeyPath, tuple[int, int]]:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getitem__(self, key: KeyPath) -> tuple[int, int]:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def check_not_source(documents: Iterable[SourceDocument], deep: bool = True) -> None:
    """Refuse nvpolicy source: a top-level ``when:`` or a ``{{ … }}`` placeholder in any string.

    Validating source would report every placeholder as a schema error; the user meant lint. Only a
    closed placeholder counts (``{#`` or a lone ``{{`` can occur in a WAF or DLP pattern of an export).
    ``deep=False``: the caller knows no string can hold ``{{``, so only ``when:`` is looked for.
    """
    from nvpolicy.render import WHEN_KEY

    for document in documents:
        data = document.data
        if isinstance(data, dict) and WHEN_KEY in data:
            found: KeyPath | None = (WHEN_KEY,)
        else:
            found = _placeholder_path(data, ()) if deep else None
        if found is not None:
            raise PolicySourceError(
                "this is nvpolicy source (a placeholder or when:), not NeuVector YAML: it is checked once rendered",
                location=document.locate(found),
                hint="check the source per environment: nvpolicy lint --env ENV (or --all); "
                     "validate takes rendered output, e.g. nvpolicy validate rendered/ENV")


def _placeholder_path(value: Any, path: KeyPath) -> KeyPath | None:
    if isinstance(value, str):
        start = value.find("{{")
        return path if start >= 0 and "}}" in value[start:] else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _placeholder_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _objects(document: SourceDocument) -> list[RenderedObject]:
    data = document.data
    if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
        return [RenderedObject(item if isinstance(item, dict) else {"kind": None, "item": item},
                               SourceDocument(item, _sub_marks(document.marks, ("items", index)), document.index))
                for index, item in enumerate(data["items"])]
    if not isinstance(data, dict):
        data = {"kind": None, "document": data}
    return [RenderedObject(data, document)]


def _sub_marks(marks: Marks, prefix: KeyPath) -> Marks:
    size = len(prefix)
    # On demand, as the document's own marks: an item without findings never needs them.
    return Marks(marks.file, _Later(lambda: {path[size:]: mark for path, mark in marks.by_path.items()
                                             if path[:size] == prefix}))


def _normalise(obj: RenderedObject) -> list[Finding]:
    _drop_nulls(obj.data)
    if obj.data.get("kind") in KINDS:
        obj.data.pop("status", None)
    metadata = obj.data.get("metadata")
    if obj.data.get("kind") not in CLUSTER_KINDS or not isinstance(metadata, dict) or "namespace" not in metadata:
        return []
    namespace = metadata.pop("namespace")
    if namespace == "":
        return []
    return [Finding(obj.locate(("metadata", "namespace")), "warning",
                    f"{obj.data['kind']} is cluster-scoped: metadata.namespace {namespace!r} is ignored",
                    CLUSTER_NAMESPACE_RULE, obj.id, ("metadata", "namespace"), "remove metadata.namespace")]


def _drop_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [key for key, item in value.items() if item is None]:
            del value[key]
        for item in value.values():
            _drop_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _drop_nulls(item)
