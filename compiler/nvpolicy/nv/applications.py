"""DPI application names (AppNameMap, controller/common/common.go:461-498) and their well-known ports.

Names are matched case-insensitively (GetAppIDByName upper-cases them); ``any`` means any application.
"""

from __future__ import annotations

from collections.abc import Mapping

ANY = "any"
NAMES: tuple[str, ...] = (
    "HTTP", "SSL", "SSH", "DNS", "DHCP", "NTP", "TFTP", "Echo", "RTSP", "SIP", "MySQL", "Redis", "ZooKeeper",
    "Cassandra", "MongoDB", "PostgreSQL", "Kafka", "Couchbase", "Wordpress", "ActiveMQ", "CouchDB",
    "ElasticSearch", "Memcached", "RabbitMQ", "Radius", "VoltDB", "Consul", "Syslog", "etcd", "Spark", "Apache",
    "nginx", "Jetty", "Oracle", "MSSQL", "GRPC",
)
BY_UPPER: Mapping[str, str] = {name.upper(): name for name in NAMES}

# The port each DPI application listens on by default: the lock learn puts on a learned `ports: any`.
WELL_KNOWN_PORTS: Mapping[str, tuple[str, int]] = {
    "ActiveMQ": ("tcp", 61616),
    "Cassandra": ("tcp", 9042),
    "Consul": ("tcp", 8500),
    "CouchDB": ("tcp", 5984),
    "Couchbase": ("tcp", 8091),
    "DHCP": ("udp", 67),
    "DNS": ("udp", 53),
    "ElasticSearch": ("tcp", 9200),
    "HTTP": ("tcp", 80),
    "Kafka": ("tcp", 9092),
    "MSSQL": ("tcp", 1433),
    "Memcached": ("tcp", 11211),
    "MongoDB": ("tcp", 27017),
    "MySQL": ("tcp", 3306),
    "NTP": ("udp", 123),
    "Oracle": ("tcp", 1521),
    "PostgreSQL": ("tcp", 5432),
    "RTSP": ("tcp", 554),
    "RabbitMQ": ("tcp", 5672),
    "Radius": ("udp", 1812),
    "Redis": ("tcp", 6379),
    "SIP": ("udp", 5060),
    "SSH": ("tcp", 22),
    "SSL": ("tcp", 443),
    "Syslog": ("udp", 514),
    "TFTP": ("udp", 69),
    "VoltDB": ("tcp", 21212),
    "ZooKeeper": ("tcp", 2181),
    "etcd": ("tcp", 2379),
}


def canonical(name: str) -> str | None:
    """NeuVector's spelling of a DPI application name, or None when it is none."""
    return BY_UPPER.get(name.upper())


def is_any(name: str) -> bool:
    return name.lower() == ANY
