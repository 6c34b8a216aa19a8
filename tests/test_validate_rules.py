"""Every rule module: registry contract, and its docstring's PASS example passes while FAIL fails."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from nvpolicy.environment import Environment
from nvpolicy.model import LEVELS, RenderedObject
from nvpolicy.rules import GUARDRAILS, IMPORT_CHECKS, RULE_MODULES, RuleContext, load_rules, process_path
from nvpolicy.rules import ports as ports_rule
from nvpolicy.source import load_text

# The environment the docstring examples are written for: a production env in namespace shop,
# beside another environment whose namespace is dev.
EXAMPLE_ENV = Environment("prod", "shop", "Protect", {}, {}, {}, production=True)
EXAMPLE_OPTIONS = {"foreign": {"dev": "environments/dev.yaml"}}


def _example(module: ModuleType, label: str) -> list[RenderedObject]:
    doc = module.__doc__ or ""
    match = re.search(rf"^{label}::\n\n((?:    .*\n|\n)+)", doc, re.MULTILINE)
    assert match, f"{module.__name__} has no {label}:: example"
    text = "\n".join(line[4:] for line in match.group(1).splitlines())
    return [RenderedObject(d.data, d) for d in load_text(text, f"{module.__name__}:{label}")]


def _hits(module: ModuleType, objects: list[RenderedObject]) -> list[str]:
    return [hit.message for hit in module.check(objects, RuleContext(EXAMPLE_OPTIONS, EXAMPLE_ENV))]


@pytest.mark.parametrize("module", load_rules(RULE_MODULES), ids=lambda m: m.ID)
def test_rule_contract(module: ModuleType) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9-]*", module.ID)
    assert module.LEVEL in LEVELS
    assert module.DESCRIPTION.strip()
    assert (module.__doc__ or "").startswith(f"{module.ID}:")


def test_rule_ids_unique_and_registries_disjoint() -> None:
    ids = [module.ID for module in load_rules(RULE_MODULES)]
    assert len(ids) == len(set(ids))
    assert not set(IMPORT_CHECKS) & set(GUARDRAILS)


@pytest.mark.parametrize("module", load_rules(RULE_MODULES), ids=lambda m: m.ID)
def test_docstring_pass_example(module: ModuleType) -> None:
    assert _hits(module, _example(module, "PASS")) == []


@pytest.mark.parametrize("module", load_rules(RULE_MODULES), ids=lambda m: m.ID)
def test_docstring_fail_example(module: ModuleType) -> None:
    assert _hits(module, _example(module, "FAIL")), f"{module.ID}: the FAIL example raised nothing"


@pytest.mark.parametrize(("ports", "ok"), [
    ("any", True), ("icmp", True), ("tcp/any", True), ("UDP/53", True), ("80", True), ("8500-8508", True),
    ("80, 8080, 8500-8508, tcp/443, tcp/3306-3307, udp/53", True), ("tcp/0", True), ("tcp/65535", True),
    ("tcp/65536", False), ("tcp/9-8", False), ("sctp/80", False), ("tcp/", False), ("Tcp/80", False),
    ("tcp/80-", False), ("-80", False),
])
def test_ports_grammar(ports: str, ok: bool) -> None:
    assert (ports_rule.problem(ports) is None) == ok


@pytest.mark.parametrize(("path", "ok"), [
    ("/usr/bin/java", True), ("*", True), ("/opt/*/java", True), ("", True),
    ("java", False), ("/usr/bin/", False), ("/a/*/b/*", False),
])
def test_process_paths(path: str, ok: bool) -> None:
    assert (process_path.problem(path) is None) == ok


@pytest.mark.parametrize(("deny", "allow", "message"), [
    ("any", "tcp/5432", "shadowed"), ("tcp/5432", "5432", "shadowed"), ("tcp/any", "tcp/80, 8080", "shadowed"),
    ("tcp/80, udp/53", "udp/53", "shadowed"), ("tcp/any", "udp/53", None), ("tcp/80", "tcp/8080", None),
    ("udp/any", "any", None), ("tcp/1-1000", "tcp/80", "shadowed"), ("80,443", "443, tcp/80", "shadowed"),
])
def test_shadowed_rule_reads_ports_as_neuvector_does(deny: str, allow: str, message: str | None) -> None:
    from nvpolicy.rules import guard_shadowed_rule

    text = ("kind: NvSecurityRule\nmetadata: {name: nv.a.shop, namespace: shop}\nspec:\n"
            "  target: {selector: {name: nv.a.shop}}\n  egress:\n"
            f"    - {{name: d, action: deny, ports: '{deny}', selector: {{name: nv.db.shop}}}}\n"
            f"    - {{name: a, action: allow, ports: '{allow}', selector: {{name: nv.db.shop}}}}\n")
    objects = [RenderedObject(d.data, d) for d in load_text(text, "x.yaml")]
    hits = _hits(guard_shadowed_rule, objects)
    assert (message in hits[0] if message else hits == []), hits


def test_shadowed_rule_sees_a_bare_port_duplicate() -> None:
    from nvpolicy.rules import guard_shadowed_rule

    text = ("kind: NvSecurityRule\nmetadata: {name: nv.a.shop, namespace: shop}\nspec:\n"
            "  target: {selector: {name: nv.a.shop}}\n  egress:\n"
            "    - {name: one, action: allow, ports: tcp/80, selector: {name: nv.db.shop}}\n"
            "    - {name: two, action: allow, ports: '80', selector: {name: nv.db.shop}}\n")
    objects = [RenderedObject(d.data, d) for d in load_text(text, "x.yaml")]
    assert _hits(guard_shadowed_rule, objects) == ["rule 'two' duplicates rule 'one'"]


@pytest.mark.parametrize(("rule_id", "process", "binary"), [
    ("production-shell", "{name: entrypoint, action: allow, path: /bin/bash}", "bash"),
    ("production-shell", "{name: sh, action: allow, path: /bin/busybox}", "sh"),
    ("production-shell", "{name: entrypoint, action: deny, path: /bin/bash}", None),
    ("sidecar-process", "{name: proxy, action: allow, path: /usr/local/bin/envoy}", "envoy"),
    ("sidecar-process", "{name: java, action: allow, path: /usr/bin/java}", None),
])
def test_process_guardrails_look_at_name_and_path(rule_id: str, process: str, binary: str | None) -> None:
    module = next(m for m in load_rules(GUARDRAILS) if rule_id == m.ID)
    text = ("kind: NvSecurityRule\nmetadata: {name: nv.a.shop, namespace: shop}\nspec:\n"
            f"  target: {{selector: {{name: nv.a.shop}}}}\n  process: [{process}]\n")
    hits = _hits(module, [RenderedObject(d.data, d) for d in load_text(text, "x.yaml")])
    assert (len(hits) == 1 and repr(binary) in hits[0]) if binary else hits == [], hits
