"""Turn security events into reviewed rule proposals: aggregate, flag what looks like an attack, skip what is allowed.

A proposal is a rule in *source* form (placeholders, not namespaces): ``service('orders')`` for a
workload of the lifted namespace, ``service('postgres', 'qa-db')`` for another namespace, and
``peer('<name>')`` for an address outside the cluster, with the peer binding the environment needs.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.environment import Environment, address_problem
from nvpolicy.learn.events import (
    Endpoint,
    Events,
    NetworkEvent,
    ProcessEvent,
    canonical_applications,
    format_time,
    is_external,
    port_spec,
)
from nvpolicy.learn.literal import literal_tree, namespace_problem, service_call, service_problem
from nvpolicy.model import RenderedObject
from nvpolicy.nv.ports import PortsError
from nvpolicy.nv.ports import parse as parse_ports
from nvpolicy.nv.tools import INTERPRETERS, PACKAGE_MANAGERS, SHELLS
from nvpolicy.nv.tools import NETWORK_TOOLS as TOOLS

# Shells, tools an intruder uses to move data or open channels, and package managers: never allowed
# silently (one list each: nvpolicy.nv.tools; interpreters count as tools here).
NETWORK_TOOLS = TOOLS | INTERPRETERS
# Incidents NeuVector itself classifies as suspicious rather than as a profile miss.
SUSPICIOUS_INCIDENTS = ("Suspicious", "Tunnel", "Escalation", "Hidden", "Reverse")
# Incidents that name a process but are about something a process rule does not decide (a file
# touched, a package changed, a quarantine): allowing the process would answer the wrong question.
NOT_PROCESS_INCIDENTS = ("FileAccess", "Package", "Quarantine")


@dataclass
class Evidence:
    count: int = 0
    sessions: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    event_ids: set[str] = field(default_factory=set)
    workloads: set[str] = field(default_factory=set)

    def add(self, event_id: str, count: int, sessions: int, when: float | None, workload: str) -> None:
        self.count += count
        self.sessions += sessions
        if event_id:
            self.event_ids.add(event_id)
        if workload:
            self.workloads.add(workload)
        if when is not None:
            self.first_seen = when if self.first_seen is None else min(self.first_seen, when)
            self.last_seen = when if self.last_seen is None else max(self.last_seen, when)

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "sessions": self.sessions,
            "first_seen": format_time(self.first_seen),
            "last_seen": format_time(self.last_seen),
            "event_ids": sorted(self.event_ids),
            "workloads": sorted(self.workloads),
        }


@dataclass(frozen=True)
class Group:
    """A rule's group in source terms: a service (namespace None = the lifted one) or an external address."""

    service: str = ""
    namespace: str | None = None
    address: str = ""
    peer: str = ""  # the peer name an external address is bound as

    @property
    def external(self) -> bool:
        return bool(self.address)

    def placeholder(self) -> str:
        if self.external:
            if not _PEER_NAME.match(self.peer):
                raise ValueError(f"peer name {self.peer!r} is not a peer name")  # slugs and env names: a bug
            return f"{{{{ peer('{self.peer}') }}}}"
        return service_call(self.service, self.namespace)

    def label(self) -> str:
        if self.external:
            return self.address
        return self.service if self.namespace is None else f"{self.service}.{self.namespace}"


@dataclass
class Proposal:
    """One rule to add to the policy of ``target`` (a service of the lifted namespace)."""

    target: str
    section: str  # ingress | egress | process
    rule: dict[str, Any]
    evidence: Evidence
    peer: Group | None = None  # the other side of a network rule
    flags: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "process" if self.section == "process" else "network"

    def source_rule(self) -> dict[str, Any]:
        """The rule as it is written into policies/: the selector is the placeholder propose made; every
        other field is data from the events (a process name or path), escaped to render as itself."""
        return {key: value if key == "selector" else literal_tree(value) for key, value in self.rule.items()}

    def summary(self) -> str:
        if self.section == "process":
            return f"{self.target}: process {self.rule['name']} ({self.rule.get('path', '')})"
        assert self.peer is not None
        apps = ",".join(self.rule.get("applications", [])) or "any app"
        arrow = f"{self.target} -> {self.peer.label()}" if self.section == "egress" else \
            f"{self.peer.label()} -> {self.target}"
        return f"{arrow} {self.rule.get('ports', 'any')} {apps}"

    def binding(self) -> tuple[str, dict[str, Any]] | None:
        """The environment peer binding this rule needs, when its peer is outside the cluster."""
        if self.peer is None or not self.peer.external:
            return None
        return self.peer.peer, {"address": self.peer.address}

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "summary": self.summary(),
            "target": {"service": self.target, "policy": f"nv.{self.target}.{{{{ namespace }}}}"},
            "section": self.section,
            "rule": self.source_rule(),
            "evidence": self.evidence.as_json(),
        }
        binding = self.binding()
        if binding is not None:
            data["peer_binding"] = {"name": binding[0], **binding[1]}
        if self.flags:
            data["reasons"] = list(self.flags)
        return data


@dataclass
class Result:
    proposals: list[Proposal]
    flagged: list[Proposal]
    allowed: list[Proposal]  # already allowed by the current source for the environment
    ignored: list[str]  # events propose has no rule for, with why

    def as_json(self) -> dict[str, Any]:
        return {
            "proposals": [p.as_json() for p in self.proposals],
            "flagged": [p.as_json() for p in self.flagged],
            "already_allowed": [p.summary() for p in self.allowed],
            "ignored": self.ignored,
        }


def propose(events: Events, namespace: str, *, environment: Environment | None = None,
            rendered: Sequence[RenderedObject] = ()) -> Result:
    """Aggregate events of workloads in ``namespace`` into proposals; with an environment, skip what it allows."""
    lifter = _Lifter(namespace, environment)
    aggregated: dict[tuple[Any, ...], Proposal] = {}
    ignored: dict[str, int] = {}
    for event in events.network:
        made = lifter.network(event)
        if isinstance(made, str):
            ignored[made] = ignored.get(made, 0) + 1
            continue
        proposal, key = made
        existing = aggregated.setdefault(key, proposal)
        existing.evidence.add(event.id, 1, event.sessions, event.reported,
                              event.client.name if proposal.section == "egress" else event.server.name)
    for process in events.process:
        made = lifter.process(process)
        if isinstance(made, str):
            ignored[made] = ignored.get(made, 0) + 1
            continue
        proposal, key = made
        existing = aggregated.setdefault(key, proposal)
        existing.evidence.add(process.id, process.count, 0, process.reported, process.workload.name)
        for flag in _process_flags(process):
            if flag not in existing.flags:
                existing.flags.append(flag)
    if events.ignored:
        ignored["threat or other event with no rule to propose"] = events.ignored
    allowance = _Allowance(environment, rendered) if environment is not None else None
    result = Result([], [], [], [f"{count} x {why}" for why, count in sorted(ignored.items())])
    for proposal in sorted(aggregated.values(), key=lambda p: (p.target, p.section, p.summary())):
        if allowance is not None and allowance.allows(proposal):
            result.allowed.append(proposal)
        elif proposal.flags:
            result.flagged.append(proposal)
        else:
            result.proposals.append(proposal)
    _unique_rule_names(result.proposals + result.flagged)
    return result


class _Lifter:
    def __init__(self, namespace: str, environment: Environment | None) -> None:
        self.namespace = namespace
        self.peers_by_address = {b.address: name for name, b in (environment.peers.items() if environment else ())
                                 if b.address}
        self.taken = set(environment.peers) if environment else set()

    def peer_name(self, address: str, base: str) -> str:
        """The bound peer of that address, or a fresh name no other binding of the environment uses."""
        known = self.peers_by_address.get(address)
        if known:
            return known
        base = base[:60].strip("-") or "external"
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}-{number}", number + 1
        self.peers_by_address[address] = name
        return name

    def group(self, endpoint: Endpoint) -> Group | str:
        """The endpoint's service group, or why its names cannot go into ``service('…')``."""
        namespace = None if endpoint.domain == self.namespace else endpoint.domain
        problem = service_problem(endpoint.service) or (namespace_problem(namespace) if namespace else None)
        if problem:
            return f"{problem}: no rule proposed for it"
        return Group(endpoint.service, namespace)

    def network(self, event: NetworkEvent) -> tuple[Proposal, tuple[Any, ...]] | str:
        client_own = event.client.in_cluster and event.client.domain == self.namespace
        server_own = event.server.in_cluster and event.server.domain == self.namespace
        ports = port_spec(event)
        apps = canonical_applications(event.applications)
        flags: list[str] = []
        if client_own:
            target, section = event.client.service, "egress"
            if event.server.in_cluster:
                peer = self.group(event.server)
            elif is_external(event.server):
                peer, flag = self.external(event)
                flags += [flag] if flag else []
            else:
                return f"egress to {event.server.name or event.server.ip or 'an unknown endpoint'} (not a service " \
                    "or an external address)"
        elif server_own:
            target, section = event.server.service, "ingress"
            if event.client.in_cluster:
                peer = self.group(event.client)
            elif is_external(event.client):
                return "ingress from outside the cluster (expose it through an ingress controller's rule instead)"
            else:
                return f"ingress from {event.client.name or 'an unknown endpoint'} (not a service)"
        else:
            return f"traffic of workloads outside namespace {self.namespace}"
        if isinstance(peer, str):
            return peer
        problem = service_problem(target)
        if problem:
            return f"{problem}: no rule proposed for it"
        name = f"{target}-to-{_slug(peer.label())}" if section == "egress" else f"{_slug(peer.label())}-to-{target}"
        rule: dict[str, Any] = {"name": f"{name}-{_slug(ports)}", "action": "allow"}
        if apps:
            rule["applications"] = list(apps)
        rule["ports"] = ports
        rule["selector"] = peer.placeholder()
        key = ("net", target, section, peer.label(), ports, apps)
        return Proposal(target, section, rule, Evidence(), peer, flags), key

    def external(self, event: NetworkEvent) -> tuple[Group, str | None]:
        fqdn = event.fqdn.strip().rstrip(".").lower()
        if fqdn:
            return Group(address=fqdn, peer=self.peer_name(fqdn, _slug(fqdn))), _address_flag(fqdn)
        address = event.server.ip or "unknown"
        name = self.peer_name(address, f"ip-{_slug(address)}")
        problem = address_problem(address)
        why = f"; NeuVector would refuse it: {problem}" if problem else ""
        return Group(address=address, peer=name), f"egress to a raw IP outside the cluster ({address}), no FQDN " \
            f"known{why}"

    def process(self, event: ProcessEvent) -> tuple[Proposal, tuple[Any, ...]] | str:
        workload = event.workload
        if not workload.in_cluster:
            return "process incident on a host or a workload without a service"
        if workload.domain != self.namespace:
            return f"process incidents of workloads outside namespace {self.namespace}"
        problem = service_problem(workload.service)
        if problem:
            return f"{problem}: no process rule proposed for it"
        if any(word in event.name for word in NOT_PROCESS_INCIDENTS):
            return f"{event.name} incident (no process rule to propose)"
        rule: dict[str, Any] = {"name": event.proc_name, "action": "allow"}
        if event.proc_path:
            rule["path"] = event.proc_path
        key = ("proc", workload.service, event.proc_name, event.proc_path)
        return Proposal(workload.service, "process", rule, Evidence()), key


def _address_flag(address: str) -> str | None:
    """Why an external address from an event must be reviewed rather than written, or None.

    A wildcard admits every host below it, and NeuVector refuses ``*.`` with fewer than two labels
    (``*.com``, CONTROLLER-CHECKS.md S18): an event names the host it saw, never a wildcard."""
    if "*" in address:
        return f"the address {address} is a wildcard: it would allow every host it matches"
    problem = address_problem(address)
    if problem:
        return f"the address {address} is not one NeuVector accepts: {problem}"
    return None


def _process_flags(event: ProcessEvent) -> list[str]:
    flags = []
    # The name and the executable both count: python3.11 is python, and a tool renamed or run
    # through a symlink still shows its real path -- except busybox, whose path every applet shares.
    names = [_program(event.proc_name)] + [p for p in [_program(event.proc_path)] if p != "busybox"]
    parent = _program(event.parent_name or event.parent_path)
    for kind, members in (("a shell", SHELLS), ("a network tool", NETWORK_TOOLS),
                          ("a package manager", PACKAGE_MANAGERS)):
        base = next((n for n in names if n in members), None)
        if base is not None:
            flags.append(f"{base} is {kind}")
            break
    if parent in SHELLS:
        flags.append(f"its parent {parent} is a shell" + (f" (command: {event.proc_cmd})" if event.proc_cmd else ""))
    if any(word in event.name for word in SUSPICIOUS_INCIDENTS):
        flags.append(f"NeuVector reported it as {event.name}")
    return flags


def _program(name: str) -> str:
    """A process name or path as the program it runs: ``/usr/bin/python3.11`` -> ``python``."""
    base = name.rsplit("/", 1)[-1]
    return re.sub(r"(?<=[a-z])[0-9][0-9.]*$", "", base) if base not in SHELLS | NETWORK_TOOLS else base


# Peer names as environment files allow them (environment.schema.json peerName): no quote, no marker.
_PEER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "any"


def _unique_rule_names(proposals: Iterable[Proposal]) -> None:
    seen: set[tuple[str, str]] = set()
    for proposal in proposals:
        if proposal.section == "process":
            continue
        base = proposal.rule["name"]
        name, number = base, 2
        while (proposal.target, name) in seen:
            name, number = f"{base}-{number}", number + 1
        proposal.rule["name"] = name
        seen.add((proposal.target, name))


# ---------------------------------------------------------------------------------------------
# What the current source already allows, for one environment


class _Allowance:
    def __init__(self, environment: Environment, rendered: Sequence[RenderedObject]) -> None:
        self.environment = environment
        self.rules: list[tuple[str, Mapping[str, Any]]] = []
        for obj in rendered:
            if obj.id.kind not in ("NvSecurityRule", "NvClusterSecurityRule"):
                continue
            spec = obj.data.get("spec", {})
            self.rules.append((str(spec.get("target", {}).get("selector", {}).get("name", "")), spec))

    def group_name(self, group: Group) -> str:
        return f"nv.{group.service}.{group.namespace or self.environment.namespace}"

    def allows(self, proposal: Proposal) -> bool:
        target = f"nv.{proposal.target}.{self.environment.namespace}"
        if proposal.section == "process":
            return any(_process_allows(rule, proposal.rule) for name, spec in self.rules if name == target
                       for rule in spec.get("process") or [])
        assert proposal.peer is not None
        ports, apps = proposal.rule["ports"], proposal.rule.get("applications", [])
        # A connection is allowed by the client's egress rule or by the server's ingress rule.
        if proposal.section == "egress":
            mine, theirs = ("egress", target), ("ingress", None if proposal.peer.external else
                                                 self.group_name(proposal.peer))
        else:
            mine, theirs = ("ingress", target), ("egress", self.group_name(proposal.peer))
        for section, owner, other in ((mine[0], mine[1], proposal.peer), (theirs[0], theirs[1], None)):
            if owner is None:
                continue
            for name, spec in self.rules:
                if name != owner:
                    continue
                for rule in spec.get(section) or []:
                    selector = rule.get("selector", {})
                    matches = self._selects(selector, other) if other is not None else \
                        selector.get("name") == target
                    if matches and rule.get("action") == "allow" and ports_cover(str(rule.get("ports", "any")),
                                                                                 ports) \
                            and _apps_cover(rule.get("applications"), apps):
                        return True
        return False

    def _selects(self, selector: Mapping[str, Any], group: Group) -> bool:
        if not group.external:
            return bool(selector.get("name") == self.group_name(group))
        for criterion in selector.get("criteria") or []:
            if criterion.get("key") == "address" and _address_covers(str(criterion.get("value", "")), group.address):
                return True
        return False


def _process_allows(rule: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    if rule.get("action") != "allow":
        return False
    name, path = str(rule.get("name") or ""), str(rule.get("path") or "")
    name_ok = not name or name == "*" or name == wanted["name"]
    path_ok = not path or fnmatch.fnmatchcase(str(wanted.get("path", "")), path)
    return name_ok and path_ok


def _apps_cover(rule_apps: Any, wanted: Sequence[str]) -> bool:
    if not rule_apps or any(str(a).lower() == "any" for a in rule_apps):
        return True
    have = {str(a).lower() for a in rule_apps}
    return bool(wanted) and all(a.lower() in have for a in wanted)


def _address_covers(value: str, address: str) -> bool:
    if value == address or (value.startswith("*.") and address.endswith(value[1:])):
        return True
    try:
        ip = ipaddress.ip_address(address)
        if "/" in value:
            return ip in ipaddress.ip_network(value, strict=False)
        if "-" in value:
            low, high = (ipaddress.ip_address(part) for part in value.split("-", 1))
            return low.version == ip.version and int(low) <= int(ip) <= int(high)
    except ValueError:
        return False
    return False


def ports_cover(rule_ports: str, wanted: str) -> bool:
    """Whether a rule's ports string admits ``wanted`` (one ``proto/port``, ``icmp`` or ``any`` entry)."""
    try:
        return parse_ports(rule_ports).covers(parse_ports(wanted))
    except PortsError:
        return False
