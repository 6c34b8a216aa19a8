"""Reading what NeuVector exports: ``kind: List`` files (optionally preceded by an
NvGroupDefinition list for name referral), single CRs, multi-document files, stdin.

YAML goes through ``nvpolicy.source.load_text`` (unquoted ``op: =``, duplicate keys refused,
marks kept), so a bad item is reported with its file:line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.model import API_VERSION, KINDS, Location
from nvpolicy.nv.kinds import RULE_KINDS
from nvpolicy.source import load_text


@dataclass(frozen=True)
class ExportItem:
    """One custom resource of an export and where it was read."""

    data: dict[str, Any]
    location: Location


@dataclass
class Export:
    rules: list[ExportItem] = field(default_factory=list)
    """NvSecurityRule and NvClusterSecurityRule items, in file order."""
    definitions: dict[str, ExportItem] = field(default_factory=dict)
    """NvGroupDefinition items by group name (the targets of ``name_referral``)."""
    others: list[ExportItem] = field(default_factory=list)
    """Any other NeuVector kind (admission, DLP, …): imported as it is."""


def read_exports(sources: Iterable[tuple[str, str]]) -> Export:
    """Every object of every ``(display name, text)`` source, in order."""
    export = Export()
    for name, text in sources:
        add_export_text(export, text, name)
    return export


def add_export_text(export: Export, text: str, name: str) -> None:
    documents = load_text(text, name)
    if not documents:
        raise SourceError("holds no YAML document", location=Location(name),
                          hint="pass a file from NeuVector's 'Export Group Policy' (kind: List)")
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            raise SourceError("expected a NeuVector export (kind: List) or a NeuVector custom resource",
                              location=document.locate())
        if data.get("kind") == "List":
            items = data.get("items") or []
            if not isinstance(items, list):
                raise SourceError("'items' of a List must be a list", location=document.locate(("items",)))
            for index, item in enumerate(items):
                _add(export, item, document.locate(("items", index)))
        else:
            _add(export, data, document.locate())


def _add(export: Export, item: Any, location: Location) -> None:
    if not isinstance(item, dict):
        raise SourceError("a list item must be a NeuVector custom resource (a mapping)", location=location)
    kind = item.get("kind")
    if item.get("apiVersion") != API_VERSION or kind not in KINDS:
        raise SourceError(
            f"not a NeuVector custom resource (apiVersion {item.get('apiVersion')!r}, kind {kind!r})",
            location=location, hint=f"NeuVector's import needs apiVersion: {API_VERSION} and one of its kinds",
        )
    metadata = item.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise SourceError("metadata.name is missing", location=location)
    entry = ExportItem(copy.deepcopy(item), location)
    if kind in RULE_KINDS:
        spec = item.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("target"), dict):
            raise SourceError("spec.target is missing", location=location)
        export.rules.append(entry)
    elif kind == "NvGroupDefinition":
        selector = (item.get("spec") or {}).get("selector") if isinstance(item.get("spec"), dict) else None
        name = selector.get("name") if isinstance(selector, dict) else None
        export.definitions[str(name or metadata["name"])] = entry
    else:
        export.others.append(entry)


def resolve_referrals(export: Export) -> list[str]:
    """Replace ``name_referral: true`` selectors by the referred NvGroupDefinition's selector.

    The neutral source is self-contained: a referral to a definition that stays behind in the
    DEV cluster would not render anywhere else. Returns the group names resolved.
    """
    resolved: list[str] = []
    for item in export.rules:
        for selector in _selectors(item.data):
            if not selector.get("name_referral"):
                continue
            name = selector.get("name")
            definition = export.definitions.get(str(name))
            if definition is None:
                raise SourceError(
                    f"selector {name!r} refers to an NvGroupDefinition that is not in the export",
                    location=item.location, hint="export with the group definitions (use_name_referral) "
                    "or without name referral")
            referred = ((definition.data.get("spec") or {}).get("selector")) or {}
            selector.pop("name_referral")
            for key in ("criteria", "comment"):
                if referred.get(key):
                    selector[key] = copy.deepcopy(referred[key])
            resolved.append(str(name))
    return sorted(set(resolved))


def _selectors(obj: dict[str, Any]) -> Iterable[dict[str, Any]]:
    spec = obj.get("spec") or {}
    target = spec.get("target") or {}
    if isinstance(target.get("selector"), dict):
        yield target["selector"]
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            if isinstance(rule, dict) and isinstance(rule.get("selector"), dict):
                yield rule["selector"]
