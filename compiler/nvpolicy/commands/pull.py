"""``nvpolicy pull``: export group policy from a controller (``POST /v1/file/group``), to feed ``import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import check_choice, choice_help, plural
from nvpolicy.commands._rest import CREDENTIALS_HELP, CaFile, ControllerUrl, Insecure, Timeout

ORDER = 70
# The modes POST /v1/file/group accepts as policy_mode (NeuVector's share.PolicyMode*).
POLICY_MODES = ("Discover", "Monitor", "Protect")
EXAMPLES = f"""\
Examples:

  nvpolicy pull --controller https://nv-controller:10443 --group nv.orders.feature-6293 -o export.yaml

  nvpolicy pull --controller https://nv-controller:10443 --ca-file ca.pem --group nv.orders.dev --group nv.postgres.dev

{CREDENTIALS_HELP}"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(pull)


def pull(
    ctx: typer.Context,
    controller: ControllerUrl,
    groups: Annotated[list[str], typer.Option("--group", "-g", help="Group to export (repeatable).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML here (default: stdout).")] = None,
    name_referral: Annotated[bool, typer.Option("--use-name-referral", help="Export group definitions separately "
                                                "(NeuVector 5.4.3+).")] = False,
    policy_mode: Annotated[str | None, typer.Option("--policy-mode", help=choice_help(
        "Override the exported policy mode", POLICY_MODES), autocompletion=lambda: list(POLICY_MODES))] = None,
    ca_file: CaFile = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
) -> None:
    """Export the named groups' policy as NeuVector's kind: List YAML."""
    from nvpolicy.commands._rest import connect, write_text
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.nvapi import ControllerError
    from nvpolicy.source import load_text

    if policy_mode is not None:
        check_choice("--policy-mode", policy_mode, POLICY_MODES)
    with connect(controller, ca_file, insecure, timeout) as session:
        text = session.export_groups(groups, use_name_referral=name_referral, policy_mode=policy_mode)
    try:
        documents = load_text(text, "export")
    except NvPolicyError:
        raise ControllerError("POST /v1/file/group: the controller's answer is not YAML") from None
    if not documents or not all(isinstance(d.data, dict) and d.data.get("kind") == "List" for d in documents):
        raise ControllerError("POST /v1/file/group: the controller's answer is not a kind: List export")
    write_text(out, text)
    count = sum(len(d.data.get("items") or []) for d in documents)
    typer.echo(f"pulled {plural(count, 'object')} for {plural(len(groups), 'group')}" + (f" -> {out}" if out else ""),
               err=True)
