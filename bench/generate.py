"""A deterministic synthetic policy repo for the benchmarks: N services x 3 environments.

Each service is one ``NvSecurityRule`` file with ~6 network rules (peers in its own namespace
through ``service()``, in other namespaces through ``service(name, ns)``, and bound per
environment through ``peer()``, whose bindings are in-cluster in some environments and external
addresses in others), mixed applications and ports, and ~5 process rules. A few cluster rules
and group definitions sit beside them, and one dev-only document exercises ``when:``.

The same seed gives byte-identical files; ``--change PERCENT`` writes the same repo with that
share of the services' rules altered (a port moved, an app added), for the diff benchmark.

    python bench/generate.py OUT_DIR [--n 1000] [--seed 8] [--change 1]
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

ENVIRONMENTS = ("dev", "qa", "prod")
TEAMS = ("shop", "payments", "search", "identity", "catalog", "shipping", "analytics", "platform")
SHARED = ("kube-dns", "metrics", "logging", "vault", "gateway")
SHARED_NAMESPACES = ("kube-system", "monitoring", "logging", "vault", "ingress")
APPS = ("HTTP", "SSL", "GRPC", "Redis", "PostgreSQL", "MySQL", "Kafka", "MongoDB", "ElasticSearch", "DNS")
PEER_COUNT = 40
PORTS = ("tcp/8080", "tcp/443", "80, 443", "tcp/8000-8080", "any", "tcp/9090", "tcp/6379, tcp/26379")
BINARIES = ("/usr/bin/java", "/usr/local/bin/python3", "/usr/bin/node", "/app/server", "/bin/sh", "/pause",
            "/usr/sbin/nginx", "/usr/bin/curl", "/usr/local/bin/envoy", "/usr/bin/tini")


def service_name(index: int) -> str:
    return f"svc-{index:05d}"


def peer_name(index: int) -> str:
    return f"dep{index:02d}"


def _network_rules(rng: random.Random, index: int, n: int, changed: bool) -> dict[str, list[dict[str, Any]]]:
    me = service_name(index)

    def other() -> str:
        pick = rng.randrange(n)
        return service_name(pick if pick != index else (pick + 1) % n)

    caller, callee = other(), other()
    ingress: list[dict[str, Any]] = [
        {"name": f"{caller}-to-{me}", "action": "allow", "applications": [rng.choice(APPS[:3])],
         "ports": "tcp/{{ http_port }}", "selector": f"{{{{ service('{caller}') }}}}"},
        {"name": f"gateway-to-{me}", "action": "allow", "applications": ["HTTP", "SSL"],
         "ports": rng.choice(PORTS), "selector": "{{ service('gateway', 'ingress') }}"},
    ]
    peer = peer_name(rng.randrange(PEER_COUNT))
    shared = rng.randrange(1, len(SHARED))
    egress: list[dict[str, Any]] = [
        {"name": f"{me}-to-{peer}", "action": "allow", "applications": [rng.choice(APPS[3:9])],
         "ports": f"tcp/{{{{ peers.{peer}.port }}}}", "selector": f"{{{{ peer('{peer}') }}}}"},
        {"name": f"{me}-to-{callee}", "action": "allow", "applications": [rng.choice(APPS[:3])],
         "ports": rng.choice(PORTS), "selector": f"{{{{ service('{callee}') }}}}"},
        {"name": f"{me}-to-dns", "action": "allow", "applications": ["DNS"], "ports": "udp/53",
         "selector": "{{ service('kube-dns', 'kube-system') }}"},
        {"name": f"{me}-to-{SHARED[shared]}", "action": "allow", "applications": ["any"], "ports": rng.choice(PORTS),
         "selector": f"{{{{ service('{SHARED[shared]}', '{SHARED_NAMESPACES[shared]}') }}}}"},
    ]
    if rng.random() < 0.3:
        second = peer_name(rng.randrange(PEER_COUNT))
        egress.append({"name": f"{me}-to-{second}-b", "action": "allow", "applications": ["SSL"], "ports": "tcp/443",
                       "selector": f"{{{{ peer('{second}') }}}}", "priority": rng.randrange(0, 100)})
    if changed:
        egress[1]["ports"] = "tcp/8443"
        ingress[0]["applications"].append("SSL" if "SSL" not in ingress[0]["applications"] else "HTTP")
    return {"ingress": ingress, "egress": egress}


def _process_rules(rng: random.Random) -> list[dict[str, Any]]:
    rules = [{"name": Path(path).name, "action": "allow", "path": path}
             for path in rng.sample(BINARIES, 5)]
    rules[-1]["action"] = "deny" if rng.random() < 0.2 else "allow"
    return rules


def service_document(rng: random.Random, index: int, n: int, changed: bool = False) -> dict[str, Any]:
    me = service_name(index)
    spec: dict[str, Any] = {
        "target": {"policymode": "{{ policy_mode }}", "selector": f"{{{{ service('{me}') }}}}"},
        **_network_rules(rng, index, n, changed),
        "process": _process_rules(rng),
        "process_profile": {"baseline": "zero-drift"},
    }
    return {
        "apiVersion": "neuvector.com/v1",
        "kind": "NvSecurityRule",
        "metadata": {"name": f"nv.{me}.{{{{ namespace }}}}", "namespace": "{{ namespace }}",
                     "labels": {"team": TEAMS[index % len(TEAMS)], "env": "{{ env }}"}},
        "spec": spec,
    }


def platform_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for index, shared in enumerate(SHARED):
        documents.append({
            "apiVersion": "neuvector.com/v1",
            "kind": "NvClusterSecurityRule",
            "metadata": {"name": f"platform-{shared}"},
            "spec": {
                "target": {"policymode": "{{ policy_mode }}",
                           "selector": f"{{{{ service('{shared}', '{SHARED_NAMESPACES[index]}') }}}}"},
                "ingress": [{"name": f"containers-to-{shared}", "action": "allow", "applications": ["any"],
                             "ports": "any", "selector": {"name": "containers", "criteria": [
                                 {"key": "container", "op": "=", "value": "*"}]}}],
                "process": [{"name": shared, "action": "allow", "path": f"/usr/bin/{shared}"}],
            },
        })
    for index in range(4):
        group = f"partners-{index}"
        documents.append({
            "apiVersion": "neuvector.com/v1",
            "kind": "NvGroupDefinition",
            "metadata": {"name": group, "namespace": "neuvector"},
            "spec": {"selector": {"name": group, "comment": "{{ env }} partner endpoints",
                                  "criteria": [{"key": "address", "op": "=", "value": f"*.partner{index}.example.com"},
                                               {"key": "address", "op": "=", "value": f"203.0.113.{index + 10}"}]}},
        })
    documents.append({
        "when": "{{ env == 'dev' }}",
        "apiVersion": "neuvector.com/v1",
        "kind": "NvClusterSecurityRule",
        "metadata": {"name": "dev-debug-tools"},
        "spec": {"target": {"selector": {"name": "containers", "criteria": [
            {"key": "container", "op": "=", "value": "*"}]}},
            "process": [{"name": "bash", "action": "allow", "path": "/bin/bash"}]},
    })
    return documents


def environment_documents(rng: random.Random) -> dict[str, dict[str, Any]]:
    """dev: peers beside the services; qa: shared services in other namespaces; prod: mostly external."""
    files: dict[str, dict[str, Any]] = {
        "_base": {"policy_mode": "Monitor", "vars": {"http_port": 8080, "region": "eu-west-1"}, "peers": {}},
    }
    peers: dict[str, dict[str, dict[str, Any]]] = {env: {} for env in ENVIRONMENTS}
    for index in range(PEER_COUNT):
        name = peer_name(index)
        port = rng.choice((5432, 3306, 6379, 9092, 27017, 9200, 443))
        files["_base"]["peers"][name] = {"service": f"{name}-db", "port": port}
        if index % 3 == 0:
            peers["qa"][name] = {"service": f"{name}-db", "namespace": f"qa-{name}", "port": port}
        if index % 4 != 3:
            peers["prod"][name] = {"address": f"{name}.db.example.com" if index % 2 else f"10.20.{index}.0/24",
                                   "port": port}
            if index % 5 == 0:
                peers["prod"][name]["group"] = f"ext-{name}-prod"
    files["dev"] = {"extends": "_base", "namespace": "dev", "policy_mode": "Discover", "peers": peers["dev"]}
    files["qa"] = {"extends": "_base", "namespace": "qa", "peers": peers["qa"]}
    files["prod"] = {"extends": "_base", "namespace": "shop-prod", "policy_mode": "Protect", "peers": peers["prod"],
                     "vars": {"http_port": 8443}}
    for data in files.values():
        if not data.get("peers"):
            data.pop("peers", None)
    return files


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=False, width=120)


_SERVICE = re.compile(r"\{\{ service\('([^']+)'(?:, '([^']+)')?\) \}\}")
_PEER = re.compile(r"\{\{ peer\('([^']+)'\) \}\}")
PER_SERVICE = 10  # expectations per service: up to 6 flows its rules allow, 3 process starts, 1 denied flow


def _endpoint(selector: str) -> dict[str, str] | None:
    if found := _SERVICE.fullmatch(selector):
        return {"service": found[1], **({"namespace": found[2]} if found[2] else {})}
    if found := _PEER.fullmatch(selector):
        return {"peer": found[1]}
    return None


def _port(ports: str, peer_ports: dict[str, int]) -> tuple[str, bool]:
    """A port the rule's ports cover, and whether it is the same in every environment."""
    if "http_port" in ports:
        return "tcp/8080", False  # prod overrides http_port
    if found := re.search(r"peers\.(\w+)\.port", ports):
        return f"tcp/{peer_ports[found[1]]}", True
    first = ports.split(",")[0].strip()
    if first == "any":
        return "tcp/8080", True
    proto, _, number = first.rpartition("/")
    return f"{proto or 'tcp'}/{number.split('-')[0]}", True


def expectations(documents: list[dict[str, Any]], peer_ports: dict[str, int]) -> list[dict[str, Any]]:
    """What each service's rules must allow (every environment), its process rules' verdicts, and one
    egress prod must deny: PER_SERVICE expectations per service, each true of the generated policy."""
    found: list[dict[str, Any]] = []
    for document in documents:
        spec = document["spec"]
        me = {"service": _endpoint(spec["target"]["selector"])["service"]}  # type: ignore[index]
        flows: list[dict[str, Any]] = []
        for section in ("ingress", "egress"):
            for rule in spec[section]:
                other = _endpoint(rule["selector"])
                if other is None:
                    continue
                port, everywhere = _port(rule["ports"], peer_ports)
                # Fresh dicts: shared ones would be dumped as YAML anchors, which people do not write.
                ends = (dict(other), dict(me)) if section == "ingress" else (dict(me), dict(other))
                flow: dict[str, Any] = {"from": ends[0], "to": ends[1]}
                flow |= {"port": port, "expect": "allow"}
                if rule["applications"] != ["any"]:
                    flow["app"] = rule["applications"][0]
                if not everywhere:
                    flow["envs"] = ["dev", "qa"]
                flows.append(flow)
        found += flows[:6]
        for process in spec["process"][:3]:
            verdict = {"group": me["service"], "process": process["path"], "expect": process["action"]}
            found.append(verdict if process["action"] == "allow" else {**verdict, "env": "prod"})
        found.append({"from": dict(me), "to": {"address": "192.0.2.1"}, "port": "tcp/9", "expect": "deny",
                      "env": "prod"})
    return found


def generate(out: Path, n: int = 1000, seed: int = 8, change: float = 0.0, expect: int = 0) -> Path:
    """Write the repo to ``out`` (replacing it); ``change`` is the percentage of services altered;
    ``expect`` writes that many expectations (``expect/generated.yaml``) for ``nvpolicy test``."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    changed = set(random.Random(seed + 1).sample(range(n), round(n * change / 100))) if change else set()
    environments = environment_documents(rng)
    for env, data in environments.items():
        path = out / "environments" / f"{env}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(data), encoding="utf-8")
    documents = []
    for index in range(n):
        document = service_document(rng, index, n, index in changed)
        documents.append(document)
        path = out / "policies" / TEAMS[index % len(TEAMS)] / f"{service_name(index)}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(document), encoding="utf-8")
    if expect:
        ports = {name: peer["port"] for name, peer in environments["_base"]["peers"].items()}
        wanted = expectations(documents, ports)
        while len(wanted) < expect:  # fewer services than expectations: repeat them
            wanted += [copy.deepcopy(item) for item in wanted[: expect - len(wanted)]]
        (out / "expect").mkdir()
        (out / "expect" / "generated.yaml").write_text(_dump(wanted[:expect]), encoding="utf-8")
    platform = out / "policies" / "_platform.yaml"
    platform.write_text(yaml.dump_all(platform_documents(), sort_keys=False, width=120), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=1000, help="number of services (default 1000)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--change", type=float, default=0.0, help="percent of services whose rules change")
    parser.add_argument("--expect", type=int, default=0, help="write this many expectations (expect/)")
    args = parser.parse_args()
    generate(args.out, args.n, args.seed, args.change, args.expect)
    print(f"{args.out}: {args.n} services x {len(ENVIRONMENTS)} environments")


if __name__ == "__main__":
    main()
