"""``nvpolicy explain`` and ``nvpolicy graph``: which rules touch a group; the allowed flows as a graph."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help

ORDER = 36
EXPLAIN_EXAMPLES = """\
Examples:

  nvpolicy explain --env prod orders

  nvpolicy explain --env qa nv.postgres.qa-db --format json
"""
GRAPH_EXAMPLES = """\
Examples:

  nvpolicy graph --env prod                  # Mermaid, for a README or a pull request

  nvpolicy graph --env prod --format dot | dot -Tsvg > prod.svg

  nvpolicy graph --env qa --format json
"""
GRAPH_FORMATS = ("mermaid", "dot", "json")


def register(app: typer.Typer) -> None:
    app.command(epilog=EXPLAIN_EXAMPLES)(explain)
    app.command(epilog=GRAPH_EXAMPLES)(graph)


def explain(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="A service of ENV's namespace, a group nv.<svc>.<ns>, or any group "
                                              "name (an address group, external, nodes).")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment.", show_default=False)],
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", SUMMARY_FORMATS),
                                               autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
) -> None:
    """List, in decision order, every rule that can decide traffic from or to GROUP, with its source line."""
    from nvpolicy.cli import project_dir
    from nvpolicy.flowmodel.explain import explain as make
    from nvpolicy.flowmodel.explain import implicit_text
    from nvpolicy.flowmodel.load import environment_model

    if output_format not in ("text", "json"):
        check_choice("--format", output_format, SUMMARY_FORMATS)
    loaded = environment_model(project_dir(ctx), env, overrides)
    result = make(loaded.model, loaded.rendered.environment, group)
    if output_format == "json":
        typer.echo(json.dumps(result.as_json(env), indent=2, ensure_ascii=False))
        return
    lines = [f"{result.group} in {env}" + (f" ({result.mode})" if result.mode else "")
             + f": {len(result.involvements)} rules, in decision order"]
    for item in result.involvements:
        rule = item.rule
        other = rule.destination.name if item.side == "from" else rule.source.name
        arrow = f"→ {other}" if item.side == "from" else f"← {other}"
        apps = f" {'/'.join(rule.applications)}" if rule.applications else ""
        flags = "".join([" [moved last: host-related deny]" if rule.sunk else "",
                         "" if item.certain else " [may apply: " + "; ".join(item.notes) + "]"])
        lines.append(f"  {rule.position:>4}. {rule.action:<5} {arrow} {rule.ports_text or 'any'}{apps} "
                     f"(priority {rule.priority}) {rule.name}  {rule.location}{flags}")
    lines.append(f"  then: {implicit_text(result.mode)}")
    lines += [f"  assumes: {text}" for text in result.assumptions]
    typer.echo("\n".join(lines))


def graph(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment.", show_default=False)],
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", GRAPH_FORMATS),
                                               autocompletion=lambda: list(GRAPH_FORMATS))] = "mermaid",
) -> None:
    """Draw the flows ENV's policy allows: groups (with external addresses), edges with ports and applications."""
    from nvpolicy.cli import project_dir
    from nvpolicy.flowmodel.graph import dot, flow_graph, mermaid
    from nvpolicy.flowmodel.load import environment_model

    if output_format not in GRAPH_FORMATS:
        check_choice("--format", output_format, GRAPH_FORMATS)
    loaded = environment_model(project_dir(ctx), env, overrides)
    drawn = flow_graph(loaded.model)
    if output_format == "json":
        typer.echo(json.dumps(drawn.as_json(env), indent=2, ensure_ascii=False))
    else:
        typer.echo(mermaid(drawn) if output_format == "mermaid" else dot(drawn), nl=False)
