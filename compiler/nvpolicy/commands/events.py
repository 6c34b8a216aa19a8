"""``nvpolicy events``: fetch violations and incidents from a controller, to feed ``propose``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.commands._rest import CREDENTIALS_HELP, CaFile, ControllerUrl, Insecure, Timeout

ORDER = 71
EXAMPLES = f"""\
Examples:

  nvpolicy events --controller https://nv-controller:10443 --since 24h -o events.json

  nvpolicy events --controller https://nv-controller:10443 --since 2026-11-20T00:00:00Z | nvpolicy propose -

{CREDENTIALS_HELP}"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(events)


def events(
    ctx: typer.Context,
    controller: ControllerUrl,
    since: Annotated[str | None, typer.Option("--since", help="Only events reported at or after this: a duration "
                                              "(30m, 24h, 7d) or an ISO 8601 time.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON here (default: stdout).")] = None,
    ca_file: CaFile = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
) -> None:
    """Fetch network violations and incidents as {"violations": [...], "incidents": [...]}."""
    import json
    import time

    from nvpolicy.choices import plural
    from nvpolicy.commands._rest import connect, write_text
    from nvpolicy.learn.events import parse_since, reported_time

    cutoff = parse_since(since, time.time()) if since else None
    with connect(controller, ca_file, insecure, timeout) as session:
        fetched = {"violations": session.violations(), "incidents": session.incidents()}
    if cutoff is not None:
        fetched = {key: [item for item in items if (reported_time(item) or 0) >= cutoff]
                   for key, items in fetched.items()}
    write_text(out, json.dumps(fetched, indent=2, sort_keys=True) + "\n")
    typer.echo(f"{plural(len(fetched['violations']), 'violation')}, {plural(len(fetched['incidents']), 'incident')}"
               + (f" -> {out}" if out else ""), err=True)
