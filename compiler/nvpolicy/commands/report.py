"""``nvpolicy report``: one self-contained HTML page per environment (graph, rules, lint, tests, replay, diff)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

ORDER = 38
EXAMPLES = """\
Examples:

  nvpolicy report --env prod -o nvpolicy-report

  nvpolicy report --all -o nvpolicy-report --base origin/main --events events.json

Open nvpolicy-report/<env>.html in any browser: it needs no network. CI keeps the folder as an artifact.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(report)


def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for <env>.html (replaced whole).",
                                      metavar="DIR", show_default=False)],
    env: Annotated[list[str], typer.Option("--env", "-e", help="Environment (repeatable).")] = [],  # noqa: B006
    every: Annotated[bool, typer.Option("--all", help="Every environment.")] = False,
    base: Annotated[str | None, typer.Option("--base", help="Add the diff against ENV rendered at this git ref.",
                                             metavar="GITREF")] = None,
    events: Annotated[list[Path], typer.Option("--events", help="Event files to replay (as propose reads them; "
                                                "repeatable).", metavar="FILE")] = [],  # noqa: B006
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help="text or json: what is said about the pages "
                                               "written.")] = "text",
) -> None:
    """Write one self-contained HTML page per environment: flow graph, rules, lint, tests, replay and diff."""
    from nvpolicy.cli import project_dir
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.flowmodel.load import chosen_environments

    if output_format not in ("text", "json"):
        raise NvPolicyError(f"--format {output_format!r} is not one of: text, json")
    if len(env) > 1 and every:
        raise NvPolicyError("name environments with --env, or every one with --all, not both")
    project = project_dir(ctx)
    names = sorted(set(env)) if env else chosen_environments(project, None, every)
    texts = _read_events(events)
    pages = {f"{name}.html": _page(project, name, overrides, base, texts) for name in names}
    _write(out, pages)
    summary = {"out": str(out), "pages": sorted(pages)}
    typer.echo(json.dumps(summary, indent=2) if output_format == "json" else
               f"{len(pages)} page(s) -> {out}/: {', '.join(sorted(pages))}")


def _read_events(paths: list[Path]) -> list[tuple[str, str]]:
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.source import read_text

    texts = []
    for path in paths:
        if not path.is_file():
            raise NvPolicyError(f"--events {path}: no such file")
        texts.append((str(path), read_text(path, str(path))))
    return texts


def _page(project: Path, name: str, overrides: list[str], base: str | None, texts: list[tuple[str, str]]) -> str:
    from nvpolicy.flowmodel.expect import load_expectations, run
    from nvpolicy.flowmodel.graph import flow_graph
    from nvpolicy.flowmodel.load import environment_model
    from nvpolicy.lint import lint_environment
    from nvpolicy.report.html_page import PageData, page

    loaded = environment_model(project, name, overrides)
    environment = loaded.rendered.environment
    expectations = load_expectations(project)
    outcomes = run(loaded.model, environment, expectations) if expectations else None
    replayed = None
    if texts:
        from nvpolicy.flowmodel.replay import replay
        from nvpolicy.learn.events import parse_events

        replayed = replay(loaded.model, environment, loaded.rendered.objects, parse_events(texts))
    diff_text = None
    if base is not None:
        from nvpolicy.diff import diff_objects
        from nvpolicy.diff.load import render_at_ref
        from nvpolicy.diff.text import render_text

        at_base = render_at_ref(project, name, base, overrides)
        diff_text = render_text(diff_objects([o.data for o in at_base or ()],
                                             [o.data for o in loaded.rendered.objects], f"{name}@{base}",
                                             f"{name} (working tree)"), False)
    findings = lint_environment(project, name, overrides).findings
    return page(PageData(name, environment.policy_mode, flow_graph(loaded.model), loaded.model.policy.rules,
                         findings, outcomes, replayed, diff_text, base))


def _write(out: Path, pages: dict[str, str]) -> None:
    from nvpolicy.emit import OutputFile, replace_directory
    from nvpolicy.errors import OutputError

    # The directory is replaced whole (a page of a removed environment must not linger): refuse to wipe
    # anything report did not write.
    if out.is_symlink():
        raise OutputError(f"--out {out} is a symbolic link; name a real directory")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out}: not a directory")
        strangers = [p.name for p in out.iterdir() if not p.name.endswith(".html") or p.is_dir()]
        if strangers:
            shown = ", ".join(sorted(strangers)[:3])
            raise OutputError(f"--out {out} holds files nvpolicy report did not write ({shown})",
                              hint="name an empty or new directory")
    replace_directory(out, [OutputFile(name, text) for name, text in sorted(pages.items())])
