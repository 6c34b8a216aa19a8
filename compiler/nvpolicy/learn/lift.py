"""Lifting: turn objects learned in one namespace into environment-neutral source.

Everything works on plain data. The public pieces, reusable by any command that turns
learned or observed traffic into source (``propose``):

- ``lift_text``             the namespace inside a name or criterion value → ``{{ namespace }}``
- ``learned_service``       the service of a learned group ``nv.<svc>.<ns>`` of a namespace
- ``PeerRegistry``          peers introduced so far and their environment bindings
- ``lift_peer_selector``    a rule's peer selector → ``{{ peer('<name>') }}`` (or lifted literal)
- ``lock_rule_ports``       ``ports: any`` → the peer's port placeholder or a literal lock
- ``lift_objects``          a whole export → source documents, bindings and a report
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.environment import address_problem
from nvpolicy.learn.clean import clean_object
from nvpolicy.learn.literal import is_template, literal, literal_document
from nvpolicy.learn.naming import is_positional, rule_name, short_name
from nvpolicy.learn.ports import ObservedPorts, format_ports, is_unlocked, lock_ports, peer_port_expression
from nvpolicy.learn.report import ImportReport
from nvpolicy.nv.groups import NAME_PATTERN as GROUP_NAME

NAMESPACE = "{{ namespace }}"
POLICY_MODE = "{{ policy_mode }}"
LIFTED_CRITERIA = ("service", "domain", "namespace")
# Since NeuVector 5.3 an export puts a container group's monitoring settings on its target selector
# (group2RESTConfig, rest/crdsecurityrule.go:113-118): they are the group's, kept as exported.
METRIC_FIELDS = frozenset({"grp_band_width", "grp_sess_cur", "grp_sess_rate", "mon_metric"})
POLICY_MODES = ("Discover", "Monitor", "Protect")
_PEER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def lift_text(text: str, namespace: str) -> str:
    """Replace the namespace where it stands as a whole DNS label (``nv.orders.feature-6293``).

    Text already escaped by ``literal`` (outside data holding template syntax) stays as it is:
    a placeholder spliced into its string literal would be code inside data."""
    if is_template(text):
        return text
    pattern = r"(?<![A-Za-z0-9-])" + re.escape(namespace) + r"(?![A-Za-z0-9-])"
    return re.sub(pattern, NAMESPACE, text)


def escape_literal(text: str) -> str:
    """A string that renders to exactly ``text`` even if it looks like a placeholder (``literal.literal``)."""
    return literal(text)


def escape_all(obj: dict[str, Any]) -> dict[str, Any]:
    """One imported object with every string, mapping keys included, as ``literal.literal_document`` writes it."""
    return literal_document(obj)


def learned_service(selector: Any, namespace: str) -> str | None:
    """``<svc>`` when ``selector`` is exactly the learned group ``nv.<svc>.<namespace>`` (as ``service()``
    renders it: name, ``service = <svc>.<namespace>``, ``domain = <namespace>``), else None."""
    if not isinstance(selector, dict) or set(selector) - {"name", "criteria"} - METRIC_FIELDS:
        return None
    service = learned_name_service(selector.get("name"), namespace)
    if service is None:
        return None
    criteria = selector.get("criteria") or []
    expected = [
        {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
        {"key": "domain", "op": "=", "value": namespace},
    ]
    if len(criteria) != 2 or any(criterion not in criteria for criterion in expected):
        return None
    return service


def learned_name_service(name: Any, namespace: str) -> str | None:
    """``<svc>`` when ``name`` is the name of a learned group of the namespace (``nv.<svc>.<namespace>``,
    not ``nv.ip.*``), whatever its criteria: the group's policy mode is the namespace's to choose."""
    suffix = f".{namespace}"
    if not isinstance(name, str) or not name.startswith("nv.") or not name.endswith(suffix):
        return None
    service = name[3:-len(suffix)]
    if not _LABEL.match(service) or service.startswith("ip."):
        return None
    return service


def address_group(selector: Any) -> tuple[str, str] | None:
    """``(group, address)`` when ``selector`` is a group of exactly one ``address =`` criterion."""
    if not isinstance(selector, dict) or set(selector) - {"name", "criteria"}:
        return None
    criteria = selector.get("criteria") or []
    if len(criteria) != 1:
        return None
    criterion = criteria[0]
    if criterion.get("key") != "address" or criterion.get("op") != "=" or not isinstance(criterion.get("value"), str):
        return None
    name = selector.get("name")
    if not isinstance(name, str) or not name:
        return None
    return name, criterion["value"]


@dataclass
class PeerRegistry:
    """The peers an import introduces: name → environment binding (plain data, as in the env file)."""

    bindings: dict[str, dict[str, Any]] = field(default_factory=dict)
    _by_key: dict[tuple[str, ...], str] = field(default_factory=dict)

    def service_peer(self, service: str) -> str | None:
        """The peer for a service of the lifted namespace (``{service: <svc>}``)."""
        if not _PEER_NAME.match(service):
            return None
        return self._peer(("service", service), service, {"service": service})

    def address_peer(self, group: str, address: str) -> str:
        """The peer for an external address group; ``group:`` keeps the exported group name."""
        base = re.sub(r"[^a-z0-9_-]+", "-", group.lower()).strip("-_")[:50] or "external"
        return self._peer(("address", group, address), base, {"address": address, "group": group})

    def _peer(self, key: tuple[str, ...], base: str, binding: dict[str, Any]) -> str:
        known = self._by_key.get(key)
        if known is not None:
            return known
        name, counter = base, 2
        while name in self.bindings:
            name = f"{base}-{counter}"
            counter += 1
        self._by_key[key] = name
        self.bindings[name] = binding
        return name

    def bind_port(self, peer: str, port: int) -> bool:
        """Give the peer its port; False if it already has another (the caller then locks literally)."""
        binding = self.bindings[peer]
        return bool(binding.setdefault("port", port) == port)


@dataclass
class LiftedPeer:
    selector: Any
    short: str
    peer: str | None  # the peer name when the selector became ``peer()``


def lift_peer_selector(selector: Any, namespace: str, registry: PeerRegistry, report: ImportReport,
                       where: str) -> LiftedPeer:
    """A learned peer of the namespace or an external address group becomes ``{{ peer('<name>') }}``;
    anything else keeps its literal selector with the namespace lifted in names and criteria."""
    service = learned_service(selector, namespace)
    if service is not None:
        peer = registry.service_peer(service)
        if peer is not None:
            return LiftedPeer(f'{{{{ peer("{peer}") }}}}', service, peer)
    external = address_group(selector)
    if external is not None and (address_problem(external[1]) or not GROUP_NAME.match(external[0])):
        # The address and group name would go into the environment file, which holds literal values
        # only: one NeuVector would refuse stays a literal (escaped) selector that validate reports.
        external = None
    if external is not None:
        peer = registry.address_peer(*external)
        return LiftedPeer(f'{{{{ peer("{peer}") }}}}', short_name(external[0]), peer)
    name = selector.get("name", "") if isinstance(selector, dict) else ""
    if isinstance(selector, dict) and namespace not in str(name):
        report.literal.append(f"{where}: peer {name} (not a group of namespace {namespace})")
    return LiftedPeer(lift_selector_text(selector, namespace), short_name(str(name)), None)


def lift_selector_text(selector: Any, namespace: str) -> Any:
    """The selector with the namespace lifted in its name and in service/domain/namespace criteria."""
    if not isinstance(selector, dict):
        return selector
    lifted = dict(selector)
    if isinstance(lifted.get("name"), str):
        lifted["name"] = lift_text(lifted["name"], namespace)
    criteria = []
    for criterion in lifted.get("criteria") or []:
        criterion = dict(criterion)
        if criterion.get("key") in LIFTED_CRITERIA and isinstance(criterion.get("value"), str):
            criterion["value"] = lift_text(criterion["value"], namespace)
        criteria.append(criterion)
    if criteria:
        lifted["criteria"] = criteria
    return lifted


def lock_rule_ports(rule: dict[str, Any], direction: str, target_group: str, peer_group: str,
                    peer: LiftedPeer | None, registry: PeerRegistry, observed: ObservedPorts | None,
                    report: ImportReport, where: str) -> None:
    """Lock a rule's ``ports: any`` in place: through the peer's port placeholder where the rule goes to
    a peer (egress), literally otherwise; what cannot be locked stays as learned and is reported."""
    if not is_unlocked(rule.get("ports")):
        return
    if rule.get("action") == "deny":
        # A port lock narrows a rule: that tightens an allow but lets through what a deny blocked.
        report.ports_unlocked.append(f"{where}: {rule.get('ports') or 'any'} (a deny rule: a lock would narrow "
                                     "what it denies)")
        return
    client, server = (target_group, peer_group) if direction == "egress" else (peer_group, target_group)
    lock = lock_ports([str(app) for app in rule.get("applications") or []], client, server, observed)
    if not lock.locked:
        report.ports_unlocked.append(f"{where}: {rule.get('ports') or 'any'} ({lock.how})")
        return
    if direction == "egress" and peer is not None and peer.peer is not None and len(lock.ports) == 1:
        proto, number = lock.ports[0]
        if registry.bind_port(peer.peer, number):
            rule["ports"] = f"{proto}/{{{{ {peer_port_expression(peer.peer)} }}}}"
            report.ports_locked.append(f"{where}: {proto}/{number} ({lock.how}) via peers.{peer.peer}.port")
            return
    rule["ports"] = format_ports(lock.ports)
    report.ports_locked.append(f"{where}: {rule['ports']} ({lock.how})")


@dataclass
class LiftedObject:
    data: dict[str, Any]
    group: str  # the target group's short name; source files are named after it
    service: str | None  # the learned service of the target, when the target is one
    identity: str = ""  # kind, namespace and name as exported, for the report


@dataclass
class LiftResult:
    objects: list[LiftedObject]
    bindings: dict[str, dict[str, Any]]
    policy_mode: str | None
    report: ImportReport


def source_policy_mode(objects: Sequence[dict[str, Any]], namespace: str) -> str | None:
    """The namespace's policy mode: the most common mode of its learned targets (first one on a tie)."""
    modes = [
        obj["spec"]["target"].get("policymode")
        for obj in objects
        if learned_name_service((obj["spec"]["target"].get("selector") or {}).get("name"), namespace) is not None
    ]
    counted = Counter(mode for mode in modes if mode in POLICY_MODES)
    return counted.most_common(1)[0][0] if counted else None


def lift_objects(objects: Sequence[dict[str, Any]], namespace: str | None,
                 observed: ObservedPorts | None = None, registry: PeerRegistry | None = None,
                 report: ImportReport | None = None) -> LiftResult:
    """Exported NvSecurityRule/NvClusterSecurityRule objects → neutral source objects.

    Without ``namespace`` nothing is lifted: objects are only cleaned (``clean.clean_object``).
    """
    report = report if report is not None else ImportReport()
    registry = registry if registry is not None else PeerRegistry()
    cleaned = [escape_all(clean_object(obj)) for obj in objects]
    if namespace is None:
        lifted = [LiftedObject(obj, short_name(_target_name(obj)), None, _identity(obj)) for obj in cleaned]
        report.imported.extend(f"{_identity(obj)} (literal: no --namespace)" for obj in cleaned)
        return LiftResult(lifted, {}, None, report)
    mode = source_policy_mode(cleaned, namespace)
    results: list[LiftedObject] = []
    for obj in cleaned:
        if _is_linked_stub(obj, namespace):
            report.skipped.append(f"{_identity(obj)}: a linked group outside {namespace} with no rules "
                                  "(applying it would make the group CRD-managed in every environment)")
            continue
        results.append(_lift_object(obj, namespace, mode, registry, observed, report))
    _add_local_conditions(results, registry, report)
    return LiftResult(results, registry.bindings, mode, report)


def _lift_object(obj: dict[str, Any], namespace: str, mode: str | None, registry: PeerRegistry,
                 observed: ObservedPorts | None, report: ImportReport) -> LiftedObject:
    identity = _identity(obj)
    metadata = obj.setdefault("metadata", {})
    in_namespace = metadata.get("namespace") == namespace
    metadata["name"] = lift_text(str(metadata["name"]), namespace)
    if in_namespace:
        metadata["namespace"] = NAMESPACE
    spec = obj["spec"]
    target = spec["target"]
    target_group = str((target.get("selector") or {}).get("name", ""))
    service = learned_service(target.get("selector"), namespace)
    if service is not None and not METRIC_FIELDS & set(target["selector"]):
        target["selector"] = f'{{{{ service("{service}") }}}}'
        report.placeholders.append(f"{identity}: target {{{{ service(\"{service}\") }}}}")
    elif service is not None:
        # service() gives name and criteria only; the mapping keeps the group's metric settings beside them.
        target["selector"] = lift_selector_text(target["selector"], namespace)
        report.placeholders.append(f"{identity}: target nv.{service}.{{{{ namespace }}}} (with its metric settings)")
    else:
        target["selector"] = lift_selector_text(target.get("selector"), namespace)
        if not in_namespace:
            report.literal.append(f"{identity}: target {target_group} (not a learned group of {namespace})")
    if learned_name_service(target_group, namespace) is not None:
        _lift_modes(spec, mode, identity, report)
    target_short = service or short_name(target_group)
    taken = {str(rule.get("name")) for direction in ("ingress", "egress") for rule in spec.get(direction) or []
             if not is_positional(str(rule.get("name")))}
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            old = str(rule.get("name", ""))
            where = f"{identity} {direction} {old}"
            peer_group = str((rule.get("selector") or {}).get("name", ""))
            peer = lift_peer_selector(rule.get("selector"), namespace, registry, report, where)
            rule["selector"] = peer.selector
            if peer.peer is not None:
                report.placeholders.append(f"{where}: peer {peer_group} -> {{{{ peer(\"{peer.peer}\") }}}}")
            lock_rule_ports(rule, direction, target_group, peer_group, peer, registry, observed, report, where)
            if is_positional(old):
                rule["name"] = rule_name(direction, target_short, peer.short, taken)
                taken.add(rule["name"])
                report.renamed.append(f"{identity}: {old} -> {rule['name']}")
            else:
                rule["name"] = lift_text(old, namespace)
    report.imported.append(identity)
    return LiftedObject(obj, target_short, service, identity)


def _lift_modes(spec: dict[str, Any], mode: str | None, identity: str, report: ImportReport) -> None:
    """The target's mode and the process profile's (which NeuVector applies before the target's) become
    ``{{ policy_mode }}`` where they are the namespace's; a mode the export did not set stays unset."""
    target = spec["target"]
    exported = target.get("policymode")
    if exported is not None and exported == mode:
        target["policymode"] = POLICY_MODE
    elif exported is not None:
        report.literal.append(f"{identity}: policymode {exported} (the namespace's is {mode})")
    profile = spec.get("process_profile")
    if not isinstance(profile, dict) or profile.get("mode") is None:
        return
    if profile["mode"] == exported and exported == mode:
        profile["mode"] = POLICY_MODE
    elif profile["mode"] != exported:
        report.literal.append(f"{identity}: process_profile.mode {profile['mode']} (the target's is "
                              f"{exported or 'not set'}; NeuVector applies the profile's first)")


def _add_local_conditions(objects: list[LiftedObject], registry: PeerRegistry, report: ImportReport) -> None:
    """A target that is also a peer (the seed's postgres) renders only where the peer runs beside the app:
    bound to the same service without another namespace, or not bound at all. Elsewhere (shared QA
    database, external PROD database) the policy of that service belongs to whoever runs it. Unbound
    counts as beside the app because NeuVector exports both ends of a rule: orders is a peer of
    postgres's ingress too, and an environment that binds only postgres must still render orders."""
    for lifted in objects:
        if lifted.service is None:
            continue
        peer = next((name for name, binding in registry.bindings.items()
                     if binding.get("service") == lifted.service and "namespace" not in binding), None)
        if peer is None:
            continue
        fields = f"peers.{peer}" if peer.isidentifier() else f'peers["{peer}"]'
        lifted.data = {
            "when": f'{{{{ "{peer}" not in peers or ({fields}.get("service") == "{lifted.service}" '
                    f'and {fields}.get("namespace", namespace) == namespace) }}}}',
            **lifted.data,
        }
        report.placeholders.append(f"{lifted.identity}: when: renders only where peer {peer} is unbound or is "
                                   f"the service {lifted.service} of the environment's own namespace")


def _is_linked_stub(obj: dict[str, Any], namespace: str) -> bool:
    """An object outside the namespace with no rules, exported only because a rule links to its group.
    A custom group pinned to the namespace (a ``domain``/``namespace`` criterion) is the namespace's own."""
    spec = obj.get("spec") or {}
    has_rules = any(spec.get(key) for key in ("ingress", "egress", "process", "file", "dlp", "waf", "response"))
    if has_rules or (obj.get("metadata") or {}).get("namespace") == namespace:
        return False
    selector = (spec.get("target") or {}).get("selector") or {}
    pinned = any(isinstance(c, dict) and c.get("key") in ("domain", "namespace") and c.get("value") == namespace
                 for c in selector.get("criteria") or [])
    return not pinned


def _target_name(obj: dict[str, Any]) -> str:
    selector = ((obj.get("spec") or {}).get("target") or {}).get("selector") or {}
    return str(selector.get("name") or obj["metadata"]["name"])


def _identity(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    scope = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{obj.get('kind')} {scope}{metadata.get('name')}"
