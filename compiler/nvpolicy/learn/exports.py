"""Reading what NeuVector exports: ``kind: List`` files (optionally preceded by an
NvGroupDefinition list for name referral), single CRs, multi-document files, stdin.

YAML goes through ``nvpolicy.source.load_text`` (unquoted ``op: =``, duplicate keys refused,
marks kept), so a bad item is reported with its file:line.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.model import API_VERSION, KINDS, RULE_KINDS, Location, SourceDocument
from nvpolicy.source import load_text

KeyPath = tuple[str | int, ...]


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
                _add(export, item, document, ("items", index))
        else:
            _add(export, data, document, ())


def _add(export: Export, item: Any, document: SourceDocument, at: KeyPath) -> None:
    location = document.locate(at)
    if not isinstance(item, dict):
        raise SourceError("a list item must be a NeuVector custom resource (a mapping)", location=location)
    kind = item.get("kind")
    if not isinstance(kind, str) or item.get("apiVersion") != API_VERSION or kind not in KINDS:
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
        check_rule_shape(spec, lambda path: document.locate((*at, "spec", *path)))
        export.rules.append(entry)
    elif kind == "NvGroupDefinition":
        selector = (item.get("spec") or {}).get("selector") if isinstance(item.get("spec"), dict) else None
        if not isinstance(selector, dict):
            raise SourceError("an NvGroupDefinition needs spec.selector (name, criteria)", location=location)

        def refuse(path: KeyPath, expected: str, value: Any) -> None:
            raise SourceError(f"expected {expected}, got {_shown(value)}", path=("spec", "selector", *path),
                              location=document.locate((*at, "spec", "selector", *path)))

        _check_criteria(selector.get("criteria"), (), refuse)
        name = selector.get("name")
        export.definitions[str(name or metadata["name"])] = entry
    else:
        export.others.append(entry)


# What an import reads of a rule object, and the shape NeuVector's export gives it: a wrong shape
# here would crash the lifting, so it is an input error with the item's line instead.
_SECTIONS = ("ingress", "egress", "process", "file")


def check_rule_shape(spec: dict[str, Any], locate: Callable[[KeyPath], Location]) -> None:
    """Refuse (exit 2, file:line, key path) the shapes no NeuVector export has: a section that is not a
    list, a rule or criterion that is not a mapping, criteria that are not a list, a name, mode or
    criterion field that is not text."""
    def refuse(path: KeyPath, expected: str, value: Any) -> None:
        raise SourceError(f"expected {expected}, got {_shown(value)}", location=locate(path),
                          path=("spec", *path), hint="give the file as NeuVector exports it (Export Group Policy)")

    def text(value: Any, path: KeyPath, what: str) -> None:
        if value is not None and not isinstance(value, str):
            refuse(path, what, value)

    target = spec["target"]
    if not isinstance(target.get("selector"), dict):
        refuse(("target", "selector"), "the target's group selector (a mapping with name and criteria)",
               target.get("selector"))
    text(target.get("policymode"), ("target", "policymode"), "a policy mode (Discover, Monitor, Protect, N/A)")
    profile = spec.get("process_profile")
    if profile is not None and not isinstance(profile, dict):
        refuse(("process_profile",), "a process profile (baseline, mode)", profile)
    for key in ("baseline", "mode"):
        text((profile or {}).get(key), ("process_profile", key), "text")
    selectors: list[tuple[KeyPath, Any]] = [(("target", "selector"), target["selector"])]
    for section in _SECTIONS:
        rules = spec.get(section)
        if rules is None:
            continue
        if not isinstance(rules, list):
            refuse((section,), f"a list of {section} rules", rules)
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict):
                refuse((section, index), f"{'an' if section[0] in 'ie' else 'a'} {section} rule (a mapping)", rule)
            for key in ("name", "action", "path", "ports", "filter"):
                text(rule.get(key), (section, index, key), "text")
            applications = rule.get("applications")
            if applications is not None and (not isinstance(applications, list)
                                             or not all(isinstance(app, str) for app in applications)):
                refuse((section, index, "applications"), "a list of application names", applications)
            if section in ("ingress", "egress"):
                selectors.append(((section, index, "selector"), rule.get("selector")))
    for path, selector in selectors:
        if selector is None:
            continue
        if not isinstance(selector, dict):
            refuse(path, "a group selector (a mapping with name and criteria)", selector)
        text(selector.get("name"), (*path, "name"), "a group name (text)")
        _check_criteria(selector.get("criteria"), path, refuse)


def _check_criteria(criteria: Any, path: KeyPath, refuse: Callable[[KeyPath, str, Any], None]) -> None:
    if criteria is not None and not isinstance(criteria, list):
        refuse((*path, "criteria"), "a list of criteria", criteria)
    for index, criterion in enumerate(criteria or []):
        if not isinstance(criterion, dict):
            refuse((*path, "criteria", index), "a criterion (key, op, value)", criterion)
        for key in ("key", "op", "value"):
            if criterion.get(key) is not None and not isinstance(criterion[key], str):
                refuse((*path, "criteria", index, key), "text", criterion[key])


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
