"""``nvpolicy validate``: NeuVector's import checks, offline, on any NeuVector YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.report import format_option_help, report_formats

ORDER = 20
EXAMPLES = """\
Examples:

  nvpolicy validate rendered/prod

  nvpolicy validate cfgGroupsExport.yaml --format sarif > nvpolicy.sarif

  nvpolicy validate manifests/ --format github

Exit codes: 0 nothing at error level, 1 findings at error level, 2 a file cannot be read.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(validate)


def validate(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="YAML files or directories (searched recursively).",
                                                show_default=False)],
    output_format: Annotated[str, typer.Option("--format", help=format_option_help(),
                                               autocompletion=report_formats)] = "text",
) -> None:
    """Check NeuVector CRs and exports against the CRD schemas and the controller's import checks."""
    from nvpolicy.cli import project_dir
    from nvpolicy.inputs import input_files, load_objects
    from nvpolicy.report import annotate_input_errors, exit_code, import_check_infos, reporter
    from nvpolicy.validate import validate_objects

    project = project_dir(ctx)
    chosen = reporter(output_format)
    with annotate_input_errors(output_format):
        # Like git -C: relative paths are relative to the project directory.
        files = input_files([path if path.is_absolute() else project / path for path in paths])
        objects, findings = load_objects((path, _display(path, project)) for path in files)
    findings = findings + validate_objects(objects)
    typer.echo(chosen.report(findings, import_check_infos()), nl=False)
    raise typer.Exit(exit_code(findings))


def _display(path: Path, project: Path) -> str:
    """Project-relative where possible: SARIF wants URIs relative to the project root."""
    try:
        return path.absolute().relative_to(project).as_posix()
    except ValueError:
        return str(path)
