"""``propose --write``: apply proposals to policies/ and bind new peers in the environment file.

The import feature's merge does the editing (``merge.merge_into_text``, ``envfile.merge_environment_text``),
so the same rules hold: comments and hand edits are kept, a rule already present is not added twice,
and a differing rule is a conflict that keeps the existing text. Everything is computed first; the
environment is then rendered from the written files, and on failure every file is put back.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nvpolicy._fs import confined, crash_point, read_bytes, write_all_atomic, write_atomic
from nvpolicy.environment import ENVIRONMENTS_DIR, Environment
from nvpolicy.errors import NvPolicyError, OutputError
from nvpolicy.learn.literal import printable, service_call, service_problem
from nvpolicy.learn.propose import Proposal
from nvpolicy.model import API_VERSION, RenderedObject
from nvpolicy.pipeline import POLICIES_DIR
from nvpolicy.source import read_text


@dataclass
class WriteResult:
    changed: list[str] = field(default_factory=list)  # project-relative files
    conflicts: list[str] = field(default_factory=list)
    unbound_elsewhere: list[str] = field(default_factory=list)  # "peer: env, env" that other envs must bind


def write_proposals(project: Path, environment: Environment, rendered: Sequence[RenderedObject],
                    proposals: Sequence[Proposal], overrides: Sequence[str] = ()) -> WriteResult:
    from nvpolicy.learn.envfile import merge_environment_text
    from nvpolicy.learn.merge import merge_into_text

    result = WriteResult()
    existing = _existing_policies(rendered)
    texts: dict[str, str] = {}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for target, items in _by_target(proposals).items():
        found = existing.get(target)
        if found is not None:
            file, kind, name = found
            obj: dict[str, Any] = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": {}}
        else:
            file = _new_policy_file(project, target)
            obj = _new_policy(target)
        for proposal in items:
            obj["spec"].setdefault(proposal.section, []).append(proposal.source_rule())
        by_file.setdefault(file, []).append(obj)
    for file, objects in sorted(by_file.items()):
        # A service name from an event (`../../x`) never becomes a path outside policies/.
        path = confined(project / POLICIES_DIR, project / file)
        if path.exists():
            merged, _ = merge_into_text(read_text(path, file, follow_symlinks=False), file, objects)
            result.conflicts.extend(merged.conflicts)
            if merged.changed:
                texts[file] = merged.text
        else:
            from nvpolicy.emit import dump_all

            texts[file] = "# Written by nvpolicy propose --write; review before merging.\n" + dump_all(objects)
    bindings = {}
    for proposal in proposals:
        binding = proposal.binding()
        if binding is not None and binding[0] not in environment.peers:
            bindings[binding[0]] = binding[1]
    if bindings:
        env_file = f"{ENVIRONMENTS_DIR}/{environment.name}.yaml"
        env_path = confined(project / ENVIRONMENTS_DIR, project / env_file)
        merged_env = merge_environment_text(read_text(env_path, env_file, follow_symlinks=False), env_file,
                                            {"peers": bindings})
        result.conflicts.extend(merged_env.conflicts)
        if merged_env.added:
            texts[env_file] = merged_env.text
        result.unbound_elsewhere = _unbound_elsewhere(project, environment.name, sorted(bindings))
    _write_checked(project, environment.name, overrides, texts)
    result.changed = sorted(texts)
    return result


def _by_target(proposals: Sequence[Proposal]) -> dict[str, list[Proposal]]:
    grouped: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        grouped.setdefault(proposal.target, []).append(proposal)
    return grouped


def _existing_policies(rendered: Sequence[RenderedObject]) -> dict[str, tuple[str, str, str]]:
    """service → (source file, kind, source text of metadata.name) of the policy targeting ``nv.<svc>.<ns>``."""
    found: dict[str, tuple[str, str, str]] = {}
    for obj in rendered:
        if obj.id.kind not in ("NvSecurityRule", "NvClusterSecurityRule"):
            continue
        name = str(obj.data.get("spec", {}).get("target", {}).get("selector", {}).get("name", ""))
        parts = name.split(".")
        source_name = (obj.source.data.get("metadata") or {}).get("name")
        if len(parts) == 3 and parts[0] == "nv" and isinstance(source_name, str):
            found.setdefault(parts[1], (obj.source.file, obj.id.kind, source_name))
    return found


def _new_policy(service: str) -> dict[str, Any]:
    selector = service_call(service)  # refuses a name that is not DNS-1123 before it is spliced anywhere
    return {
        "apiVersion": API_VERSION,
        "kind": "NvSecurityRule",
        "metadata": {"name": f"nv.{service}.{{{{ namespace }}}}", "namespace": "{{ namespace }}"},
        "spec": {"target": {"policymode": "{{ policy_mode }}", "selector": selector}},
    }


def _new_policy_file(project: Path, service: str) -> str:
    """``policies/<service>.yaml``, checked to stay a file directly in policies/ whatever the name holds.

    Service names reach here DNS-1123-checked (no '/', no '..'); resolving both sides also catches a
    policies/ entry that is a symlink out of the project."""
    file = f"{POLICIES_DIR}/{service}.yaml"
    problem = service_problem(service)
    folder = (project / POLICIES_DIR).resolve()
    if problem is None and (project / file).resolve().parent != folder:
        problem = f"{file} resolves outside {POLICIES_DIR}/"
    if problem:
        raise OutputError(f"refusing to write a policy for service {printable(service)!r}: {problem}")
    return file


def _unbound_elsewhere(project: Path, env: str, peers: Sequence[str]) -> list[str]:
    """Other environments that do not bind a new peer yet: they will not render until someone does."""
    from nvpolicy.environment import environment_names, load_environment

    missing: dict[str, list[str]] = {}
    for name in environment_names(project):
        if name == env:
            continue
        try:
            other = load_environment(project, name)
        except NvPolicyError:
            continue
        for peer in peers:
            if peer not in other.peers:
                missing.setdefault(peer, []).append(name)
    return [f"{peer}: {', '.join(names)}" for peer, names in sorted(missing.items())]


def _write_checked(project: Path, env: str, overrides: Sequence[str], texts: dict[str, str]) -> None:
    """Write every file, render the environment from them, and put everything back if that fails.

    The rollback also runs when the run is stopped: SIGTERM (a CI job cancelled, ``timeout``) is
    turned into SystemExit while the files are out, so the same ``except`` puts them back.
    """
    from nvpolicy.pipeline import render_environment

    paths = {file: project / file for file in texts}
    originals = {file: read_bytes(path, file, follow_symlinks=False) if os.path.lexists(path) else None
                 for file, path in paths.items()}
    previous = _stop_on_sigterm()
    try:
        write_all_atomic({paths[file]: text for file, text in texts.items()})
        crash_point("proposals-written")
        render_environment(project, env, overrides)
    except BaseException as error:
        _restore(paths, originals)
        if isinstance(error, NvPolicyError) and not isinstance(error, OutputError):
            raise NvPolicyError(f"with the proposals written, environment {env!r} would not render, so nothing "
                                f"was written:\n{error.format_message()}") from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _restore(paths: dict[str, Path], originals: dict[str, bytes | None]) -> None:
    # Shielded from a second SIGTERM: a half-done rollback would be worse than a late exit.
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for file, data in originals.items():
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(paths[file])
        else:
            write_atomic(paths[file], data)


def _stop_on_sigterm() -> Any:
    """Make SIGTERM raise SystemExit(143) (128 + SIGTERM, what a shell reports); the old handler to restore."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: signals cannot be handled here
        return None
