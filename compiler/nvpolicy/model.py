"""Small frozen types shared by the pipeline stages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

# Kinds and their scope: one home, nvpolicy.nv.kinds; re-exported for the many modules that read them here.
from nvpolicy.nv.kinds import API_VERSION as API_VERSION  # noqa: E402
from nvpolicy.nv.kinds import CLUSTER_KINDS as CLUSTER_KINDS  # noqa: E402
from nvpolicy.nv.kinds import KINDS as KINDS  # noqa: E402
from nvpolicy.nv.kinds import NAMESPACED_KINDS as NAMESPACED_KINDS  # noqa: E402


def format_path(path: Iterable[str | int]) -> str:
    """``spec.egress[0].ports`` — the way people write key paths."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column are 1-based, as editors show them."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Marks:
    """Where each value of one YAML document came from, keyed by its key path.

    Rendering keeps paths, so a finding on a rendered value maps back to the source
    line; a value inserted by a placeholder maps to the placeholder's line.
    """

    file: str
    by_path: Mapping[Path, tuple[int, int]] = field(default_factory=dict)
    # Where a key stands whose value is a block mapping or list (it starts on a later line): a
    # finding about the key itself (an unknown field) points here, not at the value's first line.
    keys: Mapping[Path, tuple[int, int]] = field(default_factory=dict)

    def locate_key(self, path: Iterable[str | int]) -> Location:
        found = self.keys.get(tuple(path))
        return Location(self.file, found[0], found[1]) if found is not None else self.locate(path)

    def locate(self, path: Iterable[str | int]) -> Location:
        key = tuple(path)
        while True:
            found = self.by_path.get(key)
            if found is not None:
                return Location(self.file, found[0], found[1])
            if not key:
                return Location(self.file)
            key = key[:-1]


@dataclass(frozen=True)
class SourceDocument:
    """One YAML document of a source file, parsed, with its marks."""

    data: Any
    marks: Marks
    index: int = 0

    @property
    def file(self) -> str:
        return self.marks.file

    def locate(self, path: Iterable[str | int] = ()) -> Location:
        return self.marks.locate(path)

    def locate_key(self, path: Iterable[str | int]) -> Location:
        return self.marks.locate_key(path)


@dataclass(frozen=True, order=True)
class ObjectId:
    """The identity Kubernetes gives an object: kind, namespace (empty for cluster kinds), name."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectId:
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            metadata = {}
        return cls(str(obj.get("kind", "")), str(metadata.get("namespace") or ""), str(metadata.get("name", "")))

    def __str__(self) -> str:
        scope = f"{self.namespace}/" if self.namespace else ""
        text = f"{self.kind} {scope}{self.name}"
        # A name is printed in a one-line message; a newline or control character in it must show.
        return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


@dataclass(frozen=True)
class RenderedObject:
    """A rendered custom resource plus where it came from, so later stages can point at the source."""

    data: dict[str, Any]
    source: SourceDocument

    @property
    def id(self) -> ObjectId:
        return ObjectId.of(self.data)

    def locate(self, path: Iterable[str | int] = ()) -> Location:
        return self.source.locate(path)

    def locate_key(self, path: Iterable[str | int]) -> Location:
        """The line of the key at ``path`` itself (for a finding about the key, such as an unknown field)."""
        return self.source.locate_key(path)


LEVELS = ("error", "warning", "info")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in a policy, printed as ``file:line:col: [level] message (rule)``."""

    location: Location
    level: str
    message: str
    rule: str
    object_id: ObjectId | None = None
    path: Path = ()
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: [{self.level}] {self.message} ({self.rule})"
