"""Observed traffic and processes decided by the rendered policy: the Protect-readiness report.

Every network event (violation or conversation) and process incident is decided twice: as the
environment runs now, and as it would if every workload ran in Protect. What Protect would block is
handed to ``propose`` (the same code as ``nvpolicy propose``), so each blocked item names the
proposal that would let it through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nvpolicy.environment import Environment
from nvpolicy.flowmodel.decide import Decision, Flow, Model
from nvpolicy.flowmodel.endpoints import NODE, Endpoint, external, workload
from nvpolicy.learn.events import Endpoint as EventEndpoint
from nvpolicy.learn.events import Events, NetworkEvent, ProcessEvent, canonical_applications
from nvpolicy.model import RenderedObject

_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp"}


@dataclass
class Item:
    """One distinct observed flow or process, with how often it was seen and how it is decided."""

    kind: str  # network | process
    title: str
    now: Decision
    in_protect: Decision
    events: int = 0
    sessions: int = 0
    event_ids: list[str] = field(default_factory=list)
    proposals: list[str] = field(default_factory=list)

    @property
    def blocked_in_protect(self) -> bool:
        return self.in_protect.verdict == "deny"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "events": self.events, "sessions": self.sessions,
                "now": self.now.as_json(), "in_protect": self.in_protect.as_json(),
                "blocked_in_protect": self.blocked_in_protect, "proposals": self.proposals}


@dataclass
class Replay:
    env: str
    items: list[Item]
    proposals: dict[str, Any]  # propose's JSON for what Protect would block

    def counts(self) -> dict[str, int]:
        return {
            "items": len(self.items),
            "events": sum(i.events for i in self.items),
            "blocked_in_protect": sum(i.blocked_in_protect for i in self.items),
            "blocked_events": sum(i.events for i in self.items if i.blocked_in_protect),
            "blocked_now": sum(i.now.verdict == "deny" for i in self.items),
            "undetermined": sum(i.in_protect.verdict == "undetermined" for i in self.items),
        }

    def as_json(self) -> dict[str, Any]:
        return {"env": self.env, "summary": self.counts(), "items": [i.as_json() for i in self.items],
                "proposals": self.proposals}


def replay(model: Model, environment: Environment, rendered: Sequence[RenderedObject], events: Events) -> Replay:
    from nvpolicy.learn.propose import propose

    protect = Model(model.policy, replace(model.settings, mode_override="Protect",
                                          override_namespace=environment.namespace))
    items: dict[tuple[Any, ...], Item] = {}
    network = [event if event.id else replace(event, id=f"replay-n{n}") for n, event in enumerate(events.network)]
    processes = [event if event.id else replace(event, id=f"replay-p{n}") for n, event in enumerate(events.process)]
    blocked_network: list[NetworkEvent] = []
    blocked_process: list[ProcessEvent] = []
    for event in network:
        flow = _flow(event)
        key: tuple[Any, ...] = ("network", flow)
        item = items.get(key)
        if item is None:
            app = f" {flow.application}" if flow.application else ""
            title = f"{flow.client.label()} → {flow.server.label()} {flow.port_text()}{app}"
            item = items[key] = Item("network", title, model.decide(flow), protect.decide(flow))
        item.events += 1
        item.sessions += event.sessions
        item.event_ids.append(event.id)
        if item.blocked_in_protect:
            blocked_network.append(event)
    for process in processes:
        end = _endpoint(process.workload)
        if end.kind != "workload":
            continue
        key = ("process", end, process.proc_name, process.proc_path)
        item = items.get(key)
        if item is None:
            title = f"{end.label()} runs {process.proc_path or process.proc_name}"
            item = items[key] = Item("process", title, model.decide_process(end, process.proc_name, process.proc_path),
                                     protect.decide_process(end, process.proc_name, process.proc_path))
        item.events += process.count
        item.event_ids.append(process.id)
        if item.blocked_in_protect:
            blocked_process.append(process)
    result = propose(Events(blocked_network, blocked_process), environment.namespace, environment=environment,
                     rendered=rendered)
    by_event: dict[str, list[str]] = {}
    for proposal in result.proposals + result.flagged:
        label = proposal.summary() + (" (flagged: review before allowing)" if proposal.flags else "")
        for event_id in proposal.evidence.event_ids:
            by_event.setdefault(event_id, []).append(label)
    for item in items.values():
        if item.blocked_in_protect:
            item.proposals = sorted({label for event_id in item.event_ids for label in by_event.get(event_id, [])})
    ordered = sorted(items.values(), key=lambda i: (not i.blocked_in_protect, -i.events, i.title))
    return Replay(environment.name, ordered, result.as_json())


def _flow(event: NetworkEvent) -> Flow:
    # Another IP protocol is decided too: the model answers `open` (not subject to policy).
    protocol = _PROTOCOLS.get(event.ip_proto, f"ip-proto-{event.ip_proto}")
    apps = canonical_applications(event.applications)
    server = _endpoint(event.server)
    if server.kind == "external" and event.fqdn:
        server = external(event.fqdn)
    return Flow(_endpoint(event.client), server, protocol, event.server_port, apps[0] if apps else None)


def _endpoint(end: EventEndpoint) -> Endpoint:
    if end.in_cluster:
        return workload(end.service, end.domain)
    if end.name in ("nodes", "fed.nodes") or end.name.startswith("Host:"):
        return NODE
    return external(end.ip or end.name or "unknown")

