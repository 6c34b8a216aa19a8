"""The self-contained HTML page of ``nvpolicy report``: one environment, no network needed to view it.

Everything is inline (CSS, a few lines of JavaScript, the SVG graph); a Content-Security-Policy forbids
any fetch. Every value from the policy, the events or the diff is escaped: data, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from nvpolicy.flowmodel.expect import Outcome
from nvpolicy.flowmodel.graph import FlowGraph, svg
from nvpolicy.flowmodel.policy import Rule
from nvpolicy.flowmodel.replay import Replay
from nvpolicy.model import Finding

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;
vertical-align:top}th{background:#f4f4f4}tr.fail td,tr.deny td,tr.error td{background:#fde8e8}
tr.pass td{background:#eaf7ea}tr.warning td{background:#fff6dd}code,pre{font:12px ui-monospace,monospace}
pre{background:#f7f7f7;padding:1em;overflow:auto}.graph{overflow:auto;border:1px solid #ddd}
svg .group{fill:#eef3fb;stroke:#3b6db3}svg .outside{fill:#fff4e5;stroke:#c77700}svg text{font-size:12px}
.summary span{margin-right:1.5em}.muted{color:#777}
"""
SCRIPT = """
(function () {
  var graph = document.querySelector('svg.flow-graph');
  var nodes = graph ? graph.querySelectorAll('g.node').length : 0;
  var edges = graph ? graph.querySelectorAll('g.edge').length : 0;
  var box = graph && nodes ? graph.getBBox() : {width: 0, height: 0};
  document.body.setAttribute('data-graph-nodes', String(nodes));
  document.body.setAttribute('data-graph-edges', String(edges));
  document.body.setAttribute('data-graph-width', String(Math.round(box.width)));
  document.getElementById('graph-status').textContent = nodes + ' groups and ' + edges + ' allowed flows drawn';
  var filter = document.getElementById('rule-filter');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#rules tbody tr'));
  filter.addEventListener('input', function () {
    var wanted = filter.value.toLowerCase();
    rows.forEach(function (row) { row.hidden = row.textContent.toLowerCase().indexOf(wanted) < 0; });
  });
  document.body.setAttribute('data-ready', '1');
})();
"""


@dataclass(frozen=True)
class PageData:
    env: str
    mode: str
    graph: FlowGraph
    rules: Sequence[Rule]
    findings: Sequence[Finding]
    outcomes: Sequence[Outcome] | None
    replay: Replay | None
    diff_text: str | None
    base: str | None


def page(data: PageData) -> str:
    title = f"nvpolicy report: {data.env}"
    failed = sum(not o.passed for o in data.outcomes or ())
    errors = sum(f.level == "error" for f in data.findings)
    summary = [f"mode {data.mode}", f"{len(data.rules)} rules", f"{errors} lint errors",
               f"{len(data.findings)} lint findings"]
    if data.outcomes is not None:
        summary.append(f"{len(data.outcomes) - failed}/{len(data.outcomes)} expectations hold")
    if data.replay is not None:
        summary.append(f"{data.replay.counts()['blocked_in_protect']} observed items blocked in Protect")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="summary">' + "".join(f"<span>{escape(s)}</span>" for s in summary) + "</p>",
        '<h2 id="graph">Allowed flows</h2><p id="graph-status" class="muted">the graph needs JavaScript to count '
        'itself; it is drawn without it</p>',
        f'<div class="graph">{svg(data.graph)}</div>',
        _rules(data.rules), _findings(data.findings), _outcomes(data.outcomes), _replay(data.replay),
        _diff(data.diff_text, data.base),
        f"<script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _table(headers: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]], table_id: str = "") -> str:
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f'<tr class="{escape(cls)}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
                   for cls, cells in rows)
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rules(rules: Sequence[Rule]) -> str:
    rows = [(rule.action, [str(rule.position), rule.action, rule.source.name, rule.destination.name,
                           rule.ports_text or "any", ", ".join(rule.applications) or "any", str(rule.priority),
                           rule.name, str(rule.location) + (" (moved last)" if rule.sunk else "")])
            for rule in rules]
    return ('<h2 id="rules-title">Rules, in decision order</h2><p><label>Filter: <input id="rule-filter" '
            'type="search"></label></p>'
            + _table(["#", "action", "from", "to", "ports", "applications", "priority", "name", "source"], rows,
                     "rules"))


def _findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return '<h2>Lint</h2><p class="muted">no findings</p>'
    rows = [(f.level, [f.level, f.rule, f.message, str(f.location)]) for f in findings]
    return "<h2>Lint</h2>" + _table(["level", "rule", "message", "source"], rows)


def _outcomes(outcomes: Sequence[Outcome] | None) -> str:
    if outcomes is None:
        return '<h2>Tests</h2><p class="muted">no expectations (expect/*.yaml)</p>'
    rows = [("pass" if o.passed else "fail",
             ["pass" if o.passed else "FAIL", o.expectation.title(), o.expectation.expected, o.decision.verdict,
              o.decision.decided_by(), "; ".join(o.decision.assumptions + o.decision.unknown)])
            for o in outcomes]
    return "<h2>Tests</h2>" + _table(["result", "expectation", "expected", "verdict", "decided by", "assumes"], rows)


def _replay(result: Replay | None) -> str:
    if result is None:
        return '<h2>Replay</h2><p class="muted">no events given (--events FILE)</p>'
    counts = result.counts()
    rows = [("deny" if i.blocked_in_protect else "pass",
             [i.title, str(i.events), i.now.verdict, i.in_protect.verdict, "; ".join(i.proposals)])
            for i in result.items]
    return (f"<h2>Replay</h2><p>{counts['blocked_in_protect']} of {counts['items']} observed flows and processes "
            f"would be blocked in Protect.</p>"
            + _table(["observed", "events", "now", "in Protect", "proposals that fix it"], rows))


def _diff(text: str | None, base: str | None) -> str:
    if text is None:
        return '<h2>Diff</h2><p class="muted">no --base given</p>'
    return f"<h2>Diff against {escape(base or '')}</h2><pre>{escape(text)}</pre>"
