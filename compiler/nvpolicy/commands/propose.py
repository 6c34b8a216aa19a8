"""``nvpolicy propose``: turn NeuVector violations and incidents into reviewed rule proposals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nvpolicy.choices import check_choice, choice_help, one_value, plural

if TYPE_CHECKING:
    from nvpolicy.environment import Environment
    from nvpolicy.model import RenderedObject

ORDER = 60
FORMATS = ("markdown", "json")
EXAMPLES = """\
Examples:

  nvpolicy propose events.json --env dev

  nvpolicy events --controller https://nv-controller:10443 --since 24h | nvpolicy propose - --env qa --format json

  nvpolicy propose violations.json incidents.json --env dev --namespace feature-6293 --write

Exit codes: 0 nothing to propose, 1 proposals or flagged items listed (also with --write), 2 bad input.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(propose)


def propose(
    ctx: typer.Context,
    events: Annotated[list[str], typer.Argument(help="Event files (REST JSON or NDJSON); '-' reads stdin.",
                                                metavar="EVENTS...")],
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="The namespace the events were "
                                                  "learned in (default: the environment's).")] = None,
    envs: Annotated[list[str], typer.Option("--env", "-e", help="Skip what this environment already allows; "
                                            "--write binds new peers in its file (one).",
                                            show_default=False)] = [],  # noqa: B006
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    write: Annotated[bool, typer.Option("--write", help="Apply the non-flagged proposals to policies/ and the "
                                        "environment file.")] = False,
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", FORMATS) + " markdown "
                                               "is a review report.", autocompletion=lambda: list(FORMATS))
                             ] = "markdown",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the report to FILE instead of stdout.",
                                             metavar="FILE")] = None,
) -> None:
    """Propose allow rules for what NeuVector reported; flag what looks like an attack."""
    from nvpolicy._fs import read_stdin
    from nvpolicy.cli import project_dir
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.learn.events import parse_events
    from nvpolicy.learn.propose import propose as make_proposals
    from nvpolicy.learn.propose_report import as_json, as_markdown
    from nvpolicy.source import decode, read_text

    check_choice("--format", output_format, FORMATS)
    env = one_value("--env", envs, "events come from one namespace, judged against one environment")
    if write and env is None:
        raise NvPolicyError("--write needs --env ENV (the environment file that binds new peers)")
    project = project_dir(ctx)
    texts = []
    for name in events:
        if name == "-":
            texts.append(("<stdin>", decode(read_stdin(), "<stdin>")))
        else:
            # Bounded and regular files only: a FIFO or /dev/zero is refused, never waited on.
            texts.append((name, read_text(Path(name), name)))
    parsed = parse_events(texts)

    environment: Environment | None = None
    rendered: Sequence[RenderedObject] = ()
    files: dict[str, str] = {}
    if env is not None:
        from nvpolicy.pipeline import render_environment

        result_env = render_environment(project, env, overrides)
        environment, rendered = result_env.environment, result_env.objects
        files = _policy_files(rendered)
    lifted = namespace or (environment.namespace if environment else None)
    if lifted is None:
        raise NvPolicyError("name the namespace the events come from: --namespace NS (or --env ENV)")
    from nvpolicy.learn.literal import label_problem

    if label_problem(lifted, "--namespace"):
        raise NvPolicyError(str(label_problem(lifted, "--namespace")), hint="a Kubernetes namespace name")
    result = make_proposals(parsed, lifted, environment=environment, rendered=rendered)
    report = as_json(result, files) if output_format == "json" else as_markdown(result, files, env, lifted)
    from nvpolicy.commands._rest import write_text

    write_text(out, report)
    if write and result.proposals:
        from nvpolicy.learn.propose_write import write_proposals

        assert environment is not None
        written = write_proposals(project, environment, rendered, result.proposals, overrides)
        changed = ", ".join(written.changed) or "no file"
        typer.echo(f"wrote {plural(len(result.proposals), 'proposal')} to {changed}; "
                   f"{plural(len(result.flagged), 'flagged item')} not written", err=True)
        from nvpolicy.learn.literal import printable

        for conflict in written.conflicts:  # quotes rule names and paths from events: one printable line
            typer.echo(f"conflict: {printable(conflict)}", err=True)
        for missing in written.unbound_elsewhere:
            typer.echo(f"note: new peer {missing} do not bind it yet and will not render until they do", err=True)
    if result.proposals or result.flagged:
        raise typer.Exit(1)


def _policy_files(rendered: Sequence[RenderedObject]) -> dict[str, str]:
    """The source file of each learned group's policy (``nv.<service>.<ns>`` target) by service."""
    files: dict[str, str] = {}
    for obj in rendered:
        if obj.id.kind != "NvSecurityRule":
            continue
        name = str(obj.data.get("spec", {}).get("target", {}).get("selector", {}).get("name", ""))
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "nv":
            files.setdefault(parts[1], obj.source.file)
    return files
