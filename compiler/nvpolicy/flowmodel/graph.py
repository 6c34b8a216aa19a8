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
