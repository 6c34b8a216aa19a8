"""Which rules can decide traffic from or to one group, in decision order (``nvpolicy explain``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nvpolicy.environment import Environment
from nvpolicy.flowmodel.decide import Model
from nvpolicy.flowmodel.endpoints import Endpoint, workload
from nvpolicy.flowmodel.policy import Group, Rule


@dataclass(frozen=True)
class Involvement:
    rule: Rule
    side: str  # "from" or "to": where the group stands in the rule
    certain: bool  # False: the rule's group may hold the workload (criteria the model cannot evaluate)
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {**self.rule.as_json(), "side": self.side, "certain": self.certain, "notes": list(self.notes)}


@dataclass(frozen=True)
class Explanation:
    group: str
    endpoint: Endpoint | None
    mode: str | None
    involvements: tuple[Involvement, ...]
    assumptions: tuple[str, ...]

    def as_json(self, env: str) -> dict[str, Any]:
        return {"env": env, "group": self.group, "mode": self.mode,
                "rules": [item.as_json() for item in self.involvements],
                "implicit": implicit_text(self.mode), "assumptions": list(self.assumptions)}


def implicit_text(mode: str | None) -> str:
    if mode is None:
        return "no mode: the workload at the other end decides what no rule matches"
    verdict = {"Discover": "learn", "Monitor": "violation", "Protect": "deny"}[mode]
    return (f"what no rule matches: {verdict} ({mode}); between workloads in different modes, mode contention "
            "decides (ENFORCEMENT.md §3.3)")


def explain(model: Model, environment: Environment, name: str) -> Explanation:
    """``name``: a service of the environment's namespace, a learned group ``nv.<svc>.<ns>`` or any group name."""
    endpoint = _workload_for(name, environment, model)
    assumptions: list[str] = []
    group = endpoint.learned_group if endpoint else name
    mode = model.network_mode(endpoint, assumptions) if endpoint else None
    found: list[Involvement] = []
    for rule in model.policy.rules:
        for side, rule_group in (("from", rule.source), ("to", rule.destination)):
            answer, notes = _involves(rule_group, endpoint, name)
            if answer is not False:
                found.append(Involvement(rule, side, answer is True, notes))
    return Explanation(group, endpoint, mode, tuple(found), tuple(assumptions))


def _workload_for(name: str, environment: Environment, model: Model) -> Endpoint | None:
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "nv" and parts[1] != "ip":
        return workload(".".join(parts[1:-1]), parts[-1])
    if "." not in name and name not in model.policy.groups and name not in ("external", "nodes", "containers"):
        return workload(name, environment.namespace)
    return None


def _involves(group: Group, endpoint: Endpoint | None, name: str) -> tuple[bool | None, tuple[str, ...]]:
    if endpoint is None:
        return group.name == name, ()
    selected = group.selects(endpoint)
    return selected.selected, selected.notes
