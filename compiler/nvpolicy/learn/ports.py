"""Locking learned ``ports: any`` to what the application really uses.

NeuVector learns the application (DPI) but often leaves the port open. The well-known port
of the application is the default lock; ports actually observed (``--events``) win over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.model import Location
from nvpolicy.nv.applications import WELL_KNOWN_PORTS

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
    events: int = 0  # network events read, for the report
    used: set[tuple[str, str]] = field(default_factory=set)  # pairs some rule was locked by

    def add(self, client: str, server: str, port: Port) -> None:
        self.by_pair.setdefault((client, server), set()).add(port)

    def between(self, client: str, server: str, aliases: Sequence[str] = ()) -> tuple[Port, ...]:
        """Ports seen from ``client`` to ``server`` (or to one of its addresses, for an address group)."""
        for name in (server, *aliases):
            seen = self.by_pair.get((client, name))
            if seen:
                self.used.add((client, name))
                return tuple(sorted(seen))
        return ()


def is_unlocked(ports: Any) -> bool:
    return ports is None or (isinstance(ports, str) and ports.strip() in UNLOCKED)


def lock_ports(applications: Sequence[str], client: str, server: str,
               observed: ObservedPorts | None = None, aliases: Sequence[str] = ()) -> PortLock:
    """The ports for a learned rule from ``client`` group to ``server`` group.

    Observed ports win; otherwise every application must have a well-known port (locking to
    the ports of some applications only would cut the others off).
    """
    unmatched = ""
    if observed is not None:
        seen = observed.between(client, server, aliases)
        if seen:
            return PortLock(seen, "observed")
        unmatched = "; no event of --events matched this rule"
    apps = [app for app in applications if app.lower() != "any"]
    if not apps:
        return PortLock((), f"no application learned (any){unmatched}")
    unknown = [app for app in apps if app.upper() not in _BY_UPPER]
    if unknown:
        return PortLock((), f"no well-known port for {', '.join(unknown)}{unmatched}")
    return PortLock(tuple(sorted({_BY_UPPER[app.upper()] for app in apps})), f"well-known{unmatched}")


def format_ports(ports: Iterable[Port]) -> str:
    """NeuVector's ports syntax, in its normal order (tcp before udp, ascending)."""
    return ",".join(f"{proto}/{number}" for proto, number in sorted(ports))


def peer_port_expression(peer: str) -> str:
    """The Jinja expression of a peer's port; hyphenated names need the subscript form."""
    return f"peers.{peer}.port" if peer.isidentifier() else f'peers["{peer}"].port'


def read_events(text: str, name: str) -> ObservedPorts:
    """Observed server ports from NeuVector events, read by the one event reader (``nv.events``):
    violations as the REST API returns them or as NDJSON (syslog, webhook), or conversations
    (``from``/``to`` group names, ``ports: [tcp/5432]``).

    A violation names workloads by service and domain; they map to learned group names
    ``nv.<service>.<domain>``, and a server outside the cluster to ``external`` and to its ``fqdn``
    or IP (so an address group's rule finds it). A file with no network event at all, or a
    malformed one, is refused: a lock that silently falls back to the well-known port would hide
    the mistake.
    """
    from nvpolicy.learn.events import group_of, is_external, parse_events

    events = parse_events([(name, text)])
    if not events.network and (events.process or events.ignored or not _is_empty_wrapper(text)):
        raise SourceError("holds no NeuVector violation or conversation", location=Location(name), hint=_EVENTS_HINT)
    observed = ObservedPorts(events=len(events.network))
    for event in events.network:
        client = group_of(event.client)
        servers = [group_of(event.server)]
        if is_external(event.server):
            servers += [address for address in (event.fqdn.strip().rstrip(".").lower(), event.server.ip) if address]
        for number, port in event.server_ports():
            proto = _PROTOCOLS.get(number or 6)
            if client and proto and port > 0:  # ICMP and workloads outside a group lock nothing
                for server in filter(None, servers):
                    observed.add(client, server, (proto, port))
    return observed


def _is_empty_wrapper(text: str) -> bool:
    """``{"violations": []}`` and friends: a real answer with nothing in it, which locks nothing."""
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and any(key in data for key in _WRAPPERS) and not any(data.get(k) for k in _WRAPPERS)


_WRAPPERS = ("violations", "conversations", "incidents", "threats")
_EVENTS_HINT = ("give the JSON of GET /v1/log/violation ({\"violations\": [...]}, with server_port), NeuVector's "
                "syslog/webhook events one per line, or conversations (from, to, ports)")
