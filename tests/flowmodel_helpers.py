"""Small builders for flow-model tests: CRs as data, wrapped the way the pipeline hands them over."""

from __future__ import annotations

from typing import Any

from nvpolicy.flowmodel.decide import Model, Settings
from nvpolicy.flowmodel.policy import build_policy
from nvpolicy.model import Marks, RenderedObject, SourceDocument


def learned(service: str, namespace: str = "ns") -> dict[str, Any]:
    return {"name": f"nv.{service}.{namespace}", "criteria": [
        {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
        {"key": "domain", "op": "=", "value": namespace}]}


def group(name: str, *criteria: tuple[str, str, str]) -> dict[str, Any]:
    return {"name": name, "criteria": [{"key": k, "op": o, "value": v} for k, o, v in criteria]}


def rule(name: str, selector: dict[str, Any] | str, action: str = "allow", ports: str = "any",
         apps: list[str] | None = None, priority: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "action": action, "ports": ports,
                            "selector": {"name": selector} if isinstance(selector, str) else selector}
    if apps:
        data["applications"] = apps
    if priority is not None:
        data["priority"] = priority
    return data


def cr(target: dict[str, Any] | str, mode: str | None = None, *, ingress: list[dict[str, Any]] = (),  # type: ignore[assignment]
       egress: list[dict[str, Any]] = (), process: list[dict[str, Any]] = (),  # type: ignore[assignment]
       baseline: str | None = None, name: str | None = None) -> RenderedObject:
    selector = {"name": target} if isinstance(target, str) else target
    spec: dict[str, Any] = {"target": {"selector": selector}, "ingress": list(ingress), "egress": list(egress)}
    if mode:
        spec["target"]["policymode"] = mode
    if process:
        spec["process"] = list(process)
    if baseline:
        spec["process_profile"] = {"baseline": baseline}
    data = {"apiVersion": "neuvector.com/v1", "kind": "NvClusterSecurityRule",
            "metadata": {"name": name or selector["name"]}, "spec": spec}
    return RenderedObject(data, SourceDocument(data, Marks(f"{name or selector['name']}.yaml")))


def model(*objects: RenderedObject, **settings: Any) -> Model:
    return Model(build_policy(objects), Settings(**settings))
