"""``nvpolicy replay``: observed traffic decided by the rendered policy — what Protect would block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help
from nvpolicy.commands._rest import CREDENTIALS_HELP, CaFile, Insecure, Timeout

if TYPE_CHECKING:
    from nvpolicy.flowmodel.replay import Replay

ORDER = 37
EXAMPLES = f"""\
Examples:

  nvpolicy replay --env qa events.json

  nvpolicy events --controller https://nv-controller:10443 --since 7d | nvpolicy replay --env qa -

  nvpolicy replay --env qa --controller https://nv-controller:10443 --format json

Exit codes: 0 nothing observed would be blocked in Protect, 1 something would, 2 bad input.

{CREDENTIALS_HELP}"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(replay)


def replay(
    ctx: typer.Context,
    events: Annotated[list[str] | None, typer.Argument(help="Event files as propose reads them (REST JSON or "
                                                       "NDJSON); '-' reads stdin.", metavar="EVENTS...")] = None,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose policy decides.",
                                     show_default=False)] = "",
    controller: Annotated[str | None, typer.Option("--controller", help="Fetch the events from this controller "
                                                   "instead of files (default without files: $NVPOLICY_CONTROLLER).",
                                                   metavar="URL")] = None,
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", SUMMARY_FORMATS),
                                               autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
    ca_file: CaFile = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
) -> None:
    """Decide every observed flow and process by ENV's policy: would it be blocked if ENV ran in Protect?"""
    import sys

    from nvpolicy.cli import project_dir
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.flowmodel.load import environment_model
    from nvpolicy.flowmodel.replay import replay as run_replay
    from nvpolicy.learn.events import parse_events
    from nvpolicy.source import read_text

    check_choice("--format", output_format, SUMMARY_FORMATS)
    if not events and not controller:
        import os

        from nvpolicy.commands._rest import CONTROLLER_ENV

        # Files win: the variable stands in for --controller only when nothing else names the events.
        controller = os.environ.get(CONTROLLER_ENV) or None
    if not env:
        raise NvPolicyError("name the environment whose policy decides: --env ENV")
    if bool(events) == bool(controller):
        raise NvPolicyError("give event files (or '-'), or --controller URL, not both")
    texts: list[tuple[str, str]] = []
    if controller:
        from nvpolicy.commands._rest import connect

        with connect(controller, ca_file, insecure, timeout) as session:
            fetched = {"violations": session.violations(), "incidents": session.incidents()}
        texts.append((controller, json.dumps(fetched)))
    for name in events or []:
        if name == "-":
            texts.append(("<stdin>", sys.stdin.read()))
            continue
        path = Path(name)
        if not path.is_file():
            raise NvPolicyError(f"{name}: no such file")
        texts.append((name, read_text(path, name)))
    parsed = parse_events(texts)
    loaded = environment_model(project_dir(ctx), env, overrides)
    result = run_replay(loaded.model, loaded.rendered.environment, loaded.rendered.objects, parsed)
    if output_format == "json":
        typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(as_text(result), nl=False)
    raise typer.Exit(1 if result.counts()["blocked_in_protect"] else 0)


def as_text(result: Replay) -> str:
    counts = result.counts()
    lines = [f"Protect readiness of {result.env}: {counts['blocked_in_protect']} of {counts['items']} observed flows "
             f"and processes ({counts['blocked_events']} of {counts['events']} events) would be blocked in Protect"
             + (f"; {counts['undetermined']} undetermined" if counts["undetermined"] else "")]
    for item in result.items:
        mark = "BLOCKED" if item.blocked_in_protect else item.in_protect.verdict.upper()
        lines.append(f"{mark:<12} {item.title} ({item.events} events) — now: {item.now.verdict}, "
                     f"decided by {item.in_protect.decided_by()}")
        lines += [f"    fix: {proposal}" for proposal in item.proposals]
        lines += [f"    unknown: {text}" for text in item.in_protect.unknown]
    return "\n".join(lines) + "\n"
