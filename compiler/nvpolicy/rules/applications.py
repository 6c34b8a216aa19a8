"""applications: a rule's applications are NeuVector DPI names (case-insensitive), each once.

The fixed list is the controller's AppNameMap plus ``any``; the controller upper-cases names
before looking them up, and rejects unknown names and duplicates.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      egress:
        - {name: r1, action: allow, applications: [postgresql, SSL], selector: {name: db}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      egress:
        - {name: r1, action: allow, applications: [PostgreSQL, postgresql], selector: {name: db}}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import network_rules_by_object

ID = "applications"
LEVEL = "error"
DESCRIPTION = "Applications are NeuVector DPI names (case-insensitive) or any, each listed once."

NAMES = (
    "HTTP", "SSL", "SSH", "DNS", "DHCP", "NTP", "TFTP", "Echo", "RTSP", "SIP", "MySQL", "Redis", "ZooKeeper",
    "Cassandra", "MongoDB", "PostgreSQL", "Kafka", "Couchbase", "Wordpress", "ActiveMQ", "CouchDB",
    "ElasticSearch", "Memcached", "RabbitMQ", "Radius", "VoltDB", "Consul", "Syslog", "etcd", "Spark", "Apache",
    "nginx", "Jetty", "Oracle", "MSSQL", "GRPC", "any",
)
_BY_UPPER = {name.upper(): name for name in NAMES}


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            apps = rule.get("applications")
            if not isinstance(apps, list):
                continue
            seen: dict[str, int] = {}
            for index, app in enumerate(apps):
                upper = app.upper() if isinstance(app, str) else ""
                if upper not in _BY_UPPER:
                    close = difflib.get_close_matches(upper, list(_BY_UPPER), n=1, cutoff=0.6)
                    hint = f"did you mean {_BY_UPPER[close[0]]!r}?" if close else \
                        "application names are NeuVector's DPI names, e.g. HTTP, SSL, PostgreSQL, Redis, DNS, any"
                    yield Hit(obj, (*path, "applications", index), f"unknown application name {app!r}", hint)
                elif upper in seen:
                    yield Hit(obj, (*path, "applications", index),
                              f"application {app!r} is listed twice (also at position {seen[upper]})",
                              "names are compared case-insensitively; remove one")
                else:
                    seen[upper] = index
