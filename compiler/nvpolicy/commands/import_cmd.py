"""``nvpolicy import``: turn NeuVector's learned export from a DEV namespace into the neutral source."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help

ORDER = 60
EXAMPLES = """\
Examples:

  nvpolicy import cfgGroupsExport.yaml --namespace feature-6293 --env-out environments/dev.yaml

  kubectl get nvsecurityrules -n feature-6293 -o yaml | nvpolicy import - --namespace feature-6293

  nvpolicy import export.yaml --namespace feature-6293 --merge --events violations.json

  nvpolicy import export.yaml --namespace feature-6293 --split-sidecars -o /tmp/orders.yaml

  nvpolicy import export.yaml --namespace feature-6293 --env-out environments/dev.yaml --format json
"""


def register(app: typer.Typer) -> None:
    app.command(name="import", epilog=EXAMPLES)(import_export)


def import_export(
    ctx: typer.Context,
    exports: Annotated[list[str], typer.Argument(help="NeuVector export file(s); '-' reads stdin.",
                                                 metavar="EXPORT...")],
    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", help="The namespace NeuVector learned in, lifted to {{ namespace }}. Without it "
        "objects are imported literally.")] = None,
    app_name: Annotated[str | None, typer.Option(
        "--app", help="Write into policies/<NAME>/ (one folder per application).", metavar="NAME")] = None,
    output: Annotated[Path | None, typer.Option(
        "--out", "-o", "--output", help="Write every object into FILE ('-': stdout) instead of one file per "
        "target group.",
        metavar="FILE")] = None,
    policies_dir: Annotated[Path | None, typer.Option(
        "--policies-dir", help="Write the source files into DIR (default: <project>/policies).",
        metavar="DIR")] = None,
    env_out: Annotated[Path | None, typer.Option(
        "--env-out", help="Write (or merge into) the source environment's file: namespace, policy mode, peers.",
        metavar="FILE")] = None,
    merge: Annotated[bool, typer.Option(
        "--merge", help="Merge into existing source: add what is new, report conflicts, keep your edits.")] = False,
    events: Annotated[Path | None, typer.Option(
        "--events", help="NeuVector events (REST JSON or syslog/webhook NDJSON, as propose reads them) or "
        "conversations: lock ports to those observed.",
        metavar="FILE")] = None,
    split_sidecars: Annotated[bool, typer.Option(
        "--split-sidecars", help="Move sidecar processes (envoy, linkerd2-proxy, …) into a group per container."
    )] = False,
    containers: Annotated[Path | None, typer.Option(
        "--containers", help="YAML 'containers: {<container>: [process names]}' for sidecars nvpolicy does not "
        "know (implies --split-sidecars).", metavar="FILE")] = None,
    output_format: Annotated[str, typer.Option(
        "--format", help=choice_help("Output format", SUMMARY_FORMATS) + " json: files written, lifted peers, "
        "environment file, merges and conflicts.", autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
) -> None:
    """Import NeuVector exports as environment-neutral source (one file per target group in policies/)."""
    from nvpolicy._fs import confined, read_stdin
    from nvpolicy.cli import project_dir
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.learn.envfile import merge_environment_text, new_environment_text
    from nvpolicy.learn.exports import read_exports
    from nvpolicy.learn.importer import plan_import
    from nvpolicy.learn.ports import ObservedPorts, read_events
    from nvpolicy.learn.sidecars import read_container_map
    from nvpolicy.learn.writer import WritePlan, plan_files, source_text, write_texts
    from nvpolicy.pipeline import POLICIES_DIR
    from nvpolicy.source import decode, load_file, read_text

    project = project_dir(ctx)
    check_choice("--format", output_format, SUMMARY_FORMATS)
    if output_format == "json" and output is not None and str(output) == "-":
        raise NvPolicyError("-o - and --format json both write to stdout", hint="write the source to a file: -o FILE")
    if output is not None and policies_dir is not None:
        raise NvPolicyError("-o FILE and --policies-dir DIR exclude each other")
    from nvpolicy.learn.literal import label_problem

    if namespace is not None and label_problem(namespace, "--namespace"):
        # It is written into the environment file, which holds literal values: a namespace, never template code.
        raise NvPolicyError(str(label_problem(namespace, "--namespace")), hint="a Kubernetes namespace name")
    if env_out is not None and namespace is None:
        raise NvPolicyError("--env-out needs --namespace: the environment file binds the lifted namespace")
    if app_name is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9_.]*[a-z0-9])?", app_name):
        raise NvPolicyError(f"--app {app_name!r} is not a folder name nvpolicy writes",
                            hint="use lower-case letters, digits, '-', '_' and '.', e.g. --app orders")
    if exports.count("-") > 1:
        raise NvPolicyError("stdin ('-') can be read only once")

    sources = []
    for name in exports:
        if name == "-":
            sources.append(("<stdin>", decode(read_stdin(), "<stdin>")))
        else:
            sources.append((name, read_text(_resolve(project, Path(name)), name)))
    observed: ObservedPorts | None = None
    if events is not None:
        events_path = _resolve(project, events)
        observed = read_events(read_text(events_path, str(events)), str(events))
    declared = None
    if containers is not None:
        documents = load_file(_resolve(project, containers), str(containers))
        declared = read_container_map(documents[0].data if documents else None, str(containers))

    plan = plan_import(read_exports(sources), namespace, observed, split_sidecars or declared is not None, declared)
    report = plan.report
    origin = ", ".join(_origin(name, project) for name in exports)
    scope = f", namespace {namespace} lifted" if namespace else ", imported literally"
    header = f"# Imported by nvpolicy import from {origin}{scope}.\n"

    to_stdout = output is not None and str(output) == "-"
    writes = WritePlan()
    if to_stdout:
        all_objects = [obj for objects in plan.files.values() for obj in objects]
        typer.echo(source_text(all_objects, header), nl=False)
    else:
        if output is not None:
            destination = _resolve(project, output)
            files = {destination: [obj for objects in plan.files.values() for obj in objects]}
            search = [destination]
        else:
            folder = _resolve(project, policies_dir) if policies_dir else project / POLICIES_DIR
            search = [folder]
            # File names come from the export's group names: each must stay inside the folder, with no link
            # on the way (policies/ and --app's folder included; a --policies-dir DIR is the user's own).
            root = folder if policies_dir else project
            if app_name:
                folder = folder / app_name
            files = {confined(root, _confined(folder, name)): objects for name, objects in plan.files.items()}
        writes = plan_files(files, header, merge, search, plan.moved)

    env_text: str | None = None
    if env_out is not None and plan.environment is not None:
        env_path = _resolve(project, env_out)
        if env_path.exists():
            merged_env = merge_environment_text(read_text(env_path, str(env_out)), str(env_out), plan.environment)
            report.merged.extend(merged_env.added)
            report.conflicts.extend(merged_env.conflicts)
            env_text = merged_env.text if merged_env.added else None
        else:
            schema = os.path.relpath(project / "schemas" / "environment.schema.json", env_path.parent)
            env_text = new_environment_text(plan.environment, origin, Path(schema).as_posix())
        if env_text is not None:
            writes.texts[env_path] = env_text

    report.merged.extend(writes.merged)
    report.conflicts.extend(writes.conflicts)
    write_texts(writes.texts)
    report.written.extend(_shown(path, project) for path in writes.texts)
    if output_format == "json":
        import json

        env_file = _shown(_resolve(project, env_out), project) if env_out is not None else None
        shown = {"written": report.written, "env_file": env_file, "env_file_written": env_text is not None,
                 "peers": report.peers, "merged": report.merged, "conflicts": report.conflicts,
                 "imported": report.imported, "skipped": report.skipped}
        typer.echo(json.dumps(shown, indent=2, sort_keys=True))
    else:
        typer.echo(report.render(), err=to_stdout)
    if report.conflicts:
        raise typer.Exit(1)


def _resolve(project: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else project / path


def _confined(folder: Path, name: str) -> Path:
    """``folder/name`` for a file name made from export data: one plain name, resolving inside ``folder``."""
    from nvpolicy.errors import OutputError
    from nvpolicy.learn.literal import printable

    path = folder / name
    if Path(name).name != name or name in ("", ".", "..") or path.resolve().parent != folder.resolve():
        raise OutputError(f"refusing to write {printable(name)!r}: it is not a file directly in {folder}")
    return path


def _origin(name: str, project: Path) -> str:
    """How a header comment names an export: as given when relative, relative to the project when inside
    it, else its base name (no absolute path of the importing machine); printable on one line."""
    from nvpolicy.learn.literal import printable

    if name == "-":
        return "stdin"
    path = Path(name)
    if path.is_absolute() or name.startswith("~"):
        try:
            shown = str(path.expanduser().resolve().relative_to(project.resolve()))
        except (ValueError, OSError, RuntimeError):
            shown = path.name
    else:
        shown = name
    return printable(shown)


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.relative_to(project))
    except ValueError:
        return str(path)
