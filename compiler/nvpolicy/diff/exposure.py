"""Whether a change widens, narrows or leaves alone what the policy lets through.

A rule is read as the traffic it matches: peer group x ports x applications. An allow
rule that matches more widens; a deny rule that matches less widens. When two versions
are incomparable (each matches something the other does not), the change is taken to
widen: something is let through that was not before, and a reviewer should look.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nvpolicy.diff.model import canonical, dig, mappings
from nvpolicy.diff.sets import (
    Address,
    addresses_cover,
    addresses_overlap,
    apps_cover,
    apps_overlap,
    parse_address,
    parse_apps,
    parse_ports,
    ports_cover,
    ports_overlap,
)
from nvpolicy.nv import groups

WIDENS, NARROWS, NEUTRAL = "widens", "narrows", "neutral"

# Strongest first; a move down this list widens.
POLICY_MODES = {"Protect": 3, "Monitor": 2, "Discover": 1}
BASELINES = {"zero-drift": 2, "default": 2, "shield": 2, "basic": 1}
# Reserved groups that stand for every workload: they overlap any in-cluster peer.
EVERY_WORKLOAD = frozenset({groups.CONTAINERS, groups.FED_CONTAINERS})
EXTERNAL = frozenset({groups.EXTERNAL, groups.FED_EXTERNAL})
NODES = frozenset({groups.NODES, groups.FED_NODES})


def combine(exposures: Sequence[str]) -> str:
    if WIDENS in exposures:
        return WIDENS
    return NARROWS if NARROWS in exposures else NEUTRAL


def _criteria(selector: Any) -> list[Mapping[str, Any]]:
    return mappings(dig(selector, "criteria"))


def selector_addresses(selector: Any) -> list[Address] | None:
    """The addresses of an address group, or None when the group is not (only) addresses."""
    criteria = _criteria(selector)
    if not criteria or any(c.get("key") != "address" for c in criteria):
        return None
    return [parse_address(str(c.get("value", ""))) for c in criteria]


def _canonical(criteria: list[Mapping[str, Any]]) -> list[str]:
    return sorted(canonical(c) for c in criteria)


def selector_covers(a: Any, b: Any) -> bool:
    """Does group a match every endpoint group b matches? Exact only beyond address groups."""
    if _canonical(_criteria(a)) == _canonical(_criteria(b)):
        return True
    addr_a, addr_b = selector_addresses(a), selector_addresses(b)
    if addr_a is not None and addr_b is not None:
        return addresses_cover(addr_a, addr_b)
    return False


def relation(cover_ab: bool, cover_ba: bool) -> str:
    """From 'a covers b' and 'b covers a': how b (the new one) compares to a (the old one)."""
    if cover_ab and cover_ba:
        return "equal"
    if cover_ba:
        return "wider"
    return "narrower" if cover_ab else "other"


def group_exposure(old_selector: Any, new_selector: Any) -> str:
    """A group's membership changed: a bigger address set widens every allow rule using it."""
    rel = relation(selector_covers(old_selector, new_selector), selector_covers(new_selector, old_selector))
    return {"equal": NEUTRAL, "narrower": NARROWS}.get(rel, WIDENS)


def _covers_rule(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (
        selector_covers(a.get("selector"), b.get("selector"))
        and ports_cover(parse_ports(a.get("ports")), parse_ports(b.get("ports")))
        and apps_cover(parse_apps(a.get("applications")), parse_apps(b.get("applications")))
    )


def rule_exposure(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Exposure of a matched network rule whose content (and maybe action) changed."""
    return combine([_content_exposure(old, new), priority_exposure(old, new)])


def priority_exposure(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``priority`` orders the CRD segment (higher first, equal ones unordered: the flow model's order). An
    allow that rises, or a deny that sinks, may now win over rules of other CRs it lost to: that widens."""
    from nvpolicy.flowmodel.policy import rule_priority

    before, after = rule_priority(old), rule_priority(new)
    if before == after:
        return NEUTRAL
    allow = new.get("action") == "allow"
    return WIDENS if (after > before) == allow else NARROWS


def _content_exposure(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    old_allow, new_allow = old.get("action") == "allow", new.get("action") == "allow"
    if old_allow != new_allow:
        return WIDENS if new_allow else NARROWS
    rel = relation(_covers_rule(old, new), _covers_rule(new, old))
    if rel == "equal":
        return NEUTRAL
    if new_allow:
        return NARROWS if rel == "narrower" else WIDENS
    return NARROWS if rel == "wider" else WIDENS


def presence_exposure(rule: Mapping[str, Any], added: bool) -> str:
    """A rule that appears or disappears: new allow widens, new deny narrows, and the reverse."""
    allow = rule.get("action", "allow") == "allow"
    return WIDENS if allow == added else NARROWS


def rules_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Could some connection match both rules (same direction assumed)?"""
    return selectors_overlap(a.get("selector"), b.get("selector")) and ports_overlap(
        parse_ports(a.get("ports")), parse_ports(b.get("ports"))
    ) and apps_overlap(parse_apps(a.get("applications")), parse_apps(b.get("applications")))


def _group_class(selector: Any) -> str:
    name = str(dig(selector, "name"))
    if name in EVERY_WORKLOAD:
        return "containers"
    if name in EXTERNAL:
        return "external"
    if name in NODES:
        return "nodes"
    keys = {str(c.get("key")) for c in _criteria(selector)}
    if not keys or ("address" in keys and len(keys) > 1):
        return "unknown"  # no criteria (name referral, say) or an invalid mix: anything is possible
    return "address" if keys == {"address"} else "workload"


def selectors_overlap(a: Any, b: Any) -> bool:
    """Could one endpoint belong to both groups? Unless that is ruled out, assume it could: a
    move that may change the winner must be shown."""
    if str(dig(a, "name")) == str(dig(b, "name")):
        return True
    classes = {_group_class(a), _group_class(b)}
    if classes & {"unknown", "containers"}:
        return True
    if classes == {"address"}:
        addr_a, addr_b = selector_addresses(a), selector_addresses(b)
        return addr_a is not None and addr_b is not None and _ranges_or_addresses_overlap(addr_a, addr_b)
    if classes == {"workload"}:
        return not _workloads_disjoint(_criteria(a), _criteria(b))
    # `external` is everything outside the cluster, address groups included; node addresses may sit in
    # an address group. Workloads are neither external nor nodes.
    return classes in ({"external"}, {"external", "address"}, {"nodes"}, {"nodes", "address"})


def _exact_values(criteria: Sequence[Mapping[str, Any]]) -> dict[str, set[str] | None]:
    """Per key (``namespace`` read as ``domain``), the exact values a member must have, or None
    where the key's criteria are negative, patterns or wildcards."""
    found: dict[str, set[str] | None] = {}
    for criterion in criteria:
        key = str(criterion.get("key"))
        key = "domain" if key == "namespace" else key
        value = str(criterion.get("value"))
        exact = criterion.get("op") == "=" and not any(ch in value for ch in "*?")
        values = found.setdefault(key, set())
        if values is not None:
            found[key] = values | {value} if exact else None
    return found


def _workloads_disjoint(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    """Provably disjoint: some key both groups pin to exact values, with no value in common
    (criteria of one key are OR'd, of different keys AND'd)."""
    values_a, values_b = _exact_values(a), _exact_values(b)
    for key in values_a.keys() & values_b.keys():
        va, vb = values_a[key], values_b[key]
        if va is not None and vb is not None and not va & vb:
            return True
    return False


def _ranges_or_addresses_overlap(a: list[Address], b: list[Address]) -> bool:
    for kind_x, x in a:
        for kind_y, y in b:
            if kind_x == kind_y == "range" and x[0].version == y[0].version and x[0] <= y[1] and y[0] <= x[1]:
                return True
    return addresses_overlap(a, b)


def reorder_exposure(rule: Mapping[str, Any], ahead_now: Sequence[Mapping[str, Any]],
                     behind_now: Sequence[Mapping[str, Any]]) -> str:
    """A rule swapped places with others: only a change of winner between overlapping rules of
    different actions matters. ``ahead_now``: rules that were behind it and now come first."""
    found: list[str] = []
    for other in behind_now:  # the moved rule now wins over these
        if other.get("action") != rule.get("action") and rules_overlap(rule, other):
            found.append(WIDENS if rule.get("action") == "allow" else NARROWS)
    for other in ahead_now:  # these now win over the moved rule
        if other.get("action") != rule.get("action") and rules_overlap(rule, other):
            found.append(WIDENS if other.get("action") == "allow" else NARROWS)
    return combine(found)


def mode_exposure(old: Any, new: Any, ranks: Mapping[str, int]) -> str:
    old_rank, new_rank = ranks.get(str(old)), ranks.get(str(new))
    if old_rank is None or new_rank is None or old_rank == new_rank:
        # N/A or an omitted mode falls back to NeuVector's default, which the policy cannot know.
        return NEUTRAL if old == new or old_rank == new_rank else WIDENS
    return WIDENS if new_rank < old_rank else NARROWS
