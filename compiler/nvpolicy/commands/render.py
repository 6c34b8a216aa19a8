"""``nvpolicy render``: render environments into validated NeuVector CR manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.commands._checks import ApplyPath

ORDER = 10
EXAMPLES = """\
Examples:

  nvpolicy render --env prod

  nvpolicy render --env dev --set namespace=feature-6293

  nvpolicy render --all --format list --out /tmp/nv

  nvpolicy render --env prod --for rest
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(render)


def render(
    ctx: typer.Context,
    env: Annotated[list[str], typer.Option("--env", "-e", help="Environment to render (repeatable).")] = [],  # noqa: B006
    all_envs: Annotated[bool, typer.Option("--all", help="Render every environments/*.yaml.")] = False,
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default rendered/<env>).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="crds: one file per object + kustomization.yaml; list: kind: List "
                          "files for NeuVector's REST import.")
    ] = "crds",
    for_path: ApplyPath = "crd",
) -> None:
    """Render ENV into rendered/<env>/: validated, deterministic, replaced atomically."""
    from nvpolicy.cli import project_dir
    from nvpolicy.commands._checks import apply_path
    from nvpolicy.environment import check_environment_name, environment_names
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.pipeline import (
        FORMATS,
        check_output_target,
        default_output,
        layout,
        load_policies,
        render_environment,
        write_outputs,
    )

    project = project_dir(ctx)
    names = environment_names(project) if all_envs else list(dict.fromkeys(env))
    if not names:
        raise NvPolicyError("name an environment with --env ENV (or --all)",
                            hint=f"environments: {', '.join(environment_names(project)) or 'none found'}")
    if output_format not in FORMATS:
        raise NvPolicyError(f"--format {output_format!r} is not one of: {', '.join(FORMATS)}")
    if out is not None and len(names) > 1:
        raise NvPolicyError("--out takes one environment; with several, each goes to rendered/<env>/")
    for name in names:
        check_environment_name(name)
    targets = {name: out if out is not None else default_output(project, name) for name in names}
    # Every output target is checked before anything is rendered or written: all or nothing.
    for target in targets.values():
        check_output_target(project, target)
    # `--format list` is REST import input: it is judged as such, whatever --for says.
    path = "rest" if output_format == "list" else apply_path(for_path)
    documents = load_policies(project)
    # Render and check every environment before writing any, so a failure leaves all outputs as they were.
    results = []
    for name in names:
        rendered = render_environment(project, name, overrides, documents, apply_path=path)
        results.append((rendered, layout(rendered.objects, output_format), targets[name]))
    write_outputs([(target, files) for _, files, target in results])
    for rendered, files, target in results:
        shown = _shown(target, project)
        count = len(rendered.objects)
        typer.echo(f"{rendered.environment.name}: {count} object{'s' * (count != 1)} -> {shown}/ ({len(files)} files)")


def _shown(target: Path, project: Path) -> str:
    try:
        return str(target.absolute().relative_to(project))
    except ValueError:
        return str(target)
