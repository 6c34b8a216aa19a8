"""The rendered CRs as the controller compiles them for the enforcers (ENFORCEMENT.md §1, §3.1, §5.1).

Only the CRD ("ground") segment exists offline: federal, user-created and learned rules live in the
cluster (§6). Inside it, rules run by ``priority`` descending; equal priorities are unordered (§1.3), so
each rule keeps its priority and :mod:`decide` reports a tie between matching rules that disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from nvpolicy.diff.sets import AppSet, PortSet, parse_apps, parse_ports
from nvpolicy.flowmodel.endpoints import CONTAINERS, NODES, Endpoint, Membership, group_kind, membership
from nvpolicy.model import Location, ObjectId, RenderedObject, SourceDocument

RULE_KINDS = frozenset({"NvSecurityRule", "NvClusterSecurityRule"})
MODE_RANK = {"Discover": 1, "Monitor": 2, "Protect": 3}
HOST_GROUPS = NODES  # `Host:<ip|id>` never appears in a CR


@dataclass(frozen=True)
class Group:
    name: str
    criteria: tuple[Mapping[str, Any], ...]
    # Answers by endpoint: one group is asked about the same few workloads again and again.
    _answers: dict[Endpoint, Membership] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def kind(self) -> str:
        return group_kind(self.name, self.criteria)

    @cached_property
    def keys(self) -> frozenset[Any]:
        """The endpoint keys this group may select (:func:`selector_keys`): one group serves many rules."""
        return frozenset(selector_keys(self))

    def selects(self, endpoint: Endpoint) -> Membership:
        try:
            return self._answers[endpoint]
        except KeyError:
            answer = self._answers[endpoint] = membership(self.name, self.criteria, endpoint, self.kind)
            return answer
        except TypeError:  # described labels (a dict) make the endpoint unhashable: no cache
            return membership(self.name, self.criteria, endpoint, self.kind)


# Not frozen (as Decision): a model builds one per ingress/egress entry, 19,000 per bench run, and a
# frozen dataclass of 15 fields costs several times as much to make. Nothing changes or hashes a rule
# once build_policy returns it.
@dataclass
class Rule:
    """One compiled network rule: From → To, as §1.2 builds it from an ingress or egress entry."""

    position: int  # 1-based place in the compiled list (after the §1.5 adjustments)
    name: str
    action: str
    source: Group
    destination: Group
    ports_text: str
    ports: PortSet | None
    applications: tuple[str, ...]
    apps: AppSet
    priority: int
    object_id: ObjectId
    path: tuple[str | int, ...]
    # The source document of the object it was compiled from (not the object: its data need not live on).
    origin: SourceDocument = field(compare=False, repr=False)
    sunk: bool = False  # a host-related deny moved to the bottom (§1.5)

    def ref(self) -> str:
        return f"{self.object_id} {self.name}"

    @cached_property
    def location(self) -> Location:
        # Made when a report asks (a failure, JSON, --verbose): ``nvpolicy test`` reads the policies with
        # their marks made only then (pipeline.checked_renders), and a passing run asks for none.
        return self.origin.locate(self.path)

    @cached_property
    def port_facts(self) -> PortFacts | None:
        """``ports`` as the model reads them; None when unreadable."""
        return None if self.ports is None else _port_facts(self.ports)

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position, "name": self.name, "action": self.action,
            "from": self.source.name, "to": self.destination.name, "ports": self.ports_text or "any",
            "applications": list(self.applications) or ["any"], "priority": self.priority,
            "object": str(self.object_id), "location": str(self.location), "sunk": self.sunk,
        }


@dataclass(frozen=True)
class ProcessEntry:
    name: str
    path: str
    action: str
    origin: SourceDocument = field(compare=False, repr=False)
    index: int  # in the object's spec.process
    group: str

    @cached_property
    def location(self) -> Location:
        return self.origin.locate(("spec", "process", self.index))  # when asked, as a rule's location

    @property
    def bucket(self) -> int:
        """The §5.1 bucket: allow */* first, then denies, then allows, specific before patterns."""
        star = self.name == "*"
        wild_all = star and self.path in ("*", "/*")
        if self.action == "allow" and wild_all:
            return 0
        pattern = self.path.endswith("/*")
        base = 1 if self.action == "deny" else 4
        return base + (2 if star else 1 if pattern else 0)


@dataclass(frozen=True)
class Profile:
    """A learned group's process profile as the CRs set it (§5.1, §5.3)."""

    group: str
    mode: str | None
    baseline: str | None  # `basic` or the value a CR asked for; None when no CR says


@dataclass
class Policy:
    rules: tuple[Rule, ...]
    modes: Mapping[str, str]  # learned group -> network mode (§3.1)
    profiles: Mapping[str, Profile]
    process_entries: tuple[tuple[Group, ProcessEntry], ...]
    groups: Mapping[str, Group]
    shortcut: Rule | None = None  # the containers→containers-any rule, when there is one (§1.5)
    dropped: tuple[Rule, ...] = field(default=())  # container-kind rules the shortcut drops

    def mode_of(self, group: str) -> str | None:
        return self.modes.get(group)

    @cached_property
    def _index(self) -> tuple[dict[Any, set[int]], dict[Any, set[int]]]:
        sources: dict[Any, set[int]] = {}
        destinations: dict[Any, set[int]] = {}
        for index, rule in enumerate(self.rules):
            for key in rule.source.keys:
                sources.setdefault(key, set()).add(index)
            for key in rule.destination.keys:
                destinations.setdefault(key, set()).add(index)
        return sources, destinations

    @cached_property
    def _process_index(self) -> dict[Any, list[int]]:
        index: dict[Any, list[int]] = {}
        for number, (group, _) in enumerate(self.process_entries):
            for key in group.keys:
                index.setdefault(key, []).append(number)
        return index

    def process_candidates(self, workload: Endpoint) -> list[tuple[Group, ProcessEntry]]:
        """The process entries of groups that may hold the workload (its learned group, custom groups)."""
        found = set().union(*(self._process_index.get(key, ()) for key in workload.index_keys))
        return [self.process_entries[number] for number in sorted(found)]

    def candidates(self, client: Endpoint, server: Endpoint) -> list[Rule]:
        """The rules that may match a flow, in decision order: a superset of those whose groups select
        both ends. The rules that may select each end are looked up once per endpoint key (an index by
        endpoint class and exact service) and intersected, so a 10,000-flow test stays fast."""
        picked = self._side(0, client.index_keys) & self._side(1, server.index_keys)
        return [self.rules[index] for index in sorted(picked)]

    def _side(self, side: int, keys: tuple[Any, ...]) -> frozenset[int]:
        """The rules whose source (side 0) or destination (side 1) may select an endpoint with these keys."""
        cache = self._sides[side]
        found = cache.get(keys)
        if found is None:
            bucket = self._index[side]
            found = cache[keys] = frozenset().union(*(bucket.get(key, ()) for key in keys))
        return found

    @cached_property
    def _sides(self) -> tuple[dict[tuple[Any, ...], frozenset[int]], dict[tuple[Any, ...], frozenset[int]]]:
        return {}, {}


def selector_keys(group: Group) -> tuple[Any, ...]:
    """The endpoint keys (``Endpoint.index_keys``) a group may select: every workload, some exact services,
    outside addresses, nodes."""
    kind = group.kind
    if kind in ("external", "address"):
        return ("external",)
    if kind == "nodes":
        return ("nodes",)
    if kind == "containers":
        return ("workload",)
    if kind == "service-ip":
        return ()
    if kind == "unknown":
        return ("workload", "external", "nodes")
    services = [c for c in group.criteria if c.get("key") == "service"]
    exact = [str(c.get("value", "")) for c in services
             if c.get("op") == "=" and not set("*?") & set(str(c.get("value", "")))]
    if services and len(exact) == len(services) and "any" not in exact:
        return tuple(("service", value) for value in exact)
    return ("workload",)


def build_policy(objects: Sequence[RenderedObject]) -> Policy:
    groups = _group_index(objects)
    raw: list[tuple[int, int, Rule]] = []
    modes: dict[str, list[str]] = {}
    profile_modes: dict[str, list[str]] = {}
    baselines: dict[str, list[str]] = {}
    entries: list[tuple[Group, ProcessEntry]] = []
    # An object's id is computed from its data on each access: once per object here.
    for object_id, obj in sorted(((o.id, o) for o in objects if o.data.get("kind") in RULE_KINDS),
                                 key=lambda pair: pair[0]):
        spec = obj.data.get("spec")
        if not isinstance(spec, dict):
            continue
        target_data = _mapping(spec.get("target"))
        target = _group(_mapping(target_data.get("selector")), groups)
        mode = target_data.get("policymode")
        if isinstance(mode, str) and mode in MODE_RANK:
            modes.setdefault(target.name, []).append(mode)
        profile = _mapping(spec.get("process_profile"))
        if isinstance(profile.get("mode"), str):
            profile_modes.setdefault(target.name, []).append(str(profile["mode"]))
        if isinstance(profile.get("baseline"), str):
            baselines.setdefault(target.name, []).append(str(profile["baseline"]))
        for section in ("ingress", "egress"):
            for index, entry in enumerate(_list(spec.get(section))):
                peer = _group(_mapping(entry.get("selector")), groups)
                path = ("spec", section, index)
                source, destination = (peer, target) if section == "ingress" else (target, peer)
                priority = rule_priority(entry)
                raw.append((len(raw), priority, _rule(obj, object_id, priority, entry, path, source, destination)))
        for index, entry in enumerate(_list(spec.get("process"))):
            path_value = str(entry.get("path") or "")
            name = str(entry.get("name") or path_value.rsplit("/", 1)[-1])
            entries.append((target, ProcessEntry(name, path_value, str(entry.get("action", "")), obj.source, index,
                                                 target.name)))
    ordered = [rule for _, _, rule in sorted(raw, key=lambda r: (-r[1], r[0]))]
    rules, shortcut, dropped = _adjust(ordered)
    profiles = {
        name: Profile(name, _first(profile_modes.get(name)) or _strongest(modes.get(name)),
                      "basic" if "basic" in baselines.get(name, ()) else _first(baselines.get(name)))
        for name in set(modes) | set(profile_modes) | set(baselines)
    }
    return Policy(
        rules=tuple(rules),
        modes={name: mode for name, values in modes.items() if (mode := _strongest(values))},
        profiles=profiles,
        process_entries=tuple(entries),
        groups=groups,
        shortcut=shortcut,
        dropped=tuple(dropped),
    )


def _adjust(ordered: list[Rule]) -> tuple[list[Rule], Rule | None, list[Rule]]:
    """§1.5: host-related denies sink to the bottom; the containers→containers-any rule drops every
    later rule between two container-kind groups."""
    kept: list[Rule] = []
    sunk: list[Rule] = []
    dropped: list[Rule] = []
    shortcut: Rule | None = None
    for rule in ordered:
        container_pair = _container_kind(rule.source) and _container_kind(rule.destination)
        if shortcut is not None and container_pair:
            dropped.append(rule)
            continue
        if (shortcut is None and rule.source.name in CONTAINERS and rule.destination.name in CONTAINERS
                and rule.apps is None and (rule.ports is None or rule.ports.is_any)):
            shortcut = rule
        if rule.action == "deny" and (rule.source.name in HOST_GROUPS or rule.destination.name in HOST_GROUPS):
            sunk.append(rule)
        else:
            kept.append(rule)
    result = kept + sunk
    for position, rule in enumerate(result, start=1):
        _place(rule, position, position > len(kept))
    return result, shortcut, dropped


def _container_kind(group: Group) -> bool:
    return group.kind in ("containers", "workload")


def _place(rule: Rule, position: int, sunk: bool) -> None:
    # Set in place, once: until build_policy returns, its rules are its own (not yet compared or seen),
    # and a second construction of every rule cost more than the first.
    rule.position, rule.sunk = position, sunk


def _rule(obj: RenderedObject, object_id: ObjectId, priority: int, entry: Mapping[str, Any],
          path: tuple[str | int, ...], source: Group, destination: Group) -> Rule:
    ports_value = entry.get("ports")
    apps_value = entry.get("applications")
    applications = tuple(str(a) for a in apps_value) if isinstance(apps_value, list) else ()
    return Rule(
        position=0, name=str(entry.get("name", "")), action=str(entry.get("action", "")),
        source=source, destination=destination,
        ports_text=str(ports_value) if ports_value not in (None, "") else "",
        ports=_ports(ports_value) if isinstance(ports_value, (str, int, type(None))) else None,
        applications=applications,
        apps=_apps(applications) if isinstance(apps_value, list) else parse_apps(apps_value),
        priority=priority, object_id=object_id, path=path, origin=obj.source,
    )


# (any, ICMP included, tcp/udp intervals): a ports value read once for the model.
PortFacts = tuple[bool, bool, dict[str, list[tuple[int, int]]]]


@lru_cache(maxsize=1024)
def _port_facts(ports: PortSet) -> PortFacts:
    return ports.is_any, ports.icmp, {protocol: ports.intervals(protocol) for protocol in ("tcp", "udp")}


# A policy repeats a few port and application spellings thousands of times: parse each once.
@lru_cache(maxsize=1024)
def _ports(value: str | int | None) -> PortSet | None:
    return parse_ports(value)


@lru_cache(maxsize=1024)
def _apps(names: tuple[str, ...]) -> AppSet:
    return parse_apps(list(names))


def rule_priority(entry: Mapping[str, Any]) -> int:
    """A CRD rule's ``priority`` (0 when absent): higher is decided first (ENFORCEMENT.md §1.3)."""
    value = entry.get("priority", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _group_index(objects: Iterable[RenderedObject]) -> dict[str, Group]:
    """Every group name with criteria, so a name-referral selector (no criteria) finds its definition."""
    found: dict[str, Group] = {}
    for obj in objects:
        spec = _mapping(obj.data.get("spec"))
        selectors = [_mapping(spec.get("selector"))] if obj.data.get("kind") == "NvGroupDefinition" else []
        selectors.append(_mapping(_mapping(spec.get("target")).get("selector")))
        selectors += [_mapping(e.get("selector")) for s in ("ingress", "egress") for e in _list(spec.get(s))]
        for selector in selectors:
            name = selector.get("name")
            if isinstance(name, str) and name not in found:  # a group is named far more often than defined
                criteria = tuple(_list(selector.get("criteria")))
                if criteria:
                    found[name] = Group(name, criteria)
    return found


def _group(selector: Mapping[str, Any], known: Mapping[str, Group]) -> Group:
    name = str(selector.get("name", ""))
    criteria = tuple(_list(selector.get("criteria")))
    found = known.get(name)
    if found is not None and (not criteria or criteria == found.criteria):
        return found  # one instance per group: its answers are shared by every rule naming it
    return Group(name, criteria)


def _strongest(values: Sequence[str] | None) -> str | None:
    """Several CRs on one group: Protect if any says so, else Monitor, else Discover (§3.1)."""
    if not values:
        return None
    return max(values, key=lambda mode: MODE_RANK.get(mode, 0))


def _first(values: Sequence[str] | None) -> str | None:
    return values[0] if values else None


# Rendered objects are plain dicts and lists (YAML data); `dict` checks cost a tenth of `Mapping`'s.
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
