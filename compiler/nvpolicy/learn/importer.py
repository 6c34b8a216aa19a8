"""An import as data: export → source objects per file, the source environment and a report."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.errors import SourceError
from nvpolicy.learn.clean import clean_object
from nvpolicy.learn.envfile import DEFAULT_POLICY_MODE, environment_data
from nvpolicy.learn.exports import Export, resolve_referrals
from nvpolicy.learn.lift import NAMESPACE, escape_all, lift_objects
from nvpolicy.learn.merge import object_key
from nvpolicy.learn.ports import ObservedPorts, is_unlocked
from nvpolicy.learn.report import ImportReport
from nvpolicy.learn.sidecars import sidecar_processes, split_sidecars


@dataclass
class ImportPlan:
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # file name → source objects
    environment: dict[str, Any] | None = None  # the source environment's data, when a namespace was lifted
    moved: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # object → sidecar rules
    report: ImportReport = field(default_factory=ImportReport)


def plan_import(export: Export, namespace: str | None, observed: ObservedPorts | None = None,
                split: bool = False, declared_containers: Mapping[str, str] | None = None) -> ImportPlan:
    plan = ImportPlan()
    report = plan.report
    _check_name_lengths(export)
    referred = resolve_referrals(export)
    if namespace is not None:
        _check_namespace(namespace, export)
    if referred:
        report.placeholders.append(f"name referrals resolved to criteria: {', '.join(referred)}")
    if export.definitions:
        report.skipped.append(f"{len(export.definitions)} NvGroupDefinition(s): their criteria are in the "
                              "selectors that refer to them")
    lifted = lift_objects([item.data for item in export.rules], namespace, observed, report=report)
    stems: dict[str, str] = {}  # file stem → the target group it belongs to
    for obj in lifted.objects:
        data = obj.data
        extra: list[dict[str, Any]] = []
        if split and obj.service is not None:
            data, extra, lines = split_sidecars(data, obj.service, declared_containers)
            report.sidecars.extend(lines)
            if extra:
                plan.moved[object_key(data)] = [rule for sidecar in extra for rule in sidecar["spec"]["process"]]
        else:
            seen = sidecar_processes(data, declared_containers)
            if seen:
                report.notes.append(f"{obj.identity}: sidecar processes {', '.join(seen)} are allowed in the "
                                    "application group; --split-sidecars moves them into a group per container")
        target = repr(((data.get("spec") or {}).get("target") or {}).get("selector"))
        stem = _free_stem(obj.group, target, stems)
        plan.files.setdefault(f"{stem}.yaml", []).extend([data, *extra])
    for item in export.others:
        data = escape_all(clean_object(item.data))
        name = str(data["metadata"]["name"])
        kind = str(data["kind"]).removeprefix("Nv").lower()
        plan.files.setdefault(f"{kind}-{_stem(name)}.yaml", []).append(data)
        report.imported.append(f"{data['kind']} {name}")
        report.literal.append(f"{data['kind']} {name}: imported as it is")
    if observed is not None:
        _report_events(observed, report)
    if namespace is not None:
        any_ports = [lift_back(str(obj.data["metadata"]["name"]), namespace) for obj in lifted.objects
                     if _keeps_any_ports(obj.data)]
        discover = any(_learns(obj.data) for obj in lifted.objects)
        plan.environment = environment_data(namespace, lifted.policy_mode, lifted.bindings, any_ports, discover)
        if lifted.policy_mode is None:
            report.notes.append(f"the export sets no policy mode on a learned group of {namespace}: the "
                                f"environment file says policy_mode: {DEFAULT_POLICY_MODE}, which renders nowhere")
        report.peers.update({name: dict(binding) for name, binding in lifted.bindings.items()})
    return plan


def _learns(obj: dict[str, Any]) -> bool:
    """A target or process profile kept literally in Discover (the lifted ones follow the environment)."""
    spec = obj.get("spec") or {}
    profile = spec.get("process_profile")
    return "Discover" in ((spec.get("target") or {}).get("policymode"),
                          profile.get("mode") if isinstance(profile, dict) else None)


def _keeps_any_ports(obj: dict[str, Any]) -> bool:
    spec = obj.get("spec") or {}
    return any(isinstance(rule, dict) and rule.get("action") == "allow" and is_unlocked(rule.get("ports"))
               for direction in ("ingress", "egress") for rule in spec.get(direction) or [])


def _report_events(observed: ObservedPorts, report: ImportReport) -> None:
    """Events that lock nothing are worth a line: the ports then come from the well-known list."""
    if not observed.events:
        report.notes.append("--events: the file holds no network event; ports are locked to well-known ports")
    elif not observed.used:
        report.notes.append(f"--events: none of the {observed.events} network event(s) matched a rule of the "
                            "export (client and server group); ports are locked to well-known ports")


def _check_name_lengths(export: Export) -> None:
    """A custom resource's name is a Kubernetes name (at most 253 characters): a longer one could never be
    applied, and would be written into file names past the file system's limit."""
    for item in [*export.rules, *export.definitions.values(), *export.others]:
        name = str(item.data["metadata"]["name"])
        if len(name) > MAX_NAME:
            raise SourceError(f"metadata.name is {len(name):,} characters long ({name[:40]}…); Kubernetes names "
                              f"have at most {MAX_NAME}", location=item.location, path=("metadata", "name"),
                              hint="this is not an export NeuVector wrote; check the file")


def _check_namespace(namespace: str, export: Export) -> None:
    """A namespace the export never names would lift nothing and write an environment that does not
    reproduce the export: almost always a typo, so it is refused rather than imported literally."""
    seen = set(_namespaces(item.data for item in export.rules))
    if namespace in seen:
        return
    close = difflib.get_close_matches(namespace, sorted(seen), n=1)
    listed = ", ".join(sorted(seen)) or "none"
    hint = (f"did you mean --namespace {close[0]}? " if close else "") + f"namespaces in the export: {listed}"
    if not close:
        hint += "; without --namespace the objects are imported literally"
    raise SourceError(f"--namespace {namespace}: the export has no object or group in that namespace", hint=hint)


def _namespaces(objects: Iterable[dict[str, Any]]) -> Iterable[str]:
    """Where NeuVector puts a namespace: metadata.namespace and domain/namespace criteria of selectors."""
    for obj in objects:
        namespace = (obj.get("metadata") or {}).get("namespace")
        if isinstance(namespace, str) and namespace:
            yield namespace
        spec = obj.get("spec") or {}
        selectors = [(spec.get("target") or {}).get("selector")]
        selectors += [rule.get("selector") for direction in ("ingress", "egress")
                      for rule in spec.get(direction) or [] if isinstance(rule, dict)]
        for selector in selectors:
            criteria = selector.get("criteria") if isinstance(selector, dict) else None
            for criterion in criteria if isinstance(criteria, list) else []:
                if isinstance(criterion, dict) and criterion.get("key") in ("domain", "namespace") \
                        and isinstance(criterion.get("value"), str):
                    yield criterion["value"]


def lift_back(text: str, namespace: str) -> str:
    """A lifted name as the source environment renders it."""
    return text.replace(NAMESPACE, namespace)


# File stems stay well under NAME_MAX (255 bytes) with a counter and ".yaml" added: group names from an
# export may be that long themselves. A shortened stem ends in a digest of the whole name, so it stays unique.
_MAX_STEM = 200
# Kubernetes' limit on metadata.name (a DNS-1123 subdomain), as the CRD schemas say.
MAX_NAME = 253


def _stem(text: str) -> str:
    stem = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip(".-") or "policy"
    if len(stem) > _MAX_STEM:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stem = f"{stem[:_MAX_STEM - 11].rstrip('.-')}-{digest}"
    return stem


def _free_stem(group: str, target: str, stems: dict[str, str]) -> str:
    """Objects of one target share a file; two targets with one short name get distinct files."""
    base = _stem(group)
    stem, counter = base, 2
    while stems.get(stem, target) != target:
        stem = f"{base}-{counter}"
        counter += 1
    stems[stem] = target
    return stem
