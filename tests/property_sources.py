"""Hypothesis strategies for valid nvpolicy projects: an environment file and NvSecurityRule sources.

Shared by the property tests; every project drawn here must render (that is one of the properties).
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True)
PEER_NAME = st.from_regex(r"[a-z]([a-z0-9_]{0,7}[a-z0-9])?", fullmatch=True)
PORT = st.integers(min_value=1, max_value=65535)
APPLICATIONS = ["HTTP", "SSL", "PostgreSQL", "Redis", "DNS", "MySQL", "Kafka"]
HOSTNAME = st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z]{2,6}){1,2}", fullmatch=True)
ADDRESS = st.one_of(
    HOSTNAME,
    HOSTNAME.map(lambda host: f"*.{host}"),
    st.ip_addresses(v=4).map(str),
    st.tuples(st.ip_addresses(v=4), st.integers(8, 32)).map(lambda pair: f"{pair[0]}/{pair[1]}"),
)
# Text that would break a template engine working on YAML text: colons, newlines, quotes, '#'.
TRICKY_TEXT = st.text(
    alphabet=st.sampled_from([*"ab yz:#-'\"\n\t,[]&*!|>%@`", "ü", "€"]), min_size=1, max_size=30
).filter(lambda text: text.strip() == text and "{" not in text)


@st.composite
def peers(draw: Any) -> dict[str, dict[str, Any]]:
    names = draw(st.lists(PEER_NAME, min_size=1, max_size=3, unique=True))
    bound: dict[str, dict[str, Any]] = {}
    for name in names:
        if draw(st.booleans()):
            binding: dict[str, Any] = {"service": draw(LABEL)}
            if draw(st.booleans()):
                binding["namespace"] = draw(LABEL)
        else:
            binding = {"address": draw(ADDRESS)}
        binding["port"] = draw(PORT)
        bound[name] = binding
    return bound


@st.composite
def environments(draw: Any) -> dict[str, Any]:
    return {
        "namespace": draw(LABEL),
        "policy_mode": draw(st.sampled_from(["Discover", "Monitor", "Protect"])),
        "peers": draw(peers()),
        "vars": {"note": draw(TRICKY_TEXT), "app_port": draw(PORT)},
    }


@st.composite
def rule(draw: Any, environment: dict[str, Any], name: str) -> dict[str, Any]:
    peer = draw(st.sampled_from(sorted(environment["peers"])))
    port_ref = f"peers.{peer}.port" if draw(st.booleans()) else f"peers['{peer}'].port"
    ports = draw(st.sampled_from([f"tcp/{{{{ {port_ref} }}}}", "any", "udp/53", "tcp/{{ app_port }}",
                                  f"tcp/{draw(PORT)}"]))
    selector = draw(st.sampled_from([f"{{{{ peer('{peer}') }}}}", f"{{{{ service('{draw(LABEL)}') }}}}"]))
    return {"name": name, "action": draw(st.sampled_from(["allow", "deny"])),
            "applications": draw(st.lists(st.sampled_from(APPLICATIONS), min_size=1, max_size=3, unique=True)),
            "ports": ports, "selector": selector}


@st.composite
def policies(draw: Any, environment: dict[str, Any]) -> list[dict[str, Any]]:
    services = draw(st.lists(LABEL, min_size=1, max_size=3, unique=True))
    documents = []
    for service in services:
        egress = [draw(rule(environment, f"{service}-out-{i}")) for i in range(draw(st.integers(0, 3)))]
        ingress = [draw(rule(environment, f"{service}-in-{i}")) for i in range(draw(st.integers(0, 2)))]
        spec: dict[str, Any] = {
            "target": {
                "policymode": "{{ policy_mode }}",
                "selector": {
                    "name": f"nv.{service}.{{{{ namespace }}}}",
                    "comment": "{{ note }}",
                    "criteria": [{"key": "service", "op": "=", "value": f"{service}.{{{{ namespace }}}}"},
                                 {"key": "domain", "op": "=", "value": "{{ namespace }}"}],
                },
            },
            "process": [{"name": "app", "action": "allow", "path": f"/usr/bin/{service}"}],
        }
        if egress:
            spec["egress"] = egress
        if ingress:
            spec["ingress"] = ingress
        documents.append({"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
                          "metadata": {"name": f"nv.{service}.{{{{ namespace }}}}", "namespace": "{{ namespace }}"},
                          "spec": spec})
    return documents


@st.composite
def projects(draw: Any) -> dict[str, str]:
    """A project's files: environments/test.yaml and policies/app.yaml."""
    environment = draw(environments())
    documents = draw(policies(environment))
    return {
        "environments/test.yaml": yaml.safe_dump(environment, sort_keys=False, allow_unicode=True),
        "policies/app.yaml": yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True),
    }
