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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from nvpolicy.errors import ErrorGroup, NvPolicyError, SourceError
from nvpolicy.model import CLUSTER_KINDS, KINDS, Finding, Location, Marks, RenderedObject, SourceDocument
from nvpolicy.model import Path as KeyPath
from nvpolicy.nv.kinds import KindSet
from nvpolicy.source import iter_yaml_files, load_file, load_text, read_text

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
            if reader is None:
                documents = load_file(path, display)
            else:
                documents = load_text(reader(read_text(path, display)), display)
        except NvPolicyError as error:
            errors.append(error)
            continue
        check_not_source(documents)
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


def check_not_source(documents: Iterable[SourceDocument]) -> None:
    """Refuse nvpolicy source: a top-level ``when:`` or a ``{{ … }}`` placeholder in any string.

    Validating source would report every placeholder as a schema error; the user meant lint. Only a
    closed placeholder counts (``{#`` or a lone ``{{`` can occur in a WAF or DLP pattern of an export).
    """
    from nvpolicy.render import WHEN_KEY

    for document in documents:
        data = document.data
        if isinstance(data, dict) and WHEN_KEY in data:
            found: KeyPath | None = (WHEN_KEY,)
        else:
            found = _placeholder_path(data, ())
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
    return Marks(marks.file, {path[size:]: mark for path, mark in marks.by_path.items() if path[:size] == prefix})


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
