"""The flows a rendered environment allows, as a graph: groups as nodes, allow rules as edges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nvpolicy.flowmodel.decide import Model
from nvpolicy.flowmodel.policy import Group, Rule


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: str  # workload | external | address | nodes | containers | service-ip | unknown
    mode: str | None
    addresses: tuple[str, ...]

    def label(self) -> str:
        return f"{self.name} ({', '.join(self.addresses)})" if self.addresses else self.name

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "mode": self.mode,
                "addresses": list(self.addresses)}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    rule: Rule

    def label(self) -> str:
        apps = "/".join(self.rule.applications)
        return f"{self.rule.ports_text or 'any'}{' ' + apps if apps else ''}"

    def as_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "ports": self.rule.ports_text or "any",
                "applications": list(self.rule.applications) or ["any"], "rule": self.rule.name,
                "object": str(self.rule.object_id), "location": str(self.rule.location)}


@dataclass(frozen=True)
class FlowGraph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def as_json(self, env: str) -> dict[str, Any]:
        return {"env": env, "nodes": [n.as_json() for n in self.nodes], "edges": [e.as_json() for e in self.edges]}


def flow_graph(model: Model) -> FlowGraph:
    """Every allow rule as an edge, in decision order; deny rules are not drawn (they allow nothing)."""
    nodes: dict[str, Node] = {}

    def node(group: Group) -> str:
        if group.name not in nodes:
            addresses = tuple(str(c.get("value")) for c in group.criteria if c.get("key") == "address")
            nodes[group.name] = Node(f"n{len(nodes)}", group.name, group.kind, model.policy.mode_of(group.name),
                                     addresses)
        return nodes[group.name].id

    edges = [Edge(node(rule.source), node(rule.destination), rule) for rule in model.policy.rules
             if rule.action == "allow"]
    return FlowGraph(tuple(nodes.values()), tuple(edges))


def mermaid(graph: FlowGraph) -> str:
    lines = ["flowchart LR"]
    for node in graph.nodes:
        shape = ('(["', '"])') if node.kind in ("external", "address") else ('["', '"]')
        lines.append(f"  {node.id}{shape[0]}{_mermaid_text(node.label())}{shape[1]}")
    for edge in graph.edges:
        lines.append(f'  {edge.source} -->|"{_mermaid_text(edge.label())}"| {edge.target}')
    return "\n".join(lines) + "\n"


def dot(graph: FlowGraph) -> str:
    lines = ["digraph allowed_flows {", "  rankdir=LR;", "  node [shape=box];"]
    for node in graph.nodes:
        shape = ", shape=ellipse" if node.kind in ("external", "address") else ""
        lines.append(f"  {node.id} [label={_dot_text(node.label())}{shape}];")
    for edge in graph.edges:
        lines.append(f"  {edge.source} -> {edge.target} [label={_dot_text(edge.label())}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Names are data: Mermaid's entity codes keep quotes, brackets and pipes from ending the label."""
    table = {'"': "#quot;", "|": "#124;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;", "\n": " "}
    return "".join(table.get(ch, ch) for ch in text)


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


# --- SVG (for the self-contained HTML report: no script or network needed to draw it) -----------------
_NODE_W, _NODE_H, _COL, _ROW, _PAD = 280, 44, 470, 76, 20


def _layers(graph: FlowGraph) -> dict[str, int]:
    """Columns by longest path from the nodes nothing flows into; a cycle stops growing after N rounds."""
    layer = {node.id: 0 for node in graph.nodes}
    for _ in range(len(graph.nodes)):
        changed = False
        for edge in graph.edges:
            if edge.source != edge.target and layer[edge.target] < layer[edge.source] + 1:
                layer[edge.target] = layer[edge.source] + 1
                changed = True
        if not changed:
            break
    return layer


def svg(graph: FlowGraph) -> str:
    from html import escape

    layer = _layers(graph)
    rows: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for node in graph.nodes:
        column = min(layer[node.id], len(graph.nodes))
        place[node.id] = (_PAD + column * _COL, _PAD + rows.get(column, 0) * _ROW)
        rows[column] = rows.get(column, 0) + 1
    width = _PAD * 2 + (max(rows) if rows else 0) * _COL + _NODE_W
    height = _PAD * 2 + max(rows.values(), default=1) * _ROW
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="allowed flows">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    for number, edge in enumerate(graph.edges):
        (x1, y1), (x2, y2) = place[edge.source], place[edge.target]
        start = (x1 + _NODE_W, y1 + _NODE_H // 2)
        end = (x2, y2 + _NODE_H // 2)
        bend = 60 + 12 * (number % 4)
        path = (f"M {start[0]} {start[1]} C {start[0] + bend} {start[1]}, {end[0] - bend} {end[1]}, "
                f"{end[0]} {end[1]}")
        parts.append(f'<g class="edge" data-rule="{escape(edge.rule.name)}"><path d="{path}" fill="none" '
                     f'stroke="#555" marker-end="url(#arrow)"/><text x="{(start[0] + end[0]) // 2}" '
                     f'y="{(start[1] + end[1]) // 2 - 6}" text-anchor="middle">{escape(edge.label())}</text></g>')
    for node in graph.nodes:
        x, y = place[node.id]
        outside = node.kind in ("external", "address")
        shape = (f'<rect x="{x}" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="{22 if outside else 4}" '
                 f'class="{"outside" if outside else "group"}"/>')
        text = escape(node.label() if len(node.label()) <= 40 else node.label()[:39] + "…")
        parts.append(f'<g class="node" data-group="{escape(node.name)}"><title>{escape(node.label())}</title>{shape}'
                     f'<text x="{x + _NODE_W // 2}" y="{y + _NODE_H // 2 + 5}" text-anchor="middle">{text}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
