"""Small frozen types shared by the pipeline stages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]



class KindSet(frozenset[str]):
    """A set of kind names that answers "no" for a kind that is not even a string.

    ``kind: [x]`` or ``kind: {a: b}`` is a list or mapping, unhashable: a plain ``in`` on a frozenset
    raises TypeError. Every stage looks kinds up in these sets, so each would need its own guard;
    here the answer is simply "not one of these kinds", and validation reports the bad kind.
    """

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and frozenset.__contains__(self, item)

    def __or__(self, other: AbstractSet[str]) -> KindSet:  # type: ignore[override]
        return KindSet(frozenset(self) | frozenset(other))

    def __sub__(self, other: AbstractSet[str]) -> KindSet:  # type: ignore[override]
        return KindSet(frozenset(self) - frozenset(other))


# Kinds and their scope, as the published CRDs define them.
NAMESPACED_KINDS = KindSet({"NvSecurityRule", "NvGroupDefinition"})
CLUSTER_KINDS = KindSet(
    {
        "NvClusterSecurityRule",
        "NvAdmissionControlSecurityRule",
        "NvDlpSecurityRule",
        "NvWafSecurityRule",
        "NvComplianceProfile",
        "NvVulnerabilityProfile",
        "NvResponseRuleSecurityRule",
    }
)
KINDS = NAMESPACED_KINDS | CLUSTER_KINDS
# The kinds that hold network, process and file rules.
RULE_KINDS = KindSet({"NvSecurityRule", "NvClusterSecurityRule"})
API_VERSION = "neuvector.com/v1"


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
