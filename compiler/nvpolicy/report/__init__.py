"""Finding reporters for ``validate`` and ``lint``, chosen by name from :data:`REPORTERS`.

Each reporter turns findings plus the metadata of the rules that ran into one text
(stdout); adding a format is adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

from nvpolicy.model import Finding


@dataclass(frozen=True)
class RuleInfo:
    """What a report says about a rule: SARIF's rule metadata."""

    id: str
    level: str
    description: str
    help: str = ""

    @classmethod
    def of(cls, module: ModuleType, level: str | None = None) -> RuleInfo:
        return cls(module.ID, level or module.LEVEL, module.DESCRIPTION, (module.__doc__ or "").strip())


class Reporter(Protocol):
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str: ...


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.level] = counts.get(finding.level, 0) + 1
    return counts


def reporter(name: str) -> Reporter:
    from nvpolicy.choices import check_choice

    module_name = REPORTERS[check_choice("--format", name, REPORTERS)]
    import importlib

    module = importlib.import_module(f"nvpolicy.report.{module_name}")
    made: Reporter = module.Reporter()
    return made


# Format name -> module in this package defining ``Reporter``.
REPORTERS: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "github": "github",
    "codequality": "codequality",
}


def report_formats() -> list[str]:
    """The --format values of validate and lint (also their shell completion)."""
    return list(REPORTERS)


def format_option_help() -> str:
    from nvpolicy.choices import choice_help

    return choice_help("Output format", REPORTERS)


def combine(name: str, reports: Sequence[tuple[str, str]]) -> str:
    """Several environments' reports in one output: the format's own way, else one section per environment."""
    import importlib

    module = importlib.import_module(f"nvpolicy.report.{REPORTERS[name]}")
    joiner = getattr(module, "combine", None)
    if joiner is not None:
        return str(joiner(reports))
    if name == "text":
        return "".join(f"== {env} ==\n{text}" for env, text in reports)
    return "".join(text for _, text in reports)


def exit_code(findings: Iterable[Finding]) -> int:
    """validate's contract, shared by lint in every format: 1 with any error-level finding, else 0."""
    return 1 if any(finding.level == "error" for finding in findings) else 0


@contextmanager
def annotate_input_errors(output_format: str) -> Iterator[None]:
    """With ``--format github``, input errors (exit 2) also become annotations on stdout; stderr still has them."""
    from nvpolicy.errors import NvPolicyError

    try:
        yield
    except NvPolicyError as error:
        if output_format == "github":
            from nvpolicy.report.github import input_errors

            print(input_errors(error), end="", flush=True)
        raise


def import_check_infos() -> list[RuleInfo]:
    """Metadata of what ``validate`` runs: the schema, the export-quirk warning and every import check."""
    from nvpolicy.inputs import CLUSTER_NAMESPACE_HELP, CLUSTER_NAMESPACE_RULE
    from nvpolicy.rules import IMPORT_CHECKS, load_rules
    from nvpolicy.validate import (
        REST_IMPORT_HELP,
        REST_IMPORT_RULE,
        SCHEMA_RULE,
        SIZE_HELP,
        SIZE_RULE,
        UNKNOWN_FIELD_HELP,
        UNKNOWN_FIELD_RULE,
    )

    infos = [
        RuleInfo(SCHEMA_RULE, "error", "Objects match nvpolicy's strict JSON Schemas of the NeuVector CRDs "
                 "(schemas/*.schema.json): known fields only, allowed values, types."),
        RuleInfo(CLUSTER_NAMESPACE_RULE, "warning", CLUSTER_NAMESPACE_HELP),
        RuleInfo(UNKNOWN_FIELD_RULE, "warning", UNKNOWN_FIELD_HELP),
        RuleInfo(SIZE_RULE, "error", SIZE_HELP),
        RuleInfo(REST_IMPORT_RULE, "error", REST_IMPORT_HELP),
    ]
    return infos + [RuleInfo.of(module) for module in load_rules(IMPORT_CHECKS)]
