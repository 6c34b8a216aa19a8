"""``nvpolicy lint``: render environments without writing; import checks plus each environment's guardrails."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.commands._checks import ApplyPath
from nvpolicy.report import format_option_help, report_formats

ORDER = 30
EXAMPLES = """\
Examples:

  nvpolicy lint --env prod

  nvpolicy lint --all

  nvpolicy lint --env dev --set namespace=feature-6293

  nvpolicy lint --env qa --format sarif -o reports/qa.sarif

  nvpolicy lint --all --format codequality -o gl-code-quality-report.json

  nvpolicy lint --env prod --for rest

Exit codes: 0 nothing at error level, 1 findings at error level, 2 input errors.
Configure the guardrails in environments/<env>.yaml under production: and lint:.
With several environments (--all or --env repeated) every environment is linted in one run: text
shows one section per environment, json {"environments": {...}}, sarif one run per environment
(each with its own code-scanning category nvpolicy/<env>/), codequality one list.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(lint)


def lint(
    ctx: typer.Context,
    env: Annotated[list[str], typer.Option("--env", "-e", help="Environment to lint (repeatable).",
                                           show_default=False)] = [],  # noqa: B006
    all_envs: Annotated[bool, typer.Option("--all", help="Lint every environment (nvpolicy envs).")] = False,
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help=format_option_help(),
                                               autocompletion=report_formats)] = "text",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the report to FILE (only when linting "
                                             "ran: nothing is written on exit 2).", metavar="FILE")] = None,
    for_path: ApplyPath = "crd",
) -> None:
    """Check what each environment renders to: NeuVector's import checks and its guardrails."""
    from nvpolicy.cli import project_dir
    from nvpolicy.commands._checks import apply_path
    from nvpolicy.environment import environment_names
    from nvpolicy.errors import ErrorGroup, NvPolicyError
    from nvpolicy.lint import lint_environment
    from nvpolicy.report import RuleInfo, annotate_input_errors, combine, exit_code, import_check_infos, reporter

    project = project_dir(ctx)
    if all_envs and env:
        raise NvPolicyError("--all and --env exclude each other", hint="give one of them")
    names = environment_names(project) if all_envs else list(dict.fromkeys(env))
    if not names:
        raise NvPolicyError("no environment to lint" if all_envs else "give --env ENV (repeatable) or --all",
                            hint=None if not all_envs else "add environments/<env>.yaml")
    chosen = reporter(output_format)
    reports: list[tuple[str, str]] = []
    errors: list[NvPolicyError] = []
    worst = 0
    with annotate_input_errors(output_format):
        for name in names:
            try:
                result = lint_environment(project, name, overrides, apply_path=apply_path(for_path))
            except NvPolicyError as error:  # every environment's input errors in one run
                errors.append(error)
                continue
            infos = import_check_infos() + [RuleInfo.of(rule, result.levels.get(rule.ID))
                                            for rule in result.guardrails]
            reports.append((name, chosen.report(result.findings, infos, name)))
            worst = max(worst, exit_code(result.findings))
        if errors:
            raise errors[0] if len(errors) == 1 else ErrorGroup(errors)
    text = reports[0][1] if len(reports) == 1 else combine(output_format, reports)
    if out is None:
        typer.echo(text, nl=False)
    else:
        from nvpolicy.scaffolding import PlannedFile, write

        write(out.parent, [PlannedFile(out.name, text.encode())], force=True)
    raise typer.Exit(worst)
