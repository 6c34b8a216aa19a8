"""``nvpolicy render``: render environments into validated NeuVector CR manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import RENDER_LAYOUTS as FORMATS
from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help, plural
from nvpolicy.commands._checks import ApplyPath

ORDER = 10
EXAMPLES = """\
Examples:

  nvpolicy render --env prod

  nvpolicy render --env dev --set namespace=feature-6293

  nvpolicy render --all --format list --out /tmp/nv

  nvpolicy render --env prod --for rest

  nvpolicy render --env dev --out - | kubectl apply -f -

  nvpolicy render --all --summary json

  nvpolicy render --all --jobs 2 --cache-dir /tmp/nvpolicy-cache
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
        Path | None, typer.Option("--out", "-o", help="Output directory (default rendered/<env>); '-' writes "
                                  "multi-document YAML to stdout and nothing to disk.", metavar="DIR")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help=choice_help("Layout", (*FORMATS, "json")) + " crds: one file per "
                          "object + kustomization.yaml; list: kind: List files for NeuVector's REST import; json: "
                          "the crds layout, and what was written printed as JSON (--summary json).",
                          autocompletion=lambda: [*FORMATS, "json"])
    ] = "crds",
    summary: Annotated[
        str, typer.Option("--summary", help=choice_help("What render prints about what it wrote",
                                                        SUMMARY_FORMATS) + " json: env, target, files, objects.",
                          autocompletion=lambda: list(SUMMARY_FORMATS))
    ] = "text",
    for_path: ApplyPath = "crd",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Processes rendering at once, each a share of the policy "
                          "files of an environment (0: the cores available; 1: this process only).")
    ] = 0,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Render cache (default .nvpolicy-cache/ in the project; "
                                  "safe to delete).", metavar="DIR")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Render every file afresh; read and write no "
                                           "cache.")] = False,
) -> None:
    """Render ENV into rendered/<env>/: validated, deterministic, replaced atomically."""
    from nvpolicy.cli import project_dir
    from nvpolicy.commands._checks import apply_path
    from nvpolicy.emit import StagedTrees
    from nvpolicy.environment import check_environment_name, environment_names
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.pipeline import check_output_target, default_output, layout, render_environment, stream
    from nvpolicy.render_run import (
        CACHE_DIR,
        RenderRequest,
        available_cores,
        commit_caches,
        discard_caches,
        render_outputs,
    )

    project = project_dir(ctx)
    check_choice("--format", output_format, (*FORMATS, "json"))
    check_choice("--summary", summary, SUMMARY_FORMATS)
    if output_format == "json":  # as every other command's --format json: the outcome as JSON
        output_format, summary = "crds", "json"
    to_stdout = out is not None and str(out) == "-"
    if to_stdout and all_envs:
        raise NvPolicyError("--out - takes one environment, --all renders every one",
                            hint="one stream per environment: nvpolicy render --env ENV --out - | kubectl apply -f -")
    if to_stdout and summary == "json":
        raise NvPolicyError("--out - and --summary json both write to stdout", hint="give one of them")
    names = environment_names(project) if all_envs else list(dict.fromkeys(env))
    if not names:
        raise NvPolicyError("name an environment with --env ENV (or --all)",
                            hint=f"environments: {', '.join(environment_names(project)) or 'none found'}")
    if out is not None and len(names) > 1:
        raise NvPolicyError(f"--out {out} takes one environment; with several, each goes to rendered/<env>/")
    for name in names:
        check_environment_name(name)
    # `--format list` is REST import input: it is judged as such, whatever --for says.
    path = "rest" if output_format == "list" else apply_path(for_path)
    if to_stdout:
        rendered = render_environment(project, names[0], overrides, apply_path=path)
        layout(rendered.objects, output_format)  # the same checks as a written tree (no two objects, one file)
        typer.echo(stream(rendered.objects, output_format), nl=False)
        return
    targets = {name: out if out is not None else default_output(project, name) for name in names}
    # Every output target is checked before anything is rendered or written: all or nothing.
    for target in targets.values():
        check_output_target(project, target)
    # Each environment is staged on disk once rendered and checked (its text then freed); the staged
    # trees are swapped in only when every environment succeeded, every environment's errors are
    # reported in one run (as lint --all does), and new cache files move in last: all or nothing.
    cache = None if no_cache else (cache_dir if cache_dir is not None else project / CACHE_DIR)
    request = RenderRequest(project, tuple(overrides), output_format, path, cache)
    staged = StagedTrees()
    try:
        results = render_outputs(request, names, jobs=jobs or available_cores(),
                                 on_ready=lambda name, files: staged.add(targets[name], files))
        try:
            staged.swap_in()
        except NvPolicyError:
            discard_caches(results)
            raise
    finally:
        staged.discard()
    commit_caches(results)
    if summary == "json":
        import json

        shown = [{"env": result.name, "target": _shown(targets[result.name], project), "layout": output_format,
                  "files": list(result.paths), "objects": result.objects} for result in results]
        typer.echo(json.dumps({"environments": shown}, indent=2))
        return
    for result in results:
        typer.echo(f"{result.name}: {plural(result.objects, 'object')} -> {_shown(targets[result.name], project)}/ "
                   f"({plural(len(result.paths), 'file')})")


def _shown(target: Path, project: Path) -> str:
    try:
        return str(target.absolute().relative_to(project))
    except ValueError:
        return str(target)
