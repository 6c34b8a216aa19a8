"""``nvpolicy diff``: rule-level, order-aware diffs of rendered policies with an exposure summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import check_choice, choice_help, one_value, plural

ORDER = 40
EXAMPLES = """\
Examples:

  nvpolicy diff --env prod --base origin/main

  nvpolicy diff --env prod --base origin/main --format markdown --out /tmp/comment

  nvpolicy diff --old rendered-before/prod --new rendered/prod --exit-code

  nvpolicy diff --env qa --against-env prod --format json
"""
FORMATS = ("text", "markdown", "json")


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(diff)


def diff(
    ctx: typer.Context,
    envs: Annotated[list[str], typer.Option("--env", "-e", help="Environment to compare (one).",
                                            show_default=False)] = [],  # noqa: B006
    base: Annotated[str | None, typer.Option("--base", help="Compare ENV rendered at this git ref with the "
                                             "working tree.", metavar="GITREF")] = None,
    against_env: Annotated[str | None, typer.Option(
        "--against-env", help="Compare ENV with this environment, its namespace and peers mapped onto ENV's.",
        metavar="ENV")] = None,
    old: Annotated[Path | None, typer.Option("--old", help="A rendered tree (the old side).", metavar="DIR")] = None,
    new: Annotated[Path | None, typer.Option("--new", help="A rendered tree (the new side).", metavar="DIR")] = None,
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value on both sides: key.path=value.")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", FORMATS),
                                               autocompletion=lambda: list(FORMATS))] = "text",
    max_chars: Annotated[int, typer.Option("--max-chars", help="Markdown: most characters per part.")] = 65_000,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the output here (markdown: one "
                                             "numbered file per part) instead of stdout.", metavar="DIR")] = None,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when there are changes, 0 when none.")] = False,
) -> None:
    """Show what a change does to an environment's policy: rule by rule, order-aware, widening first."""
    import os
    import sys

    from nvpolicy.cli import project_dir
    from nvpolicy.diff import diff_objects
    from nvpolicy.errors import NvPolicyError

    check_choice("--format", output_format, FORMATS)
    env = one_value("--env", envs, "diff compares one environment (--against-env names the other side)")
    project = project_dir(ctx)
    modes = [name for name, given in (("--base", base), ("--against-env", against_env),
                                      ("--old/--new", old or new)) if given]
    if len(modes) != 1:
        raise NvPolicyError("choose one comparison: --env ENV --base GITREF, --env A --against-env B, "
                            "or --old DIR --new DIR")
    if old is not None or new is not None:
        if old is None or new is None or env or overrides:
            # --set would silently do nothing: rendered trees take no overrides.
            raise NvPolicyError("--old and --new go together, without --env or --set")
        from nvpolicy.diff.load import load_tree

        before, after = load_tree(old), load_tree(new)
        labels = (str(old), str(new))
    else:
        if not env:
            raise NvPolicyError(f"{modes[0]} needs --env ENV")
        from nvpolicy.pipeline import load_policies, render_environment

        # Renders for a diff stay in memory: rendered/ is never written.
        if base is not None:
            from nvpolicy.diff.load import render_at_ref

            # The working tree first: a mistyped --env is reported as such, not as absent at GITREF.
            after = [o.data for o in render_environment(project, env, overrides).objects]
            at_base = render_at_ref(project, env, base, overrides)
            labels = (f"{env}@{base}", f"{env} (working tree)")
            if at_base is None:
                # A pull request that adds an environment: everything in it is new.
                typer.echo(f"note: environment {env!r} does not exist at {base}; every object is added", err=True)
                labels = (f"{env}@{base} (absent)", labels[1])
            before = [o.data for o in at_base or ()]
        else:
            from nvpolicy.diff.load import map_environment

            assert against_env is not None
            documents = load_policies(project)
            left = render_environment(project, env, overrides, documents)
            right = render_environment(project, against_env, overrides, documents)
            before = [o.data for o in left.objects]
            after = map_environment(right.objects, right.environment, left.environment)
            labels = (env, f"{against_env} (mapped onto {env})")
    result = diff_objects(before, after, *labels)

    outputs: list[tuple[str, str]]
    if output_format == "markdown":
        from nvpolicy.diff.markdown import render_markdown

        parts = render_markdown(result, max_chars)
        # An unchanged environment leaves --out empty, so that CI posts no comment for it.
        unchanged = out is not None and result.empty
        outputs = [] if unchanged else [(f"diff-{i:03d}.md", part) for i, part in enumerate(parts, 1)]
    elif output_format == "json":
        from nvpolicy.diff.json_output import render_json

        outputs = [("diff.json", render_json(result))]
    else:
        from nvpolicy.diff.text import render_text

        colour = out is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        outputs = [("diff.txt", render_text(result, colour))]

    if out is not None:
        _write(out, outputs)
        typer.echo(f"{plural(len(outputs), 'file')} -> {out}/", err=True)
    else:
        typer.echo("\n".join(text for _, text in outputs), nl=False)
    if exit_code and not result.empty:
        raise typer.Exit(1)


def _write(out: Path, outputs: list[tuple[str, str]]) -> None:
    from nvpolicy.emit import OutputFile, replace_directory
    from nvpolicy.errors import OutputError

    # The directory is replaced whole (old parts must not linger); refuse to wipe anything else.
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out}: not a directory")
        strangers = [p.name for p in out.iterdir() if not p.name.startswith("diff")]
        if strangers:
            shown = ", ".join(sorted(strangers)[:3])
            raise OutputError(f"--out {out} holds files nvpolicy diff did not write ({shown})",
                              hint="name an empty or new directory")
    replace_directory(out, [OutputFile(name, text) for name, text in outputs])
