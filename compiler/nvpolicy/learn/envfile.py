"""The source environment's file: namespace, policy mode and peer bindings, so that rendering the
imported source for it reproduces the export. An existing file is merged into, never overwritten:
missing keys and peers are added, a different value is a conflict and stays as written."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.emit import dump


@dataclass
class EnvMerge:
    text: str
    added: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def environment_data(namespace: str, policy_mode: str | None,
                     bindings: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The environment file's content as plain data (keys in the file's usual order)."""
    data: dict[str, Any] = {"namespace": namespace}
    if policy_mode:
        data["policy_mode"] = policy_mode
    if bindings:
        data["peers"] = {name: dict(binding) for name, binding in sorted(bindings.items())}
    return data


def new_environment_text(data: Mapping[str, Any], source: str) -> str:
    header = f"# The environment NeuVector learned in; written by nvpolicy import from {source}.\n"
    return header + dump(dict(data))


def merge_environment_text(text: str, name: str, data: Mapping[str, Any]) -> EnvMerge:
    """Add what ``data`` has and the file lacks; report what differs (keeping the file's value)."""
    from ruamel.yaml import YAML

    from nvpolicy.learn.merge import plain, roundtrip_data

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(text) or {}
    result = EnvMerge(text)
    for key in ("namespace", "policy_mode"):
        if key not in data:
            continue
        if key not in document:
            document[key] = roundtrip_data(data[key])
            result.added.append(f"{name}: {key}: {data[key]}")
        elif plain(document[key]) != data[key]:
            result.conflicts.append(f"{name}: {key} is {document[key]}, the export's is {data[key]} (kept yours)")
    peers = data.get("peers") or {}
    if peers and document.get("peers") is None:
        document["peers"] = {}
    for peer, binding in peers.items():
        current = document["peers"].get(peer)
        if current is None:
            document["peers"][peer] = roundtrip_data(dict(binding))
            result.added.append(f"{name}: peers.{peer}")
        elif plain(current) != binding:
            result.conflicts.append(f"{name}: peers.{peer} is {plain(current)}, the export's is {dict(binding)} "
                                    "(kept yours)")
    if result.added:
        stream = io.StringIO()
        yaml.dump(document, stream)
        result.text = stream.getvalue()
    return result
