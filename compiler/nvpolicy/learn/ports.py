"""Locking learned ``ports: any`` to what the application really uses.

NeuVector learns the application (DPI) but often leaves the port open. The well-known port
of the application is the default lock; ports actually observed (``--events``) win over it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.model import Location
from nvpolicy.nv.applications import WELL_KNOWN_PORTS
from nvpolicy.nv.groups import learned_name

_BY_UPPER = {name.upper(): value for name, value in WELL_KNOWN_PORTS.items()}
UNLOCKED = ("", "any", "tcp/any", "udp/any", "TCP/any", "UDP/any")
_PROTOCOLS = {6: "tcp", 17: "udp"}

Port = tuple[str, int]


@dataclass(frozen=True)
class PortLock:
    """The ports a rule is locked to, and why; ``ports`` empty means it stays as learned."""

    ports: tuple[Port, ...]
    how: str  # "well-known", "observed" or the reason it could not be locked

    @property
    def locked(self) -> bool:
        return bool(self.ports)


@dataclass
class ObservedPorts:
    """Server ports seen between two groups: (client group, server group) → ports."""

    by_pair: dict[tuple[str, str], set[Port]] = field(default_factory=dict)

    def add(self, client: str, server: str, port: Port) -> None:
        self.by_pair.setdefault((client, server), set()).add(port)

    def between(self, client: str, server: str) -> tuple[Port, ...]:
        return tuple(sorted(self.by_pair.get((client, server), ())))


def is_unlocked(ports: Any) -> bool:
    return ports is None or (isinstance(ports, str) and ports.strip() in UNLOCKED)


def lock_ports(applications: Sequence[str], client: str, server: str,
               observed: ObservedPorts | None = None) -> PortLock:
    """The ports for a learned rule from ``client`` group to ``server`` group.

    Observed ports win; otherwise every application must have a well-known port (locking to
    the ports of some applications only would cut the others off).
    """
    if observed is not None:
        seen = observed.between(client, server)
        if seen:
            return PortLock(seen, "observed")
    apps = [app for app in applications if app.lower() != "any"]
    if not apps:
        return PortLock((), "no application learned (any)")
    unknown = [app for app in apps if app.upper() not in _BY_UPPER]
    if unknown:
        return PortLock((), f"no well-known port for {', '.join(unknown)}")
    return PortLock(tuple(sorted({_BY_UPPER[app.upper()] for app in apps})), "well-known")


def format_ports(ports: Iterable[Port]) -> str:
    """NeuVector's ports syntax, in its normal order (tcp before udp, ascending)."""
    return ",".join(f"{proto}/{number}" for proto, number in sorted(ports))


def peer_port_expression(peer: str) -> str:
    """The Jinja expression of a peer's port; hyphenated names need the subscript form."""
    return f"peers.{peer}.port" if peer.isidentifier() else f'peers["{peer}"].port'


def read_events(text: str, name: str, group_of: Any = None) -> ObservedPorts:
    """Observed server ports from NeuVector JSON: violations (``GET /v1/log/violation``, or a bare
    list of them) or conversations (``from``/``to`` group names with ``ports`` like ``tcp/5432``).

    A violation names workloads by service and domain; they map to learned group names
    ``nv.<service>.<domain>``. Records of another kind are passed over, but a file with none of
    these records, or a violation or conversation with a malformed field, is refused: a lock that
    silently falls back to the well-known port would hide the mistake.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid JSON: {exc.msg}", location=Location(name, exc.lineno, exc.colno)) from None
    location = Location(name)
    records = _records(data, location)
    observed = ObservedPorts()
    recognised = 0
    for path, record in records:
        if not isinstance(record, dict):
            continue
        if "server_port" in record:
            recognised += 1
            _add_violation(observed, record, location, path)
        elif "from" in record and "to" in record:
            recognised += 1
            _add_conversation(observed, record, location, path)
    if records and not recognised:
        raise SourceError("holds no NeuVector violation or conversation", location=location, hint=_EVENTS_HINT)
    return observed


_EVENTS_HINT = ("give the JSON of GET /v1/log/violation ({\"violations\": [...]}, with server_port) or "
                "conversations (from, to, ports)")


def _records(data: Any, location: Location) -> list[tuple[tuple[str | int, ...], Any]]:
    if isinstance(data, list):
        return [((index,), record) for index, record in enumerate(data)]
    if not isinstance(data, dict):
        raise SourceError("expected NeuVector violations or conversations (JSON)", location=location,
                          hint=_EVENTS_HINT)
    records: list[tuple[tuple[str | int, ...], Any]] = []
    found = False
    for key in ("violations", "conversations", "incidents"):
        value = data.get(key)
        path: tuple[str | int, ...] = (key,)
        if isinstance(value, dict):
            value, path = value.get(key), (key, key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise SourceError(f"{key!r} must be a list", location=location, path=path, hint=_EVENTS_HINT)
        found = True
        records.extend(((*path, index), record) for index, record in enumerate(value))
    if not found:
        raise SourceError("holds no NeuVector violation or conversation", location=location, hint=_EVENTS_HINT)
    return records


def _add_violation(observed: ObservedPorts, record: dict[str, Any], location: Location,
                   path: tuple[str | int, ...]) -> None:
    port, number = record.get("server_port"), record.get("ip_proto")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 65536:
        raise SourceError(f"server_port must be a port number, got {port!r}", location=location,
                          path=(*path, "server_port"))
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise SourceError(f"ip_proto must be a protocol number (6 tcp, 17 udp), got {number!r}",
                          location=location, path=(*path, "ip_proto"))
    client = _group(record.get("client_service"), record.get("client_domain"))
    server = _group(record.get("server_service"), record.get("server_domain"))
    proto = _PROTOCOLS.get(number or 6)
    if client and server and proto and port > 0:  # ICMP and workloads outside a service lock nothing
        observed.add(client, server, (proto, port))


def _add_conversation(observed: ObservedPorts, record: dict[str, Any], location: Location,
                      path: tuple[str | int, ...]) -> None:
    ports = record.get("ports") or []
    if not isinstance(ports, list):
        raise SourceError(f"ports must be a list like [\"tcp/5432\"], got {ports!r}", location=location,
                          path=(*path, "ports"))
    for entry in ports:
        parsed = _parse_port(str(entry))
        if parsed:
            observed.add(str(record["from"]), str(record["to"]), parsed)


def _group(service: Any, domain: Any) -> str | None:
    if not service or not domain:
        return None
    return learned_name(str(service), str(domain))


def _parse_port(text: str) -> Port | None:
    proto, _, number = text.strip().lower().partition("/")
    if proto in ("tcp", "udp") and number.isdigit() and 0 < int(number) < 65536:
        return proto, int(number)
    return None
