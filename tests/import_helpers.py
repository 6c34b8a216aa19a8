"""Helpers of the import tests: reading rendered trees and the export's documented normalisations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nvpolicy.source import load_text

DATA = Path(__file__).parent / "import_data"
SEED_EXPORT = DATA / "feature-6293-export.yaml"

# What the README documents an import drops; written here independently of nvpolicy.learn.clean.
_DROPPED_DEFAULTS = {"comment": "", "original_name": "", "priority": 0, "allow_update": False}


def rendered_objects(out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object a render wrote (kustomization aside), by (namespace, name)."""
    objects = {}
    for path in sorted(out.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        objects[(data["metadata"].get("namespace", ""), data["metadata"]["name"])] = data
    return objects


def export_items(text: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for document in load_text(text, "export"):
        data = document.data
        items.extend(data.get("items") or [] if data.get("kind") == "List" else [data])
    return items


def normalised(value: Any) -> Any:
    """The documented normalisations: nulls, empty sections, export defaults and empty dlp/waf stubs go."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            item = normalised(item)
            if item is None or item == [] or item == {}:
                continue
            if key in _DROPPED_DEFAULTS and type(item) is type(_DROPPED_DEFAULTS[key]) \
                    and item == _DROPPED_DEFAULTS[key]:
                continue
            if key in ("dlp", "waf") and not item.get("settings"):
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


def selector_key(selector: dict[str, Any]) -> tuple[Any, ...]:
    criteria = sorted((c["key"], c["op"], c["value"]) for c in selector.get("criteria") or [])
    return selector["name"], tuple(criteria)


def traffic(rules: list[dict[str, Any]] | None, locks: dict[str, str] | None = None) -> list[tuple[Any, ...]]:
    """Network rules as comparable tuples, names aside (an import renames positional names);
    ``locks`` gives the expected port of a rule learned with ``any``, by peer group name."""
    result = []
    for rule in rules or []:
        ports = rule.get("ports", "any")
        if locks is not None and ports == "any" and rule["selector"]["name"] in locks:
            ports = locks[rule["selector"]["name"]]
        result.append((rule["action"], tuple(sorted(rule.get("applications") or [])), ports,
                       selector_key(rule["selector"])))
    return sorted(result)


def expected_ports(rule: dict[str, Any]) -> tuple[str, ...]:
    """A rule's ports after import: an allow rule learned on ``any`` is locked to its applications'
    well-known ports when every application has one (a deny rule never is)."""
    from nvpolicy.learn.ports import WELL_KNOWN_PORTS

    ports = str(rule.get("ports", "any"))
    apps = [a for a in rule.get("applications") or [] if a != "any"]
    if ports == "any" and rule["action"] == "allow" and apps and all(a in WELL_KNOWN_PORTS for a in apps):
        return tuple(sorted({f"{WELL_KNOWN_PORTS[a][0]}/{WELL_KNOWN_PORTS[a][1]}" for a in apps}))
    return tuple(sorted(ports.split(",")))
