"""``nvpolicy push``: import an environment's rendered group policy through the controller's REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from nvpolicy.commands._rest import CREDENTIALS_HELP, CaFile, ControllerUrl, Insecure, Timeout

ORDER = 72
EXAMPLES = f"""\
Examples:

  nvpolicy push --controller https://nv-controller:10443 --env qa

  nvpolicy push --controller https://nv-controller:10443 --env dev --set namespace=feature-6293 --wait 300

{CREDENTIALS_HELP}"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(push)


def push(
    ctx: typer.Context,
    controller: ControllerUrl,
    envs: Annotated[list[str], typer.Option("--env", "-e", help="Environment to render and import (one).",
                                            show_default=False)] = [],  # noqa: B006
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the import to finish.", min=0.0)] = 120.0,
    interval: Annotated[float, typer.Option("--poll-interval", help="Seconds between status checks.",
                                            min=0.0)] = 1.0,
    ca_file: CaFile = None,
    insecure: Insecure = False,
    timeout: Timeout = 30.0,
) -> None:
    """Render ENV as kind: List, POST it to /v1/file/group/config and wait until the import is done."""
    from typing import Any

    from nvpolicy.choices import one_value, plural
    from nvpolicy.cli import project_dir
    from nvpolicy.commands._rest import connect
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.pipeline import layout, render_environment

    # One import per call: the controller's import replaces group policy, so two would race each other.
    env = one_value("--env", envs, "push imports one environment per call")
    if env is None:
        raise NvPolicyError("name the environment to push: --env ENV")
    # push imports through REST: the checks follow that path (no rule-name checks, no priority, …).
    rendered = render_environment(project_dir(ctx), env, overrides, apply_path="rest")
    files = {f.path: f.text for f in layout(rendered.objects, "list")}
    text = files.get("group-policy.yaml")
    if text is None:
        raise NvPolicyError(f"environment {env!r} renders no group policy (no NvSecurityRule, "
                            "NvClusterSecurityRule or NvGroupDefinition) to push")
    skipped = sorted(name for name in files if name != "group-policy.yaml")
    if skipped:
        typer.echo(f"note: push imports group policy only; not pushed: {', '.join(skipped)}", err=True)
    last: list[str] = []

    def progress(status: dict[str, Any]) -> None:
        line = f"import: {status.get('status') or 'waiting'} {status.get('percentage', 0)}%"
        if not last or last[-1] != line:
            typer.echo(line, err=True)
            last.append(line)

    with connect(controller, ca_file, insecure, timeout) as session:
        transaction = session.import_group_policy(text)
        session.wait_for_import(transaction, timeout=wait, interval=interval, progress=progress)
    typer.echo(f"{rendered.environment.name}: {plural(len(rendered.objects), 'object')} imported into {controller}")
