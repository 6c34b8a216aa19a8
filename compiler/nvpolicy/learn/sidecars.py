"""Splitting sidecar processes out of the application's group.

NeuVector learns per pod group, so an Istio or Linkerd sidecar's processes (envoy, pilot-agent,
linkerd2-proxy, …) land in the application's process profile. Moved into a custom group per
sidecar container (criteria: the service, the container name, the namespace), the application
group no longer allows the proxy's processes and the proxy group not the application's.
``pause`` belongs to the pod and stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.learn.literal import label_problem
from nvpolicy.model import Location
from nvpolicy.nv.tools import SIDECARS

# Process name → the container it runs in, for the sidecars nvpolicy knows (one list: nvpolicy.nv.tools).
KNOWN_SIDECARS: Mapping[str, str] = SIDECARS
POD_PROCESSES = frozenset({"pause"})
# The prefix of the groups --split-sidecars creates; lint's sidecar rule and diff's mapping know it.
SIDECAR_GROUP_PREFIX = "sidecar."


def is_sidecar_group(name: object, criteria: object) -> bool:
    """True for a group ``--split-sidecars`` creates: ``sidecar.<container>.…`` selecting one container."""
    if not isinstance(name, str) or not name.startswith(SIDECAR_GROUP_PREFIX) or not isinstance(criteria, list):
        return False
    return any(isinstance(c, Mapping) and c.get("key") == "container" and c.get("op") == "=" for c in criteria)


def read_container_map(data: Any, name: str) -> dict[str, str]:
    """``containers: {<container>: [process names]}`` → process name → container."""
    containers = data.get("containers") if isinstance(data, Mapping) else None
    if not isinstance(containers, Mapping):
        raise SourceError("expected 'containers: {<container>: [process names]}'", location=Location(name))
    mapping: dict[str, str] = {}
    for container, processes in containers.items():
        if not isinstance(processes, list) or not all(isinstance(p, str) for p in processes):
            raise SourceError(f"containers.{container} must be a list of process names", location=Location(name))
        # The container name becomes part of a group name next to {{ namespace }}: a name, never template code.
        problem = label_problem(str(container), "container")
        if problem:
            raise SourceError(problem, location=Location(name), hint="Kubernetes container names are DNS-1123 labels")
        for process in processes:
            mapping[process] = str(container)
    return mapping


def split_sidecars(obj: dict[str, Any], service: str, declared: Mapping[str, str] | None = None,
                   namespace: str = "{{ namespace }}") -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """The application object without sidecar process rules, one object per sidecar container, and
    one report line per container. Declared mappings win over the built-in list."""
    known = {**KNOWN_SIDECARS, **(declared or {})}
    spec = obj.get("spec") or {}
    keep: list[dict[str, Any]] = []
    moved: dict[str, list[dict[str, Any]]] = {}
    for rule in spec.get("process") or []:
        container = known.get(str(rule.get("name")))
        if container is None or rule.get("name") in POD_PROCESSES:
            keep.append(rule)
        else:
            moved.setdefault(container, []).append(rule)
    if not moved:
        return obj, [], []
    if keep:
        spec["process"] = keep
    else:
        spec.pop("process", None)
    sidecars = [sidecar_object(service, container, rules, namespace) for container, rules in sorted(moved.items())]
    lines = [f"{service}: {', '.join(str(r.get('name')) for r in rules)} -> container {container}"
             for container, rules in sorted(moved.items())]
    return obj, sidecars, lines


def sidecar_processes(obj: dict[str, Any], declared: Mapping[str, str] | None = None) -> list[str]:
    """The sidecar processes an application object allows (what ``split_sidecars`` would move)."""
    known = {**KNOWN_SIDECARS, **(declared or {})}
    rules = (obj.get("spec") or {}).get("process") or []
    return sorted({str(rule.get("name")) for rule in rules if isinstance(rule, dict)
                   and rule.get("name") in known and rule.get("name") not in POD_PROCESSES})


def sidecar_group(service: str, container: str, namespace: str) -> dict[str, Any]:
    """A custom group for one container of a service's pods (no reserved prefix, so no policy mode)."""
    return {
        "name": f"{SIDECAR_GROUP_PREFIX}{container}.{service}.{namespace}",
        "criteria": [
            {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
            {"key": "container", "op": "=", "value": container},
            {"key": "domain", "op": "=", "value": namespace},
        ],
    }


def sidecar_object(service: str, container: str, rules: Sequence[dict[str, Any]], namespace: str) -> dict[str, Any]:
    group = sidecar_group(service, container, namespace)
    return {
        "apiVersion": "neuvector.com/v1",
        "kind": "NvSecurityRule",
        "metadata": {"name": group["name"], "namespace": namespace},
        "spec": {"target": {"selector": group}, "process": list(rules)},
    }
