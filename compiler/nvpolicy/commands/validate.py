"""``nvpolicy validate``: NeuVector's import checks, offline, on any NeuVector YAML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nvpolicy.commands._checks import ApplyPath
from nvpolicy.report import format_option_help, report_formats

if TYPE_CHECKING:
    from nvpolicy.model import Finding

ORDER = 20
EXAMPLES = """\
Examples:

  nvpolicy validate rendered/prod

  nvpolicy validate cfgGroupsExport.yaml --format sarif > nvpolicy.sarif

  nvpolicy validate manifests/ --format github

  nvpolicy validate group-policy.yaml --for rest --controller-namespace cattle-neuvector-system

Levels: error (NeuVector refuses, deletes or does not apply it), warning (it renames, ignores or prunes
something), info (a note: it depends on the cluster's state). Messages end in the check id, e.g. [S36].
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
    for_path: ApplyPath = "crd",
    controller_namespace: Annotated[str, typer.Option(
        "--controller-namespace", help="Namespace of the NeuVector controller, where NvGroupDefinitions live "
                                       "(Rancher: cattle-neuvector-system).")] = "neuvector",
    federation_primary: Annotated[bool, typer.Option(
        "--federation-primary", help="The target cluster is a federation primary: fed.* rules are accepted.")] = False,
) -> None:
    """Check NeuVector CRs and exports against the CRD schemas and the controller's import checks."""
    from nvpolicy.choices import plural
    from nvpolicy.cli import project_dir
    from nvpolicy.commands._checks import apply_path
    from nvpolicy.inputs import NoObjectsError, input_files, load_objects
    from nvpolicy.report import annotate_input_errors, exit_code, import_check_infos, reporter
    from nvpolicy.rules import CheckSettings
    from nvpolicy.validate import validate_objects

    project = project_dir(ctx)
    chosen = reporter(output_format)
    # Anyone's files: a field the API server prunes is a warning here (ours=False), an error in render.
    settings = CheckSettings(apply_path(for_path), False, controller_namespace, federation_primary)
    with annotate_input_errors(output_format):
        # Like git -C: relative paths are relative to the project directory.
        files = input_files([path if path.is_absolute() else project / path for path in paths])
        # On the REST path the text is read as the import reads it: blank, tab-only and comment lines dropped.
        from nvpolicy.nv.rest_import import as_read

        reader = as_read if settings.apply_path == "rest" else None
        objects, findings = load_objects(((path, _display(path, project)) for path in files), reader)
        if not objects and not findings:
            raise NoObjectsError(_nothing_found(paths, [_display(path, project) for path in files]),
                                 hint="name rendered output (rendered/ENV), CRs or a NeuVector export")
        if settings.apply_path == "rest":
            findings += _rest_import(files, project)
    findings = findings + validate_objects(objects, settings)
    typer.echo(chosen.report(findings, import_check_infos()), nl=False)
    if output_format == "text":
        typer.echo(f"checked {plural(len(files), 'file')}, {plural(len(objects), 'NeuVector object')}")
    raise typer.Exit(exit_code(findings))


def _rest_import(files: list[Path], project: Path) -> list[Finding]:
    """X3 on the group-policy files: the ones holding NvSecurityRule, NvClusterSecurityRule or NvGroupDefinition."""
    from nvpolicy.source import read_text
    from nvpolicy.validate import rest_import_findings

    findings: list[Finding] = []
    for path in files:
        display = _display(path, project)
        text = read_text(path, display)
        if any(kind in text for kind in ("NvSecurityRule", "NvClusterSecurityRule", "NvGroupDefinition")):
            findings += rest_import_findings(text, display)
    return findings


def _nothing_found(paths: list[Path], shown: list[str]) -> str:
    named = ", ".join(str(path) for path in paths)
    if not shown:
        return f"no NeuVector object in {named}: no *.yaml or *.yml file there"
    listed = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    from nvpolicy.choices import plural

    return f"no NeuVector object in {named}: looked at {plural(len(shown), 'file')} ({listed})"


def _display(path: Path, project: Path) -> str:
    """Project-relative where possible: SARIF wants URIs relative to the project root."""
    try:
        return path.absolute().relative_to(project).as_posix()
    except ValueError:
        return str(path)
