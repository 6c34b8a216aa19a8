"""A Mermaid flowchart of an environment's allowed flows, the edges this change touches highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nvpolicy.diff.exposure import combine
from nvpolicy.diff.model import DiffResult, dig, mappings
from nvpolicy.model import ObjectId

_STYLE = {"widens": "stroke:#d73a49,stroke-width:3px", "narrows": "stroke:#2da44e,stroke-width:3px",
          "neutral": "stroke:#bf8700,stroke-width:3px"}
Edge = tuple[str, str]  # (from group, to group)


def _flows(state: Mapping[ObjectId, Mapping[str, Any]]) -> dict[Edge, list[str]]:
    """Allowed flows by (source, destination) group, each with its port labels."""
    flows: dict[Edge, list[str]] = {}
    for object_id in sorted(state):
        spec = state[object_id].get("spec")
        target = dig(spec, "target", "selector", "name")
        if object_id.kind not in ("NvSecurityRule", "NvClusterSecurityRule") or not isinstance(target, str):
            continue
        for direction in ("ingress", "egress"):
            for rule in mappings(dig(spec, direction)):
                peer = dig(rule, "selector", "name")
                if rule.get("action") != "allow" or not isinstance(peer, str):
                    continue
                edge = (peer, target) if direction == "ingress" else (target, peer)
                flows.setdefault(edge, []).append(str(rule.get("ports") or "any"))
    return flows


def _touched(result: DiffResult) -> dict[Edge, str]:
    """Edges that some change record is about, with the strongest exposure among them."""
    found: dict[Edge, list[str]] = {}
    for obj in result.objects:
        state = result.new_state.get(obj.id) or result.old_state.get(obj.old_id or obj.id) or {}
        target = dig(state, "spec", "target", "selector", "name")
        for change in obj.changes:
            rule = change.after if change.after is not None else change.before
            if change.section not in ("ingress", "egress") or not isinstance(rule, Mapping) or not target:
                continue
            peer = str(dig(rule, "selector", "name"))
            edge = (peer, str(target)) if change.section == "ingress" else (str(target), peer)
            found.setdefault(edge, []).append(change.exposure)
    return {edge: combine(values) for edge, values in found.items()}


def flowchart(result: DiffResult) -> str:
    new_flows, old_flows = _flows(result.new_state), _flows(result.old_state)
    touched = _touched(result)
    nodes: dict[str, str] = {}

    def node(name: str) -> str:
        if name not in nodes:
            nodes[name] = f"g{len(nodes)}"
        return nodes[name]

    edges: list[str] = []
    styles: list[str] = []
    for edge in sorted(new_flows.keys() | old_flows.keys()):
        source, destination = node(edge[0]), node(edge[1])
        if edge in new_flows:
            label = ", ".join(sorted(set(new_flows[edge])))
            edges.append(f'  {source} -->|"{_quote(label)}"| {destination}')
        else:
            edges.append(f'  {source} -.->|"removed"| {destination}')
        if edge in touched:
            styles.append(f"  linkStyle {len(edges) - 1} {_STYLE[touched[edge]]}")
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'  {ident}["{_quote(name)}"]' for name, ident in nodes.items()]
    lines += edges + styles + ["```"]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")
