"""``nvpolicy publish``: render one environment and commit it into a directory of a deploy repo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help

ORDER = 50
EXAMPLES = """\
Examples:

  nvpolicy publish --env prod --repo ../deploy

  nvpolicy publish --env qa --repo ../deploy --dir clusters/eu/qa --push

  nvpolicy publish --env prod --repo ../deploy --branch main --push upstream --message "Release 2026.11"

  nvpolicy publish --env prod --repo ../deploy --format json
"""


def register(app: typer.Typer) -> None:
    # `--push [REMOTE]`: typer has no option with an optional value, so REMOTE arrives as the one extra argument.
    app.command(epilog=EXAMPLES, context_settings={"allow_extra_args": True})(publish)


def publish(
    ctx: typer.Context,
    envs: Annotated[list[str], typer.Option("--env", "-e", help="Environment to render and publish (one).",
                                            show_default=False)],
    repo: Annotated[Path, typer.Option("--repo", help="The deploy repo: a git work tree.", metavar="PATH")],
    subdir: Annotated[
        str | None, typer.Option("--dir", help="Directory in the deploy repo that publish owns (default: ENV).",
                                 metavar="SUBDIR")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Subject line of the commit (the body always says "
                                 "env, source commit and changes).")
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch to commit to; must be checked out (or the repo empty).",
                                 metavar="NAME")
    ] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the branch afterwards: --push [REMOTE] (default: "
                                       "--remote, else origin).")] = False,
    remote: Annotated[
        str | None, typer.Option("--remote", help="The remote --push pushes to (same as --push REMOTE).",
                                 metavar="REMOTE")
    ] = None,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Publish from a policy project with uncommitted changes.")
    ] = False,
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    no_gate: Annotated[bool, typer.Option("--no-gate", help="Publish even when lint has errors or an expectation "
                                          "fails; needs --reason, recorded in the commit.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the gate is overridden (with --no-gate).",
                                               metavar="TEXT")] = None,
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", SUMMARY_FORMATS)
                                               + " json: env, commit, branch, deploy dir, changed files.",
                                               autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
) -> None:
    """Render ENV into PATH/SUBDIR of a deploy repo and commit it; no commit when nothing changed.

    Gated: refused (exit 1, the deploy repo untouched) when lint has errors or an expectation in
    expect/*.yaml fails for ENV, unless --no-gate --reason TEXT.
    """
    from nvpolicy.choices import one_value
    from nvpolicy.cli import project_dir
    from nvpolicy.publish.run import PublishRequest
    from nvpolicy.publish.run import publish as run_publish

    check_choice("--format", output_format, SUMMARY_FORMATS)

    project = project_dir(ctx)
    _check_gate_options(no_gate, reason)
    # One environment per commit: --dir and the commit message are about one environment.
    env = one_value("--env", envs, "publish commits one environment into one directory per call")
    assert env is not None  # --env is required by the option itself
    request = PublishRequest(project, env, repo.expanduser(), subdir, message, branch,
                             _push_remote(push, remote, ctx.args), allow_dirty, tuple(overrides),
                             lambda: _gate(project, env, overrides, reason if no_gate else None))
    result = run_publish(request)
    for note in result.recovered:
        typer.echo(f"note: {note}", err=True)
    if output_format == "json":
        import json

        shown = {"env": result.env, "commit": result.commit, "branch": result.branch, "repo": str(repo),
                 "directory": result.directory, "files": result.files, "pushed": result.pushed,
                 "source": {"commit": result.source.commit, "branch": result.source.branch,
                            "dirty": result.source.dirty}}
        typer.echo(json.dumps(shown, indent=2))
        return
    where = f"{repo}/{result.directory}/"
    if result.commit is None:
        typer.echo(f"{result.env}: no changes; {where} already matches, nothing committed")
    else:
        assert result.counts is not None
        typer.echo(f"{result.env}: committed {result.commit} on {result.branch} in {repo} "
                   f"({result.counts.summary()}) -> {where}")
    if result.pushed:
        typer.echo(f"{result.env}: {result.pushed}")


def _check_gate_options(no_gate: bool, reason: str | None) -> None:
    from nvpolicy.errors import NvPolicyError

    if reason is not None and not no_gate:
        raise NvPolicyError("--reason goes with --no-gate", hint="drop --reason, or add --no-gate")
    if no_gate and not (reason and reason.strip()):
        raise NvPolicyError("--no-gate needs --reason TEXT: the commit records why the gate was overridden")


def _gate(project: Path, env: str, overrides: list[str], reason: str | None) -> str | None:
    """Lint and the expectations; the reason to record when the gate is overridden (``reason`` given)."""
    from nvpolicy.errors import GateError
    from nvpolicy.flowmodel.gate import check_gate

    result = check_gate(project, env, overrides)
    if result.passed:
        return None
    problems = result.problems()
    if reason is not None:
        typer.echo(f"warning: publishing {env} past its gate ({len(problems)} problems): {reason}", err=True)
        return reason
    shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
    raise GateError(f"publish {env} refused by the gate; the deploy repo is untouched:\n  {shown}",
                    hint=f"fix them (nvpolicy lint --env {env}; nvpolicy test --env {env}), or override with "
                         "--no-gate --reason TEXT")


def _push_remote(push: bool, remote: str | None, extra: list[str]) -> str | None:
    """The remote to push to (None: no push) from `--push [REMOTE]` and `--remote REMOTE`."""
    from nvpolicy.errors import NvPolicyError

    if extra and not push:
        raise NvPolicyError(f"unexpected argument {extra[0]!r}: publish takes options only",
                            hint=f"to push to the remote {extra[0]}: --push {extra[0]}")
    if len(extra) > 1:
        raise NvPolicyError(f"--push takes one REMOTE, got {' '.join(extra)}", hint="e.g. --push origin")
    named = extra[0] if extra else None
    if named and remote and named != remote:
        raise NvPolicyError(f"--push {named} and --remote {remote} name different remotes",
                            hint="name the remote once: --push REMOTE")
    if remote and not push:
        raise NvPolicyError(f"--remote {remote} without --push: nothing would be pushed",
                            hint=f"add --push (or write --push {remote})")
    return (named or remote or "origin") if push else None
