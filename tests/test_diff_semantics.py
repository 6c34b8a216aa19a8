"""Matching and exposure semantics of nvpolicy.diff, in-process."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.diff import diff_objects, summarize
from nvpolicy.diff.sets import address_covers, parse_address, parse_ports, ports_cover


def _selector(peer: str) -> dict[str, Any]:
    return {"name": f"nv.{peer}.shop", "criteria": [{"key": "service", "op": "=", "value": f"{peer}.shop"},
                                                    {"key": "domain", "op": "=", "value": "shop"}]}


def _rule(name: str, action: str, peer: str, ports: str = "any") -> dict[str, Any]:
    return {"name": name, "action": action, "ports": ports, "selector": _selector(peer)}


def _policy(egress: list[dict[str, Any]], mode: str = "Protect", name: str = "nv.web.shop") -> dict[str, Any]:
    return {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"target": {"policymode": mode, "selector": _selector("web")}, "egress": egress}}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    result = diff_objects([old], [new])
    return [(c.change, c.exposure, c.rule) for o in result.objects for c in o.changes]


def test_pure_reorder_of_independent_allows_is_moved_and_neutral() -> None:
    rules = [_rule("a", "allow", "db", "tcp/5432"), _rule("b", "allow", "cache", "tcp/6379"),
             _rule("c", "allow", "dns", "udp/53")]
    changes = _changes(_policy(rules), _policy([rules[2], rules[0], rules[1]]))
    assert changes
    assert {change for change, _, _ in changes} == {"moved"}
    assert {exposure for _, exposure, _ in changes} == {"neutral"}


def test_allow_moved_above_overlapping_deny_widens_and_back_narrows() -> None:
    deny, allow = _rule("deny-db", "deny", "db", "tcp/5432"), _rule("allow-db", "allow", "db", "tcp/5000-6000")
    assert _changes(_policy([deny, allow]), _policy([allow, deny])) == [("moved", "widens", "allow-db")]
    # Which of two swapped rules is reported as the moved one is the diff's choice; the verdict is not.
    assert [(c, e) for c, e, _ in _changes(_policy([allow, deny]), _policy([deny, allow]))] == [("moved", "narrows")]


def test_allow_moved_above_a_deny_it_does_not_overlap_is_neutral() -> None:
    deny, allow = _rule("deny-db", "deny", "db", "tcp/5432"), _rule("allow-db", "allow", "db", "tcp/80")
    assert _changes(_policy([deny, allow]), _policy([allow, deny])) == [("moved", "neutral", "allow-db")]
    other = _rule("deny-cache", "deny", "cache", "any")
    assert _changes(_policy([other, allow]), _policy([allow, other])) == [("moved", "neutral", "allow-db")]


def _group(name: str, *criteria: tuple[str, str, str]) -> dict[str, Any]:
    return {"name": name, "criteria": [{"key": k, "op": op, "value": v} for k, op, v in criteria]}


def test_a_move_past_a_rule_of_another_group_that_covers_the_same_endpoints_changes_the_winner() -> None:
    external = {"name": "external"}
    api = _group("ext.api.shop", ("address", "=", "api.example.com"))
    whole_namespace = _group("shop-all", ("namespace", "=", "shop"))
    other_namespace = _group("team-all", ("domain", "=", "team"))
    any_namespace = _group("all-ns", ("namespace", "=", "*"))
    db = _rule("allow-db", "allow", "db", "tcp/5432")
    cases = [
        # (deny peer, allow peer, exposure of moving the allow above the deny)
        (external, api["name"], api, "widens"),  # an address group is outside the cluster: `external` covers it
        (whole_namespace, "db", None, "widens"),  # nv.db.shop lives in namespace shop
        (any_namespace, "db", None, "widens"),  # a wildcard value rules nothing out
        (other_namespace, "db", None, "neutral"),  # pinned to another namespace: no endpoint in common
        (external, "db", None, "neutral"),  # a workload is never external
    ]
    for deny_peer, allow_peer, allow_selector, verdict in cases:
        deny = {"name": "deny", "action": "deny", "ports": "any", "selector": deny_peer}
        allow = {**db, "selector": allow_selector} if allow_selector else db
        assert _changes(_policy([deny, allow]), _policy([allow, deny])) == [("moved", verdict, "allow-db")], (
            deny_peer, allow_peer)
        # The deny moved above the allow instead: the same pair of rules, the reverse verdict.
        reverse = {"widens": "narrows", "neutral": "neutral"}[verdict]
        assert [(c, e) for c, e, _ in _changes(_policy([allow, deny]), _policy([deny, allow]))] == [
            ("moved", reverse)], (deny_peer, allow_peer)


def test_positional_names_do_not_drive_matching() -> None:
    old = [_rule("nv.web.shop-egress-0", "allow", "db", "tcp/5432"),
           _rule("nv.web.shop-egress-1", "allow", "cache", "tcp/6379")]
    new = [_rule("nv.web.shop-egress-0", "allow", "cache", "tcp/6379"),
           _rule("nv.web.shop-egress-1", "allow", "db", "tcp/5432")]
    changes = _changes(_policy(old), _policy(new))
    assert changes
    assert all(change in ("changed", "moved") for change, _, _ in changes)
    assert all(exposure == "neutral" for _, exposure, _ in changes)


def test_changed_and_moved_together() -> None:
    a, b = _rule("a", "allow", "db", "tcp/5432"), _rule("b", "allow", "cache", "tcp/6379")
    wider_a = {**a, "ports": "any"}
    changes = _changes(_policy([a, b]), _policy([b, wider_a]))
    assert ("changed", "widens", "a") in changes
    assert any(change == "moved" for change, _, _ in changes)


def test_exposure_of_modes_and_ports() -> None:
    rules = [_rule("a", "allow", "db", "tcp/5432")]
    assert _changes(_policy(rules, "Protect"), _policy(rules, "Monitor")) == [("changed", "widens", "")]
    assert _changes(_policy(rules, "Discover"), _policy(rules, "Protect")) == [("changed", "narrows", "")]
    assert _changes(_policy(rules), _policy([{**rules[0], "ports": "tcp/5432-5433"}])) == [("changed", "widens", "a")]
    assert _changes(_policy(rules), _policy([{**rules[0], "action": "deny"}])) == [("changed", "narrows", "a")]
    assert _changes(_policy(rules), _policy([])) == [("removed", "narrows", "a")]


def test_port_and_address_sets() -> None:
    assert ports_cover(parse_ports("any"), parse_ports("tcp/1-65535, udp/53, icmp"))
    assert ports_cover(parse_ports("tcp/any"), parse_ports("80, 8080"))
    assert not ports_cover(parse_ports("tcp/any"), parse_ports("udp/53"))
    assert ports_cover(parse_ports("tcp/8000-8080,tcp/8081-9000"), parse_ports("tcp/8050-8100"))
    assert not ports_cover(parse_ports("tcp/80"), parse_ports("any"))
    assert address_covers(parse_address("10.0.0.0/8"), parse_address("10.1.2.0/24"))
    assert not address_covers(parse_address("10.1.2.0/24"), parse_address("10.0.0.0/8"))
    assert address_covers(parse_address("10.0.0.0-10.0.0.255"), parse_address("10.0.0.7"))
    assert address_covers(parse_address("*.example.com"), parse_address("api.example.com"))
    assert not address_covers(parse_address("api.example.com"), parse_address("*.example.com"))


def test_summarize_counts_for_other_commands() -> None:
    old = [_policy([_rule("a", "allow", "db")]), _policy([], name="gone")]
    new = [_policy([_rule("a", "allow", "db"), _rule("b", "allow", "cache")]), _policy([], name="fresh-one")]
    new[1]["spec"]["target"]["selector"] = _selector("other")
    summary = summarize(old, new)
    assert (summary.objects_added, summary.objects_changed, summary.objects_removed) == (1, 1, 1)
    assert summary.widens == 1
    assert summarize(old, copy.deepcopy(old)).empty


_rules = st.lists(
    st.builds(_rule, st.sampled_from(["r1", "r2", "r3"]), st.sampled_from(["allow", "deny"]),
              st.sampled_from(["db", "cache", "dns"]), st.sampled_from(["any", "tcp/80", "tcp/70-90", "udp/53"])),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(_rules, st.randoms(use_true_random=False))
def test_permutations_never_add_or_remove(rules: list[dict[str, Any]], rng: Any) -> None:
    assert diff_objects([_policy(rules)], [_policy(copy.deepcopy(rules))]).empty
    shuffled = list(rules)
    rng.shuffle(shuffled)
    changes = _changes(_policy(rules), _policy(shuffled))
    assert all(change == "moved" for change, _, _ in changes)
    if all(r["action"] == "allow" for r in rules):
        assert all(exposure == "neutral" for _, exposure, _ in changes)


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["allow", "deny", "any", "tcp/80", "10.0.0.0/8"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "action", "ports", "selector", "criteria", "key", "value", "applications", "path",
                         "filter", "policymode", "target", "behavior", "app"]), inner, max_size=4),
    max_leaves=12,
)
_junk_objects = st.lists(
    st.builds(lambda kind, name, spec: {"apiVersion": "neuvector.com/v1", "kind": kind,
                                        "metadata": {"name": name, "namespace": "x"}, "spec": spec},
              st.sampled_from(["NvSecurityRule", "NvGroupDefinition", "NvDlpSecurityRule"]), st.sampled_from("abc"),
              st.dictionaries(st.sampled_from(["target", "ingress", "egress", "process", "file", "selector"]), _junk,
                              max_size=4)),
    max_size=3, unique_by=lambda o: (o["kind"], o["metadata"]["name"]),
)


@settings(max_examples=150, deadline=None)
@given(_junk_objects, _junk_objects)
def test_any_yaml_shape_diffs_without_crashing(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Trees given with --old/--new are not validated: malformed objects must still diff (no internal error)."""
    from nvpolicy.diff.json_output import render_json
    from nvpolicy.diff.markdown import render_markdown
    from nvpolicy.diff.text import render_text

    result = diff_objects(old, new)
    assert render_text(result) and render_json(result) and render_markdown(result)
    assert diff_objects(old, copy.deepcopy(old)).empty
    from nvpolicy.diff.model import canonical

    same = sorted(map(canonical, old)) == sorted(map(canonical, new))  # the same objects, maybe in another order
    assert result.empty == same


def test_a_markdown_cell_shows_link_and_image_syntax_as_text() -> None:
    """Names in a diff comment come from the cluster: `![x](url)` must not load a picture, `[a](url)` not link."""
    from markdown_it import MarkdownIt
    from nvpolicy.diff.markdown import _cell

    row = f"| a | {_cell('![x](https://tracker.example/p.png) and [click](https://evil.example)')} |\n|---|---|\n"
    tokens = MarkdownIt("commonmark").enable("table").parse("| h | v |\n|---|---|\n" + row.split("\n", 1)[0] + "\n")
    inline = [child for token in tokens if token.children for child in token.children]
    assert not any(child.type in ("image", "link_open") for child in inline)
    assert any("![x](https://tracker.example/p.png)" in child.content for child in inline if child.type == "text")
