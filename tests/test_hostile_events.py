"""Events are data: what ``propose`` writes renders to the events' literal text, names that are not
NeuVector's never reach template code or a path, wildcard and invalid addresses are only flagged,
and event text cannot hide or reshape the Markdown report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from nvpolicy.environment import Environment
from nvpolicy.learn.literal import namespace_problem, printable, service_problem
from nvpolicy.model import Marks, SourceDocument
from nvpolicy.render import Renderer

from tests import propose_payloads as payloads
from tests.conftest import run_nvpolicy, tree_bytes

ORDERS = payloads.ORDERS
ENVIRONMENT = Environment("prod", "orders-prod", "Protect", {}, {"x": "EVALUATED"}, {})
SH = ("sh", "/bin/sh")


def _events(tmp_path: Path, events: list[dict[str, Any]]) -> Path:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    return path


def _process(event_id: str, proc: str, path: str, workload: tuple[str, str, str] = ORDERS,
             parent: tuple[str, str] = ("java", "/usr/bin/java"), cmd: str = "") -> dict[str, Any]:
    return payloads.incident(event_id, 1, workload, proc, path, *parent, cmd=cmd)


def _render(project: Path, env: str, out: Path) -> dict[str, Any]:
    result = run_nvpolicy("-C", str(project), "render", "--env", env, "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = next(out.rglob("nvsecurityrule-nv.orders.*.yaml")).read_text(encoding="utf-8")
    from nvpolicy.source import load_text

    data: dict[str, Any] = load_text(text, "x")[0].data
    return data


def test_process_names_and_paths_render_to_their_literal_text_in_every_environment(
        example_project: Path, tmp_path: Path) -> None:
    hostile = [("tool-{{ vars.orders_port }}", "/tmp/{{ vars.orders_port }}"),
               ("{% raw %}x{% endraw %}", "/opt/{% if true %}a{% endif %}"),
               ("{# c #}", "/opt/it's \\ {{ namespace }}")]
    events = _events(tmp_path, [_process(f"i-{n}", name, path) for n, (name, path) in enumerate(hostile)])
    written = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert written.returncode == 1, written.stderr
    assert "wrote 3 proposals" in written.stderr
    for env in ("dev", "qa", "prod"):
        process = _render(example_project, env, tmp_path / env)["spec"]["process"]
        assert [(rule["name"], rule.get("path")) for rule in process[-3:]] == sorted(hostile)


def test_names_that_are_not_dns_1123_never_reach_a_placeholder_or_a_path(example_project: Path,
                                                                          tmp_path: Path) -> None:
    crafted = "x') }}{{ service('containers"
    events = _events(tmp_path, [
        payloads.violation("v-1", 1, ORDERS, ("db-0", crafted, "dev"), 5432),
        payloads.violation("v-2", 2, ORDERS, ("db-0", "postgres", "prod', 'x"), 5432),
        payloads.violation("v-3", 3, ("x-0", "../../x", "dev"), payloads.REDIS, 6379),
        payloads.violation("v-4", 4, ("x-0", "/etc/cron.d/x", "dev"), payloads.REDIS, 6379),
        _process("i-1", "java", "/usr/bin/java", workload=("w", "../../../tmp/evil", "dev")),
        _process("i-2", "java", "/usr/bin/java", workload=("w", "Upper{{x}}", "dev")),
    ])
    before = tree_bytes(example_project)
    result = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_bytes(example_project) == before
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "evil.yaml").exists()
    report = json.loads(run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev",
                                     "--format", "json").stdout)
    assert report["proposals"] == [] and report["flagged"] == []
    ignored = "\n".join(report["ignored"])
    for name in ("x') }}{{ service('containers", "../../x", "/etc/cron.d/x", "../../../tmp/evil", "Upper{{x}}"):
        assert f"service name {name!r} is not a DNS-1123 name" in ignored
    assert "namespace \"prod', 'x\" is not a DNS-1123 label" in ignored


def test_wildcard_and_invalid_addresses_are_flagged_never_written(example_project: Path, tmp_path: Path) -> None:
    events = _events(tmp_path, [
        payloads.violation("v-1", 1, ORDERS, payloads.EXTERNAL, 443, fqdn="*.com"),
        payloads.violation("v-2", 2, ORDERS, payloads.EXTERNAL, 443, fqdn="*.example.com"),
        payloads.violation("v-3", 3, ORDERS, payloads.EXTERNAL, 443, fqdn="bad_host!{{ x }}"),
        payloads.violation("v-4", 4, ORDERS, payloads.EXTERNAL, 443, fqdn="", server_ip="10.0.0.1/{{x}}"),
    ])
    before = tree_bytes(example_project)
    result = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write",
                          "--format", "json")
    assert result.returncode == 1, result.stderr
    assert tree_bytes(example_project) == before
    report = json.loads(result.stdout)
    assert report["proposals"] == []
    reasons = {item["peer_binding"]["address"]: item["reasons"] for item in report["flagged"]}
    assert set(reasons) == {"*.com", "*.example.com", "bad_host!{{ x }}", "10.0.0.1/{{x}}"}
    assert "is a wildcard" in reasons["*.com"][0] and "is a wildcard" in reasons["*.example.com"][0]
    assert "not one NeuVector accepts" in reasons["bad_host!{{ x }}"][0]
    assert "NeuVector would refuse it" in reasons["10.0.0.1/{{x}}"][0]


HIDING = [
    "<!-- ", "<details><summary>ok</summary>", "`", "```", "~~~", "|a|b|\n|---|---|", "\n## Ignored events\n",
    "\n---\n", "<script>alert(1)</script>", "[x](javascript:alert(1))", "![i](http://e/x.png)", "**", "\r\n# H",
    "&lt;!--", "\\", "\u2028", "\x85", "<img src=x onerror=alert(1)>", "http://evil.example/x", "@org/team",
]


def test_event_text_cannot_hide_or_reshape_the_markdown_report(example_project: Path, tmp_path: Path) -> None:
    events = [
        _process(f"i-{n}", f"tool{n}{text}", f"/bin/{text}", parent=SH, cmd=f"run {text} rest")
        for n, text in enumerate(HIDING)
    ] + [payloads.violation(f"v-{n}", 1, ORDERS, ("y", f"bad{text}", "dev"), 80) for n, text in enumerate(HIDING[:3])]
    events += [payloads.violation("v-9", 9, payloads.FRONTEND, ORDERS, 8080)]  # a plain proposal, listed first
    result = run_nvpolicy("-C", str(example_project), "propose", str(_events(tmp_path, events)), "--env", "dev")
    assert result.returncode == 1, result.stderr
    markdown = MarkdownIt("commonmark").enable("table")
    html = markdown.render(result.stdout)
    tokens = markdown.parse(result.stdout)
    # Exactly the report's own structure: its headings, no extra ones, no raw HTML, no table, no link.
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert headings == ["Proposals", "Flagged for review (never written)", "Ignored events"]
    assert not [t for t in tokens if t.type in ("html_block", "table_open", "hr")]
    inline_types = {child.type for t in tokens if t.children for child in t.children}
    assert not inline_types & {"html_inline", "link_open", "image"}
    assert len([t for t in tokens if t.type == "heading_open" and t.tag == "h3"]) == len(HIDING) + 1
    assert len([t for t in tokens if t.type == "fence"]) == len(HIDING) + 1
    ignored = html.split("<h2>Ignored events</h2>", 1)[1]
    assert ignored.count("<li>") == 3 and ignored.count("is not a DNS-1123 name") == 3
    # Every command line is shown whole, as visible text (line breaks spelled as escapes), where it belongs.
    visible = ["".join(child.content for child in t.children or [] if child.type in ("text", "code_inline"))
               for t in tokens if t.type == "inline"]
    for text in HIDING:
        assert f"why flagged: its parent sh is a shell (command: run {printable(text)} rest)" in visible
    assert "&lt;!--" in html and "<!--" not in html and "<details>" not in html


NAME = st.one_of(st.sampled_from(["orders", "redis", "a.b", "x') }}{{ 'y", "../x", "A", "a_b", "{{ env }}", "-a", ""]),
                 st.text(max_size=10))


@settings(max_examples=200, deadline=None)
@given(NAME, NAME, NAME, st.text(max_size=20), st.text(max_size=20))
def test_every_proposal_calls_service_with_exactly_dns_1123_names(client: str, server: str, domain: str,
                                                                  proc: str, path: str) -> None:
    from nvpolicy.learn.events import parse_events
    from nvpolicy.learn.propose import propose
    from nvpolicy.render import _CALL

    raw = [payloads.violation("v-1", 1, ("c", client, "dev"), ("s", server, domain or "dev"), 80),
           payloads.violation("v-2", 2, ("s", server, domain or "dev"), ("c", client, "dev"), 80),
           _process("i-1", proc or "p", path, workload=("w", client, "dev"))]
    result = propose(parse_events([("events.json", json.dumps(raw))]), "dev")
    for proposal in result.proposals + result.flagged:
        assert service_problem(proposal.target) is None
        rule = proposal.source_rule()
        if proposal.section == "process":
            rendered = Renderer(ENVIRONMENT).render(SourceDocument(rule, Marks("x", {})))
            assert rendered is not None and rendered.data == proposal.rule
            continue
        call = _CALL.match(rule["selector"][2:-2])
        assert call is not None, rule["selector"]
        names = [argument[1:-1] for argument in call.groups()[1:] if argument is not None]
        assert service_problem(names[0]) is None and all(namespace_problem(n) is None for n in names[1:])


def test_a_new_policy_file_never_follows_a_link_out_of_policies(example_project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    (example_project / "policies" / "redis.yaml").symlink_to(outside)  # dangling: nothing renders from it
    events = _events(tmp_path, [payloads.violation("v-1", 1, payloads.REDIS, ORDERS, 8080)])
    result = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert result.returncode != 0 and not outside.exists()
    assert "refusing to write a policy for service 'redis'" in result.stderr or "redis.yaml" in result.stderr
