"""``lint``: render one environment without writing, then the import checks and the environment's guardrails.

Configuration comes from the environment file's ``production:`` and ``lint:`` keys (see
schemas/environment.schema.json); waivers drop a finding until their expiry date has passed.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from nvpolicy.environment import Environment, environment_names, load_environment
from nvpolicy.errors import EnvironmentFileError, NvPolicyError
from nvpolicy.model import Finding, RenderedObject, SourceDocument

LEAK_RULE = "environment-leak"
UNREACHABLE_RULE = "unreachable-when"


@dataclass(frozen=True)
class LintResult:
    environment: Environment
    findings: tuple[Finding, ...]
    guardrails: tuple[ModuleType, ...]
    levels: Mapping[str, str]


def lint_environment(
    project: Path, env_name: str, overrides: Iterable[str] = (), *, today: datetime.date | None = None,
    apply_path: str = "crd",
) -> LintResult:
    from nvpolicy.pipeline import check_settings, load_policies, render_environment
    from nvpolicy.rules import GUARDRAILS, load_rules, run_rules
    from nvpolicy.validate import validate_objects

    overrides = list(overrides)
    documents = load_policies(project)
    rendered = render_environment(project, env_name, overrides, documents, check=False)
    environment = rendered.environment
    guardrails = load_rules(GUARDRAILS)
    levels, options = _configuration(environment, guardrails)
    options[LEAK_RULE] = {**options.get(LEAK_RULE, {}),
                          "foreign": foreign_values(project, environment)}
    if levels.get(UNREACHABLE_RULE) != "off":
        options[UNREACHABLE_RULE] = {**options.get(UNREACHABLE_RULE, {}),
                                     **when_inputs(project, environment, documents)}
    findings = validate_objects(rendered.objects, check_settings(environment, apply_path))
    findings += run_rules(rendered.objects, guardrails, levels=levels, options=options, environment=environment)
    kept = apply_waivers(findings, environment, today or datetime.datetime.now(datetime.timezone.utc).date())
    return LintResult(environment, tuple(kept), guardrails, levels)


def _configuration(
    environment: Environment, guardrails: Sequence[ModuleType],
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    known = {rule.ID for rule in guardrails}
    levels: dict[str, str] = {}
    options: dict[str, dict[str, Any]] = {}
    for rule_id, settings in (environment.lint.get("rules") or {}).items():
        _known_rule(environment, rule_id, known, ("lint", "rules", rule_id))
        if "level" in settings:
            # YAML 1.1 reads an unquoted `off` as false.
            levels[rule_id] = "off" if settings["level"] is False else settings["level"]
        options[rule_id] = dict(settings.get("options") or {})
    for index, waiver in enumerate(environment.lint.get("waivers") or []):
        _known_rule(environment, waiver["rule"], known, ("lint", "waivers", index, "rule"))
        _date(environment, waiver)  # a bad date is an error now, not when the waiver first matches
    return levels, options


def _known_rule(environment: Environment, rule_id: str, known: set[str], path: tuple[str | int, ...]) -> None:
    if rule_id in known:
        return
    from nvpolicy.rules import IMPORT_CHECKS, load_rules

    if rule_id in {rule.ID for rule in load_rules(IMPORT_CHECKS)}:
        raise EnvironmentFileError(f"{rule_id!r} is an import check: render enforces it, lint cannot relax it",
                                   location=environment.locate(path), path=path)
    close = difflib.get_close_matches(rule_id, sorted(known), n=1)
    raise EnvironmentFileError(f"unknown lint rule {rule_id!r}", location=environment.locate(path), path=path,
                               hint=f"did you mean {close[0]!r}?" if close else f"rules: {', '.join(sorted(known))}")


def when_inputs(project: Path, environment: Environment, documents: Sequence[SourceDocument]) -> dict[str, Any]:
    """The unreachable-when rule's inputs: the policy documents that have a ``when:`` and every environment
    of the project (this one as linted, with its --set overrides; the others as their files say).

    When a sibling environment cannot be loaded the rule gets no documents: its own lint reports the
    problem, and a false "never rendered" would mislead.
    """
    from nvpolicy.render import WHEN_KEY

    guarded = [RenderedObject(doc.data, doc) for doc in documents
               if isinstance(doc.data, dict) and WHEN_KEY in doc.data]
    environments = [environment]
    for name in environment_names(project) if guarded else ():
        if name == environment.name:
            continue
        try:
            environments.append(load_environment(project, name))
        except NvPolicyError:
            return {"documents": [], "environments": environments}
    return {"documents": guarded, "environments": environments}


def foreign_values(project: Path, environment: Environment) -> dict[str, str]:
    """Values another environment file binds and this one does not: namespaces, addresses, group names, and
    the string vars that both files set, to different values (``registry: dev.example.com`` vs ``prod…``).

    A var only the other file sets is left out: this environment's policies cannot use it, and its value
    (``team: orders``) is often a word of every environment's output.
    """
    own = _values(environment)
    own_vars = dict(_string_vars(environment.vars))
    foreign: dict[str, str] = {}
    for name in environment_names(project):
        if name == environment.name:
            continue
        try:
            other = load_environment(project, name)
        except NvPolicyError:
            continue  # a broken sibling is its own lint's problem, not this environment's
        values = _values(other) | {value for key, value in _string_vars(other.vars)
                                   if key in own_vars and own_vars[key] != value}
        for value in sorted(values - own - set(own_vars.values())):
            foreign.setdefault(value, f"environments/{name}.yaml")
    return foreign


def _values(environment: Environment) -> set[str]:
    values = {environment.namespace}
    for peer in environment.peers.values():
        values.update(v for v in (peer.namespace, peer.address, peer.group) if v)
    return values


def _string_vars(value: Any, key: str = "") -> Iterable[tuple[str, str]]:
    """(dotted key, value) of every string in vars; short ones ('a', 'on') would match by accident."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _string_vars(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, str) and len(value) >= 3:
        yield key, value


def apply_waivers(findings: Iterable[Finding], environment: Environment, today: datetime.date) -> list[Finding]:
    waivers = list(environment.lint.get("waivers") or [])
    kept: list[Finding] = []
    for finding in findings:
        waiver = next((w for w in waivers if _matches(w, finding)), None)
        if waiver is None:
            kept.append(finding)
            continue
        expires = _date(environment, waiver)
        if expires is not None and today > expires:
            kept.append(replace(finding, message=f"{finding.message} (waiver expired on {expires}: "
                                                 f"{waiver['reason']})"))
    return kept


def _matches(waiver: Mapping[str, Any], finding: Finding) -> bool:
    if waiver["rule"] != finding.rule:
        return False
    wanted = waiver.get("object")
    return wanted is None or (finding.object_id is not None
                              and wanted in (finding.object_id.name, str(finding.object_id)))


def _date(environment: Environment, waiver: Mapping[str, Any]) -> datetime.date | None:
    text = waiver.get("expires")
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        index = list(environment.lint.get("waivers") or []).index(waiver)
        path = ("lint", "waivers", index, "expires")
        raise EnvironmentFileError(f"waiver expiry {text!r} is not a date", location=environment.locate(path),
                                   path=path, hint="write YYYY-MM-DD") from None
