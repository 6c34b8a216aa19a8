"""Flow endpoints and group membership (ENFORCEMENT.md §2.2, §4).

Membership is three-valued: ``True``, ``False`` or ``None`` when the endpoint's description lacks what
a criterion needs (labels, image, namespace labels). ``None`` is never silently read as either answer:
the decision that meets it says so in its ``unknown`` field.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any

from nvpolicy.diff.sets import parse_address

Tri = bool | None

# Reserved group names (§4); fed.* copies behave alike in the federal segment.
EXTERNAL = frozenset({"external", "fed.external"})
NODES = frozenset({"nodes", "fed.nodes"})
CONTAINERS = frozenset({"containers", "fed.containers"})
SERVICE_IP_PREFIX = "nv.ip."
POSITIVE_OPS = frozenset({"=", "contains", "prefix", "regex"})


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow. ``kind`` is ``workload``, ``external`` (an address or host name) or ``nodes``.

    For a workload, ``labels``/``image``/``namespace_labels`` are ``None`` when not described: criteria on
    them then answer "cannot tell".
    """

    kind: str
    service: str = ""
    namespace: str = ""
    labels: Mapping[str, str] | None = None
    image: str | None = None
    container: str | None = None
    namespace_labels: Mapping[str, str] | None = None
    address: str = ""  # external: an IPv4/IPv6 address or a host name

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        # The dataclass's hash of the fields, computed once: every group's membership cache hashes the
        # endpoint. Described labels (a dict) leave it unhashable, as before: TypeError, nothing cached.
        return hash((self.kind, self.service, self.namespace, self.labels, self.image, self.container,
                     self.namespace_labels, self.address))

    @cached_property  # asked several times per decision, and an expectation's endpoint is reused
    def learned_group(self) -> str:
        """NeuVector's learned group ``nv.<service>.<namespace>`` (§4); empty for non-workloads."""
        return f"nv.{self.service}.{self.namespace}" if self.kind == "workload" else ""

    @cached_property
    def index_keys(self) -> tuple[Any, ...]:
        """The keys the policy's rule index files this endpoint under (``policy.selector_keys`` gives a
        group's): its class, and for a workload its exact service, with and without the namespace."""
        if self.kind == "workload":
            return ("workload", ("service", f"{self.service}.{self.namespace}"), ("service", self.service))
        return (self.kind,)

    @cached_property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.address)
        except ValueError:
            return False
        return True

    def label(self) -> str:
        if self.kind == "workload":
            return f"{self.service}.{self.namespace}"
        return self.address or self.kind

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "workload":
            data.update(service=self.service, namespace=self.namespace, group=self.learned_group)
            if self.labels is not None:
                data["labels"] = dict(sorted(self.labels.items()))
            if self.image is not None:
                data["image"] = self.image
        elif self.address:
            data["address"] = self.address
        return data


def workload(service: str, namespace: str, **described: Any) -> Endpoint:
    return Endpoint("workload", service=service, namespace=namespace, **described)


def external(address: str) -> Endpoint:
    return Endpoint("external", address=address.strip().lower().rstrip("."))


NODE = Endpoint("nodes")


@dataclass(frozen=True)
class Membership:
    """Does a group select an endpoint? ``because`` names what could not be told, when ``selected`` is None."""

    selected: Tri
    notes: tuple[str, ...] = ()
    guesses: tuple[str, ...] = field(default=())  # assumptions taken to answer (DNS, subnets)


def tri_all(values: Iterable[Tri]) -> Tri:
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def tri_any(values: Iterable[Tri]) -> Tri:
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def group_kind(name: str, criteria: Sequence[Mapping[str, Any]]) -> str:
    """external | nodes | containers | service-ip | address | workload | unknown (no criteria to read)."""
    if name in EXTERNAL:
        return "external"
    if name in NODES:
        return "nodes"
    if name in CONTAINERS:
        return "containers"
    if name.startswith(SERVICE_IP_PREFIX):
        return "service-ip"
    keys = {str(c.get("key")) for c in criteria}
    if not keys:
        return "unknown"
    if keys == {"address"}:
        return "address"
    return "workload" if "address" not in keys else "unknown"


def membership(name: str, criteria: Sequence[Mapping[str, Any]], endpoint: Endpoint,
               kind: str | None = None) -> Membership:
    """``kind``: the group's :func:`group_kind`, when the caller has it already."""
    kind = kind or group_kind(name, criteria)
    if kind == "external":
        if endpoint.kind != "external":
            return Membership(False)
        if endpoint.is_ip:
            return Membership(True, guesses=(f"{endpoint.address} is taken to lie outside the cluster's internal "
                                             "subnets (only those are never `external`, §4)",))
        return Membership(True)
    if kind == "nodes":
        return Membership(endpoint.kind == "nodes")
    if kind == "containers":
        return Membership(endpoint.kind == "workload")
    if kind == "service-ip":
        # ClusterIP groups resolve to Service IPs that only client-side egress rules see; on Kubernetes
        # east-west egress is not checked, so they never decide a pod-to-pod flow (§2.1).
        return Membership(False)
    if kind == "unknown":
        return Membership(None, (f"group {name} has no criteria nvpolicy can read",))
    if kind == "address":
        return _address_membership(criteria, endpoint)
    if endpoint.kind != "workload":
        return Membership(False)  # workload criteria never select nodes or outside addresses
    return _workload_membership(criteria, endpoint)


def _address_membership(criteria: Sequence[Mapping[str, Any]], endpoint: Endpoint) -> Membership:
    # `address` criteria never select workloads (§2.2).
    if endpoint.kind != "external" or not endpoint.address:
        return Membership(False)
    guesses: list[str] = []
    notes: list[str] = []
    answers: list[Tri] = []
    for criterion in criteria:
        value = str(criterion.get("value", ""))
        kind, parsed = parse_address(value)
        if kind == "range":
            if endpoint.is_ip:
                ip = ipaddress.ip_address(endpoint.address)
                answers.append(ip.version == parsed[0].version and parsed[0] <= ip <= parsed[1])
            else:
                answers.append(None)
                notes.append(f"{endpoint.address} is a name; whether DNS gives it an address in {value} is "
                             "not known offline")
            continue
        if endpoint.is_ip:
            answers.append(None)
            notes.append(f"whether {value} resolves to {endpoint.address} depends on DNS (§6)")
            continue
        host = endpoint.address
        # A wildcard matches any depth of subdomain, never the apex (§4).
        hit = host.endswith("." + str(parsed)) if kind == "wildcard" else host == parsed
        if hit:
            guesses.append(f"{value} is matched by name; NeuVector matches the IPs the enforcer resolves or "
                           "snoops for it (§4, DNS)")
        answers.append(hit)
    selected = tri_any(answers)
    return Membership(selected, tuple(notes) if selected is None else (), tuple(guesses) if selected else ())


def _criterion_class(key: str) -> str:
    if key in ("domain", "namespace"):
        return "domain"
    if key.startswith("ns:"):
        return "ns-label"
    if key in ("service", "image", "container", "node", "host", "address"):
        return key
    return "pod-label"  # every label key counts as one key (§2.2)


def _workload_membership(criteria: Sequence[Mapping[str, Any]], endpoint: Endpoint) -> Membership:
    by_class: dict[str, list[Mapping[str, Any]]] = {}
    for criterion in criteria:
        by_class.setdefault(_criterion_class(str(criterion.get("key", ""))), []).append(criterion)
    notes: list[str] = []
    answers: list[Tri] = []
    for _, group in sorted(by_class.items()):
        results = [_criterion(c, endpoint, notes) for c in group]
        positive = any(str(c.get("op", "=")) in POSITIVE_OPS for c in group)
        answers.append(tri_any(results) if positive else tri_all(results))
    selected = tri_all(answers)
    return Membership(selected, tuple(dict.fromkeys(notes)) if selected is None else ())


def _criterion(criterion: Mapping[str, Any], endpoint: Endpoint, notes: list[str]) -> Tri:
    key = str(criterion.get("key", ""))
    op = str(criterion.get("op", "="))
    wanted = str(criterion.get("value", ""))
    cls = _criterion_class(key)
    actual: str | None
    if cls == "domain":
        actual = endpoint.namespace
    elif cls == "service":
        # NeuVector writes the service criterion as <service>.<namespace>.
        actual = f"{endpoint.service}.{endpoint.namespace}" if "." in wanted else endpoint.service
    elif cls == "image":
        actual = endpoint.image
        if actual is None:
            notes.append("the workload's image is not described")
            return None
    elif cls == "container":
        actual = endpoint.container
        if actual is None:
            notes.append("the workload's container name is not described")
            return None
    elif cls == "pod-label":
        if endpoint.labels is None:
            notes.append(f"the workload's labels are not described (criterion {key})")
            return None
        actual = endpoint.labels.get(key)
    elif cls == "ns-label":
        if endpoint.namespace_labels is None:
            notes.append(f"the namespace's labels are not described (criterion {key})")
            return None
        actual = endpoint.namespace_labels.get(key[3:])
    elif cls == "address":
        return False
    else:
        notes.append(f"criterion {key} needs a cluster inventory")
        return None
    if actual is None:
        return False  # even a negative op does not select a workload that lacks the label (§2.2)
    return _op(op, wanted, actual)


def _op(op: str, wanted: str, actual: str) -> Tri:
    if op == "=":
        return wanted == "any" or _equal(wanted, actual)
    if op == "!=":
        return not _equal(wanted, actual)
    if op == "contains":
        return wanted in actual
    if op == "prefix":
        return actual.startswith(wanted)
    if op in ("regex", "!regex"):
        try:
            found = re.search(wanted, actual) is not None  # unanchored, as Go's MatchString (§2.2)
        except re.error:
            return None
        return found if op == "regex" else not found
    return None


def _equal(wanted: str, actual: str) -> bool:
    """``=`` accepts anchored ``*`` and ``?`` wildcards (EqualMatch, §2.2)."""
    if "*" in wanted or "?" in wanted:
        return fnmatchcase(actual, wanted.replace("[", "[[]"))
    return wanted == actual
