"""The source environment's file: namespace, policy mode and peer bindings, so that rendering the
imported source for it reproduces the export. An existing file is merged into, never overwritten:
missing keys and peers are added, a different value is a conflict and stays as written."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.emit import dump


@dataclass
class EnvMerge:
    text: str
    added: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


# An export without any policy mode (custom targets only, or learned ones that left it to the New
# Services Mode) renders no {{ policy_mode }}; the file still needs one, and Monitor passes lint anywhere.
DEFAULT_POLICY_MODE = "Monitor"
SCHEMA_HEADER = "# yaml-language-server: $schema={path}\n"
ANY_PORTS_REASON = ("learned by NeuVector with ports any and no well-known or observed port to lock to "
                    "(nvpolicy import); lock them before this policy leaves the learning environment")


def environment_data(namespace: str, policy_mode: str | None, bindings: Mapping[str, Mapping[str, Any]],
                     any_ports: Sequence[str] = (), discover: bool = False) -> dict[str, Any]:
    """The environment file's content as plain data (keys in the file's usual order). It always sets
    ``policy_mode``; it carries the lint settings that let the imported policy pass ``lint`` here:
    Discover allowed where NeuVector learned in Discover (``discover``: some target or process
    profile renders Discover), and a waiver per object (``any_ports``: their exported names) whose
    allow rules keep the learned ``any`` ports."""
    data: dict[str, Any] = {"namespace": namespace, "policy_mode": policy_mode or DEFAULT_POLICY_MODE}
    if bindings:
        data["peers"] = {name: dict(binding) for name, binding in sorted(bindings.items())}
    lint: dict[str, Any] = {}
    if discover or policy_mode == "Discover":
        lint["rules"] = {"allowed-policy-mode": {"options": {"allowed": ["Discover", "Monitor", "Protect"]}}}
    if any_ports:
        lint["waivers"] = [{"rule": "any-ports", "object": name, "reason": ANY_PORTS_REASON}
                           for name in sorted(set(any_ports))]
    if lint:
        data["lint"] = lint
    return data


def new_environment_text(data: Mapping[str, Any], source: str, schema: str | None = None) -> str:
    """The file's text: the schema header (``schema``: the schema's path relative to the file), then
    a comment naming the export as the user gave it (never an absolute path of this machine)."""
    header = SCHEMA_HEADER.format(path=schema) if schema else ""
    header += f"# The environment NeuVector learned in; written by nvpolicy import from {source}.\n"
    return header + dump(dict(data))


def merge_environment_text(text: str, name: str, data: Mapping[str, Any]) -> EnvMerge:
    """Add what ``data`` has and the file lacks; report what differs (keeping the file's value)."""
    from ruamel.yaml import YAML

    from nvpolicy.learn.merge import plain, roundtrip_data

    _check_existing(text, name)
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
    if "lint" in data and "lint" not in document:
        # The settings that let the imported policy pass lint here; lint settings of your own are yours.
        document["lint"] = data["lint"]
        result.added.append(f"{name}: lint")
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


def _check_existing(text: str, name: str) -> None:
    """Read the file as every environment file is read first (duplicate keys, tags, aliases, sizes),
    so the round-trip editor only ever sees a file nvpolicy itself accepts; refuse shapes it cannot merge."""
    from nvpolicy.errors import EnvironmentFileError
    from nvpolicy.source import load_text

    documents = load_text(text, name)
    if len(documents) > 1 or (documents and not isinstance(documents[0].data, dict)):
        raise EnvironmentFileError("an environment file holds exactly one YAML mapping",
                                   location=documents[0].locate(), hint="--env-out names an environment file")
    data = documents[0].data if documents else {}
    for key in ("namespace", "policy_mode"):
        if key in data and not isinstance(data[key], str):
            raise EnvironmentFileError(f"{key!r} must be text", location=documents[0].locate((key,)), path=(key,))
    peers = data.get("peers")
    if peers is not None and not isinstance(peers, dict):
        raise EnvironmentFileError("'peers' must be a mapping of peer names to bindings",
                                   location=documents[0].locate(("peers",)), path=("peers",))
