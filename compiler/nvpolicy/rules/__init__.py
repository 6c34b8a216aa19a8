"""The controller's import checks and the environment guardrails, one module per rule.

A rule module defines ``ID`` (kebab-case), ``LEVEL`` (its default: error, warning or info),
``DESCRIPTION`` (one line, used as SARIF help text) and ``check(objects, context)`` yielding
:class:`Hit` values; its docstring carries a PASS and a FAIL example. Adding a rule is adding
a module and naming it in ``IMPORT_CHECKS`` or ``GUARDRAILS``. A rule that compares objects
with each other sets ``CROSS_OBJECT = True``; the others also run, best effort, on objects that
failed the schema so that their more specific finding replaces the schema's. Modules whose name
starts with ``_`` are helpers.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Protocol

from nvpolicy.model import Finding, Path, RenderedObject
from nvpolicy.rules._walk import Walk

# Import checks: what NeuVector's controller rejects. `render` refuses output that fails any of them.
IMPORT_CHECKS: tuple[str, ...] = (
    "metadata_name",
    "group_name",
    "federation",
    "reserved_group",
    "learned_group",
    "target_domain",
    "custom_criteria",
    "criteria_op",
    "criteria_wildcard",
    "address_criteria",
    "address_dlp_waf",
    "sensor_settings",
    "ports",
    "applications",
    "rule_names",
    "priority",
    "process_path",
    "process_deny_all",
    "file_rules",
    "file_nodes",
    "nodes_baseline",
    "policy_mode",
    "group_definition",
    "name_referral",
    "group_consistency",
    "duplicate_object",
    # The other kinds and response rules (NeuVector's facts in nvpolicy.nv).
    "admission_name",
    "admission_rule",
    "admission_criteria",
    "admission_empty_value",
    "admission_default_rule",
    "admission_rule_id",
    "federal_name",
    "sensor_name",
    "sensor_predefined",
    "sensor_builtin_override",
    "sensor_rules",
    "sensor_pattern",
    "profile_name",
    "compliance_entry",
    "compliance_benchmark",
    "vulnerability_entry",
    "response_rule",
    "response_webhook",
)
# Environment guardrails: only `lint` runs them, configured per environment (`lint:` in the env file).
GUARDRAILS: tuple[str, ...] = (
    "guard_policy_mode",
    "guard_any_ports",
    "guard_leak",
    "guard_namespace",
    "guard_sidecar",
    "guard_shadowed_rule",
    "guard_shell_tools",
    "guard_mode_contention",
    "guard_unreachable_when",
)
RULE_MODULES: tuple[str, ...] = IMPORT_CHECKS + GUARDRAILS


@dataclass(frozen=True)
class Hit:
    """What a rule reports; the runner adds the level and turns the path into a source location."""

    obj: RenderedObject
    path: Path
    message: str
    hint: str | None = None
    level: str | None = None  # what NeuVector does decides it: a rule may report errors and warnings


@dataclass(frozen=True)
class CheckSettings:
    """What the checks need to know about where the objects go, beyond the objects themselves.

    ``apply_path``: ``crd`` (kubectl/GitOps: the webhook and the asynchronous parser) or ``rest``
    (``POST /v1/file/group/config``: no rule-name checks, no priority, S9 on referrals, all or nothing).
    ``ours``: the source is this project's (render, lint), so a field the API server would prune is an
    error; in ``validate`` (anyone's files) it is a warning, as NeuVector never sees it.
    """

    apply_path: str = "crd"
    ours: bool = False
    controller_namespace: str = "neuvector"  # G1: the controller pod's namespace (Rancher: cattle-neuvector-system)
    federation_primary: bool = False  # S4/S5: fed.* rules are refused except on a federation primary


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know beyond the objects: the rule's options and, for lint, the environment."""

    options: Mapping[str, Any] = field(default_factory=dict)
    environment: Any = None
    walk: Walk | None = None  # the run's walks over the objects, shared by its rules
    settings: CheckSettings = field(default_factory=CheckSettings)


class RuleModule(Protocol):
    ID: str
    LEVEL: str
    DESCRIPTION: str

    def check(self, objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]: ...


@cache
def load_rules(names: tuple[str, ...] = RULE_MODULES) -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"nvpolicy.rules.{name}") for name in names)


def run_rules(
    objects: Sequence[RenderedObject],
    rules: Iterable[ModuleType],
    *,
    levels: Mapping[str, str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    environment: Any = None,
    settings: CheckSettings | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    walk = Walk(objects)
    for rule in rules:
        configured = (levels or {}).get(rule.ID)
        if configured == "off":
            continue
        context = RuleContext((options or {}).get(rule.ID, {}), environment, walk, settings or CheckSettings())
        for hit in rule.check(objects, context):
            level = configured or hit.level or rule.LEVEL
            findings.append(
                Finding(hit.obj.locate(hit.path), level, hit.message, rule.ID, hit.obj.id, hit.path, hit.hint)
            )
    return findings


def says(check: str, text: str | None = None) -> str:
    """The tail of a finding's message: the check id and, where it has one, NeuVector's own error text."""
    return f" [{check}]" if text is None else f" [{check}; NeuVector: \"{text}\"]"
