"""NeuVector security events as nvpolicy reads them: violations (network) and incidents (process).

Accepted input, per file: the JSON the REST API returns (``{"violations": [...]}`` from
``/v1/log/violation``, ``{"incidents": [...]}`` from ``/v1/log/incident``, ``{"threats", "incidents",
"violations"}`` from ``/v1/log/security``), or newline-delimited JSON as syslog and webhooks send
it: one event per line, optionally behind a syslog prefix (the JSON starts at the first ``{``).
Conversations (``from``/``to`` group names, ``ports: [tcp/5432]``) are read as network events too.
This is the one reader of events: ``import --events`` and ``propose`` both use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from nvpolicy.nv.applications import NAMES as APPLICATIONS
from nvpolicy.nv.groups import EXTERNAL, FED_EXTERNAL, learned_name

_CANONICAL_APP = {name.lower(): name for name in APPLICATIONS}
_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp"}
_EXTERNAL_NAMES = frozenset({EXTERNAL, FED_EXTERNAL})
_WRAPPERS = ("violations", "incidents", "threats", "conversations")


@dataclass(frozen=True)
class Where:
    """The place of an event in its input (file, 1-based line and column; 0 where unknown)."""

    file: str
    line: int = 0
    column: int = 0


class EventError(ValueError):
    """An input that is not NeuVector's events, with its place; ``nvpolicy.learn.events`` turns it into
    the input error users see (exit 2), since this package imports nothing above it."""

    def __init__(self, message: str, location: Where | None = None, path: tuple[str | int, ...] = (),
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.path = path
        self.hint = hint


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection: a workload of a service in a namespace, or an address outside the cluster."""

    name: str = ""
    service: str = ""
    domain: str = ""
    ip: str = ""

    @property
    def in_cluster(self) -> bool:
        return bool(self.service and self.domain)


@dataclass(frozen=True)
class NetworkEvent:
    id: str
    client: Endpoint
    server: Endpoint
    server_port: int
    ip_proto: int
    applications: tuple[str, ...]
    sessions: int
    fqdn: str
    reported: float | None
    action: str
    more_ports: tuple[tuple[int, int], ...] = ()  # further (ip_proto, port) of a conversation

    def server_ports(self) -> tuple[tuple[int, int], ...]:
        """Every (ip_proto, server port) this event saw."""
        return ((self.ip_proto, self.server_port), *self.more_ports)


@dataclass(frozen=True)
class ProcessEvent:
    id: str
    name: str  # the incident's name, e.g. Process.Profile.Violation
    workload: Endpoint
    group: str
    proc_name: str
    proc_path: str
    proc_cmd: str
    parent_name: str
    parent_path: str
    count: int
    reported: float | None


@dataclass
class Events:
    network: list[NetworkEvent]
    process: list[ProcessEvent]
    ignored: int = 0  # threats and other events propose has no rule for


def parse_events(texts: Iterable[tuple[str, str]]) -> Events:
    """Parse (display name, text) inputs; the same event id seen twice (two dumps overlap) counts once."""
    result = Events([], [])
    seen: set[tuple[str, str]] = set()
    for name, text in texts:
        for raw, line in _raw_events(name, text):
            _refuse_surrogates(raw, Where(name, line, 1 if line else 0))
            event = _event(raw, Where(name, line, 1 if line else 0))
            if event is None:
                result.ignored += 1
                continue
            key = ("net" if isinstance(event, NetworkEvent) else "proc", event.id)
            if event.id and key in seen:
                continue
            seen.add(key)
            if isinstance(event, NetworkEvent):
                result.network.append(event)
            else:
                result.process.append(event)
    return result


def _refuse_surrogates(raw: Mapping[str, Any], where: Where) -> None:
    """JSON's ``\\ud800`` escapes can spell half a character, which no report or file can hold. (The
    message is made printable where it is shown: ``nvpolicy.learn.events``.)"""
    for key, value in raw.items():
        for text in (key, value):
            if isinstance(text, str) and not text.isprintable() and any("\ud800" <= c <= "\udfff" for c in text):
                raise EventError(f"event {str(raw.get('id', '?'))[:40]}: {str(key)[:40]} holds a lone UTF-16 "
                                 "surrogate (half a character), not text", location=where)


def _raw_events(name: str, text: str) -> list[tuple[Mapping[str, Any], int]]:
    stripped = text.strip()
    if not stripped:
        return []
    try:
        whole = _loads(stripped, Where(name))
    except json.JSONDecodeError:
        whole = None  # not one JSON value: newline-delimited events
    if whole is not None:
        return [(item, 0) for item in _unwrap(whole, Where(name))]
    found: list[tuple[Mapping[str, Any], int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        start = line.find("{")
        if not line.strip():
            continue
        if start < 0:
            raise EventError("a line holds no JSON object", location=Where(name, number, 1),
                              hint=_KEY_VALUE_HINT if "reported_timestamp=" in line else
                              "give the REST API's JSON, or one JSON event per line (syslog, webhook)")
        try:
            data = _loads(line[start:], Where(name, number, start + 1))
        except json.JSONDecodeError as exc:
            raise EventError(f"not JSON: {exc.msg}", location=Where(name, number, start + exc.colno)) from None
        found.extend((item, number) for item in _unwrap(data, Where(name, number)))
    return found


def _loads(text: str, where: Where) -> Any:
    """``json.loads``, with nesting too deep for Python's parser an input error instead of a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise EventError("JSON nested too deeply", location=where,
                          hint="NeuVector's events are a few levels deep; this is not an event file") from None


def _unwrap(data: Any, where: Where) -> list[Mapping[str, Any]]:
    """The events of one JSON value: a wrapper from the REST API, a list, or a single event."""
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict) and any(key in data for key in _WRAPPERS):
        items = []
        for key in _WRAPPERS:
            part = data.get(key) or []
            if isinstance(part, dict) and key in part:  # {"conversations": {"conversations": [...]}}
                part = part.get(key) or []
            if not isinstance(part, list):
                raise EventError(f"'{key}' must be a list", location=where, path=(key,))
            items.extend({"_kind": key, **item} if isinstance(item, dict) else item for item in part)
    elif isinstance(data, dict):
        items = [data]
    else:
        raise EventError("expected a JSON object with violations/incidents, or one event", location=where)
    for item in items:
        if not isinstance(item, dict):
            raise EventError("an event is not a JSON object", location=where)
    return items


def _event(raw: Mapping[str, Any], where: Where) -> NetworkEvent | ProcessEvent | None:
    kind = raw.get("_kind")
    # Syslog/webhook lines name their category; a threat carries server_port too but is no rule's evidence.
    if kind == "threats" or raw.get("notification") == "threat":
        return None
    if kind == "conversations" or (kind is None and "from" in raw and "to" in raw and "ports" in raw):
        return _conversation(raw, where)
    if kind == "violations" or (kind is None and "server_port" in raw and "proc_name" not in raw):
        return _network(raw, where)
    if kind == "incidents" or (kind is None and ("proc_name" in raw or "proc_path" in raw)):
        return _process(raw) if (raw.get("proc_name") or raw.get("proc_path")) else None
    if kind is None and not any(key in raw for key in _LOG_COMMON):
        raise EventError(
            f"not a NeuVector event (keys: {', '.join(sorted(map(str, raw))[:6])})", location=where,
            hint="give the JSON of GET /v1/log/violation, /v1/log/incident or /v1/log/security, "
                 "or NeuVector's syslog/webhook events, one per line",
        )
    return None


# NeuVector's syslog sends key=value text unless its JSON format (syslog_in_json) is on, and so
# does a webhook of any type but JSON; every such line carries LogCommon's reported_timestamp=.
_KEY_VALUE_HINT = ("this is NeuVector's key=value text: turn on JSON format in its syslog settings "
                   "(syslog_in_json) or use a webhook of type JSON, or fetch the events with nvpolicy events")

# Fields every NeuVector log entry carries (LogCommon): an event without any of them is not NeuVector's.
_LOG_COMMON = ("reported_timestamp", "reported_at", "level", "cluster_name", "host_name", "enforcer_id")


def _network(raw: Mapping[str, Any], where: Where) -> NetworkEvent:
    port = _number(raw, "server_port", where, "a port number", 65535)
    proto = _number(raw, "ip_proto", where, "a protocol number (6 tcp, 17 udp)", 255)
    sessions = _number(raw, "sessions", where, "a count", None) or 1
    apps = raw.get("applications") or []
    return NetworkEvent(
        id=str(raw.get("id", "")),
        client=_endpoint(raw, "client"),
        server=_endpoint(raw, "server"),
        server_port=port,
        ip_proto=proto,
        applications=tuple(str(a) for a in apps) if isinstance(apps, list) else (),
        sessions=max(sessions, 1),
        fqdn=str(raw.get("fqdn") or ""),
        reported=reported_time(raw),
        action=str(raw.get("policy_action") or ""),
    )


def _number(raw: Mapping[str, Any], key: str, where: Where, what: str, most: int | None) -> int:
    """An integer field of an event (absent: 0). NeuVector writes numbers as JSON numbers; anything else
    would lock a port from a guess, so it is refused with the field's path."""
    value = raw.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (most is not None and value > most):
        raise EventError(f"{key} must be {what}, got {value!r}", location=where, path=(key,))
    return value


def _process(raw: Mapping[str, Any]) -> ProcessEvent:
    path = str(raw.get("proc_path") or "")
    try:
        count = int(raw.get("count") or 1)
    except (TypeError, ValueError):
        count = 1
    return ProcessEvent(
        id=str(raw.get("id", "")),
        name=str(raw.get("name") or ""),
        workload=_endpoint(raw, "workload"),
        group=str(raw.get("group") or ""),
        proc_name=str(raw.get("proc_name") or path.rsplit("/", 1)[-1]),
        proc_path=path,
        proc_cmd=str(raw.get("proc_cmd") or ""),
        parent_name=str(raw.get("proc_parent_name") or ""),
        parent_path=str(raw.get("proc_parent_path") or ""),
        count=max(count, 1),
        reported=reported_time(raw),
    )


def _endpoint(raw: Mapping[str, Any], side: str) -> Endpoint:
    domain = str(raw.get(f"{side}_domain") or "")
    service = str(raw.get(f"{side}_service") or "")
    # NeuVector may report the service with its namespace appended (<svc>.<ns>), as in the group name.
    if domain and service.endswith(f".{domain}"):
        service = service[: -len(domain) - 1]
    ip_key = {"client": "client_ip", "server": "server_ip"}.get(side, "")
    name = str(raw.get(f"{side}_name") or raw.get(f"{side}_id") or "")
    # NeuVector spells the outside world "External" in its UI and events, "external" in group names,
    # and may name it only by id; one spelling here, so every reader compares one value.
    if name.lower() in _EXTERNAL_NAMES or str(raw.get(f"{side}_id") or "").lower() == "external":
        name = name.lower() if name.lower() in _EXTERNAL_NAMES else "external"
    elif side == "server" and not (service and domain) and raw.get("fqdn") and not name:
        name = "external"  # a server known only by its DNS name is outside the cluster
    return Endpoint(name=name, service=service, domain=domain, ip=str(raw.get(ip_key) or "") if ip_key else "")


def is_external(endpoint: Endpoint) -> bool:
    return not endpoint.in_cluster and (endpoint.name in _EXTERNAL_NAMES or (not endpoint.name and bool(endpoint.ip)))


def group_of(endpoint: Endpoint) -> str:
    """The NeuVector group an endpoint belongs to: ``nv.<svc>.<ns>``, ``external`` or the named group."""
    if endpoint.in_cluster:
        return learned_name(endpoint.service, endpoint.domain)
    if is_external(endpoint):
        return "external"
    return endpoint.name


def _conversation(raw: Mapping[str, Any], where: Where) -> NetworkEvent | None:
    """A conversation between two groups (``from``, ``to``, ``ports: [tcp/5432]``) as one network event
    per port; ports that are not ``tcp/N``/``udp/N`` lock nothing."""
    ports = raw.get("ports") or []
    if not isinstance(ports, list):
        raise EventError(f"ports must be a list like [\"tcp/5432\"], got {ports!r}", location=where)
    parsed = [port for port in (_parse_port(str(entry)) for entry in ports) if port is not None]
    if not parsed:
        return None
    proto, number = parsed[0]
    return NetworkEvent(
        id=str(raw.get("id", "")), client=_group_endpoint(str(raw["from"])), server=_group_endpoint(str(raw["to"])),
        server_port=number, ip_proto=proto, applications=(), sessions=1, fqdn="", reported=None, action="",
        more_ports=tuple(parsed[1:]),
    )


def _group_endpoint(group: str) -> Endpoint:
    """A group name as an endpoint: a learned group ``nv.<svc>.<ns>`` names its service and namespace."""
    if group.startswith("nv.") and not group.startswith("nv.ip.") and group.count(".") >= 2:
        service, _, domain = group[3:].rpartition(".")
        return Endpoint(name=group, service=service, domain=domain)
    return Endpoint(name=group.lower() if group.lower() in _EXTERNAL_NAMES else group)


_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17}


def _parse_port(text: str) -> tuple[int, int] | None:
    proto, _, number = text.strip().lower().partition("/")
    if proto in _PROTOCOL_NUMBERS and number.isdigit() and 0 < int(number) < 65536:
        return _PROTOCOL_NUMBERS[proto], int(number)
    return None


def port_spec(event: NetworkEvent) -> str:
    """The rule's ports string for one event: ``tcp/5432``, ``udp/53``, ``icmp``."""
    proto = _PROTOCOLS.get(event.ip_proto)
    if proto == "icmp":
        return "icmp"
    if proto is None:
        return f"{event.server_port}" if event.server_port else "any"
    return f"{proto}/{event.server_port}" if event.server_port else f"{proto}/any"


def canonical_applications(names: Iterable[str]) -> tuple[str, ...]:
    """DPI names NeuVector accepts in rules, canonical spelling; unknown ones (and ``any``) dropped."""
    return tuple(sorted({_CANONICAL_APP[n.lower()] for n in names if n.lower() in _CANONICAL_APP}))


def reported_time(raw: Mapping[str, Any]) -> float | None:
    """Seconds since the epoch: ``reported_timestamp`` (unix) or ``reported_at`` (RFC 3339)."""
    stamp = raw.get("reported_timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp > 0:
        return float(stamp)
    text = raw.get("reported_at")
    if isinstance(text, str) and text:
        try:
            return _parse_iso(text)
        except ValueError:
            return None
    return None


def format_time(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """``--since``: a duration back from now (``30m``, ``24h``, ``7d``) or an ISO 8601 time."""
    match = _DURATION.match(text.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        return _parse_iso(text.strip())
    except ValueError:
        raise EventError(f"--since {text!r} is neither a duration nor an ISO 8601 time",
                          hint="for example --since 24h, --since 7d or --since 2026-11-20T00:00:00Z") from None


def _parse_iso(text: str) -> float:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(seconds=1)
