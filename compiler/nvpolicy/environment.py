"""Environment files: ``extends`` chains, deep merge, ``--set`` overrides, schema checks, peer bindings."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nvpolicy.errors import EnvironmentFileError
from nvpolicy.model import Location, SourceDocument
from nvpolicy.model import Path as KeyPath
from nvpolicy.source import load_file, load_text

ENVIRONMENTS_DIR = "environments"
ENV_NAME = re.compile(r"^_?[A-Za-z0-9][A-Za-z0-9_-]*$")
# It names environments/<name>.yaml and rendered/<name>/: far below the file system's 255-byte limit.
MAX_ENV_NAME = 100
# Files named `_<name>.yaml` are partials: other environments extend them; they never render alone.
PARTIAL_PREFIX = "_"
_TEMPLATE_MARKERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class PeerBinding:
    """How one environment binds a peer: an in-cluster service or an external address."""

    name: str
    service: str | None = None
    namespace: str | None = None
    address: str | None = None
    group: str | None = None
    port: int | None = None

    @property
    def external(self) -> bool:
        return self.address is not None

    def as_context(self) -> dict[str, Any]:
        """What ``peers.<name>`` shows a placeholder: the binding's own fields."""
        fields = ("service", "namespace", "address", "group", "port")
        return {key: getattr(self, key) for key in fields if getattr(self, key) is not None}


@dataclass(frozen=True)
class Environment:
    name: str
    namespace: str
    policy_mode: str
    peers: Mapping[str, PeerBinding]
    vars: Mapping[str, Any]
    data: Mapping[str, Any]
    files: tuple[SourceDocument, ...] = field(default=(), compare=False)
    production: bool = False
    lint: Mapping[str, Any] = field(default_factory=dict)

    def locate(self, path: Sequence[str | int]) -> Location:
        """The file and line a merged value came from: the most derived file that sets it."""
        for document in reversed(self.files):
            if _has_path(document.data, path):
                return document.locate(path)
        return self.files[-1].locate(()) if self.files else Location(f"{ENVIRONMENTS_DIR}/{self.name}.yaml")


def environment_names(project: Path) -> list[str]:
    folder = project / ENVIRONMENTS_DIR
    if not folder.is_dir():
        return []
    return sorted(
        path.stem for path in folder.glob("*.yaml")
        if ENV_NAME.match(path.stem) and not path.stem.startswith(PARTIAL_PREFIX)
    )


def _partial_names(project: Path) -> list[str]:
    folder = project / ENVIRONMENTS_DIR
    return sorted(path.stem for path in folder.glob(f"{PARTIAL_PREFIX}*.yaml") if ENV_NAME.match(path.stem))


def load_environment(project: Path, name: str, overrides: Iterable[str] = ()) -> Environment:
    """Read ``environments/<name>.yaml`` with its parents, apply ``--set`` overrides, validate."""
    if name.startswith(PARTIAL_PREFIX):
        raise EnvironmentFileError(f"{name!r} is a partial environment (its name starts with '_')",
                                   location=Location(f"{ENVIRONMENTS_DIR}/{name}.yaml"),
                                   hint="partials are extended by other environments and never rendered alone")
    chain = _load_chain(project, name)
    merged: dict[str, Any] = {}
    for document in chain:
        merged = merge(merged, {k: v for k, v in document.data.items() if k != "extends"})
    override_docs = [_apply_override(merged, text) for text in overrides]
    files = (*chain, *override_docs)
    return _build(name, merged, files)


def merge(base: Mapping[str, Any], top: Mapping[str, Any], path: KeyPath = ()) -> dict[str, Any]:
    """Deep-merge ``top`` over ``base``: mappings key by key, everything else replaced.

    A peer binding is replaced whole, so one entry can switch a peer from in-cluster to external.
    """
    result = dict(base)
    for key, value in top.items():
        below = result.get(key)
        whole = len(path) == 1 and path[0] == "peers"
        if isinstance(value, Mapping) and isinstance(below, Mapping) and not whole:
            result[key] = merge(below, value, (*path, key))
        else:
            result[key] = value
    return result


def _load_chain(project: Path, name: str) -> list[SourceDocument]:
    chain: list[SourceDocument] = []
    seen: list[str] = []
    current: str | None = name
    referrer: Location | None = None
    while current is not None:
        if current in seen:
            cycle = " -> ".join([*seen, current])
            raise EnvironmentFileError(f"'extends' makes a cycle: {cycle}", location=referrer,
                                       hint="remove one 'extends' so the chain ends")
        seen.append(current)
        document = _read_environment_file(project, current, referrer)
        chain.append(document)
        parent = document.data.get("extends")
        if parent is not None and not isinstance(parent, str):
            raise EnvironmentFileError("'extends' must be the name of another environment",
                                       location=document.locate(("extends",)), path=("extends",))
        referrer = document.locate(("extends",))
        current = parent
    chain.reverse()
    return chain


def check_environment_name(name: str, referrer: Location | None = None) -> None:
    """An environment name is a plain name, never a path: it names a file and an output folder."""
    if len(name) > MAX_ENV_NAME:
        raise EnvironmentFileError(f"environment name {name[:40]!r}… is {len(name):,} characters long, "
                                   f"more than {MAX_ENV_NAME}", location=referrer,
                                   hint="an environment name becomes a file and a folder name; keep it short")
    if not ENV_NAME.match(name):
        raise EnvironmentFileError(f"{_shown(name)} is not a valid environment name", location=referrer,
                                   hint="environment names are letters, digits, '-' and '_'")


def _read_environment_file(project: Path, name: str, referrer: Location | None) -> SourceDocument:
    folder = project / ENVIRONMENTS_DIR
    check_environment_name(name, referrer)
    path = folder / f"{name}.yaml"
    display = f"{ENVIRONMENTS_DIR}/{name}.yaml"
    if folder.is_symlink():
        raise EnvironmentFileError("is a symlink; nvpolicy reads the project's own folder only",
                                   location=Location(ENVIRONMENTS_DIR),
                                   hint="replace the link with the folder itself")
    if not os.path.lexists(path):
        known = environment_names(project)
        # A parent is often a partial (_base); suggest those too when a parent is missing.
        candidates = known + _partial_names(project) if referrer else known
        hint = f"known environments: {', '.join(known)}" if known else f"create {display}"
        import difflib

        close = difflib.get_close_matches(name, candidates, n=1)
        if close:
            hint = f"did you mean {close[0]!r}? ({hint})"
        what = "parent environment" if referrer else "environment"
        raise EnvironmentFileError(f"{what} {name!r} not found: no file {display}", location=referrer, hint=hint)
    if path.is_symlink():
        # Like policies/: a link is refused even inside the project, so what renders is what the folder holds.
        outside = not path.resolve().is_relative_to(project.resolve())
        raise EnvironmentFileError(
            f"is a symlink{' to a file outside the project' if outside else ''}; "
            "nvpolicy reads only the project's own files",
            location=Location(display), hint="replace the link with the file it points to",
        )
    documents = load_file(path, display, follow_symlinks=False)
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise EnvironmentFileError("an environment file holds exactly one YAML mapping",
                                   location=documents[0].locate() if documents else Location(display))
    document = documents[0]
    _refuse_placeholders(document, document.data, ())
    return document


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 60 else f"{name[:40]!r}… ({len(name):,} characters)"


def _refuse_placeholders(document: SourceDocument, value: Any, path: KeyPath) -> None:
    if isinstance(value, str):
        if any(marker in value for marker in _TEMPLATE_MARKERS):
            raise EnvironmentFileError(
                "environment files hold literal values, not placeholders",
                location=document.locate(path), path=path,
                hint="placeholders belong in policies/; put the value itself here",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_placeholders(document, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_placeholders(document, item, (*path, index))


def _apply_override(merged: dict[str, Any], text: str) -> SourceDocument:
    """Apply one ``key.path=value`` override in place; the value is read as a YAML scalar."""
    where = Location(f"--set {text}")
    key_path, sep, raw = text.partition("=")
    keys = key_path.strip().split(".")
    if not sep or not all(keys):
        raise EnvironmentFileError("--set takes key.path=value", location=where,
                                   hint="for example --set namespace=feature-6293 or --set peers.db.port=5433")
    if keys[0] == "extends":
        raise EnvironmentFileError("--set cannot change 'extends': overrides apply after merging", location=where,
                                   hint="render the other environment with --env instead")
    try:
        documents = load_text(raw, where.file) if raw.strip() else []
    except EnvironmentFileError:
        raise
    except Exception as exc:  # SourceError from an unparsable value
        raise EnvironmentFileError(f"--set value is not a YAML scalar: {exc}", location=where) from None
    value: Any = documents[0].data if documents else ""
    if isinstance(value, (dict, list)):
        raise EnvironmentFileError("--set takes a single value, not a list or mapping", location=where)
    if isinstance(value, str) and any(marker in value for marker in _TEMPLATE_MARKERS):
        raise EnvironmentFileError("--set values are literal, not placeholders", location=where)
    target = merged
    for key in keys[:-1]:
        below = target.get(key)
        if not isinstance(below, dict):
            below = {}
        below = dict(below)
        target[key] = below
        target = below
    target[keys[-1]] = value
    from nvpolicy.model import Marks

    nested: Any = value
    for key in reversed(keys):
        nested = {key: nested}
    return SourceDocument(nested, Marks(where.file, {}))


def _build(name: str, merged: dict[str, Any], files: tuple[SourceDocument, ...]) -> Environment:
    draft = Environment(name, "", "", {}, {}, merged, files)
    _check_schema(draft)
    for key in ("namespace", "policy_mode"):
        if key not in merged:
            raise EnvironmentFileError(
                f"environment {name!r} sets no {key!r} (after merging its 'extends' chain)",
                location=draft.locate(()),
                hint=f"add '{key}:' to environments/{name}.yaml or one of its parents",
            )
    peers = {peer: _peer(draft, peer, binding) for peer, binding in sorted(merged.get("peers", {}).items())}
    return Environment(name, merged["namespace"], merged["policy_mode"], peers,
                       dict(merged.get("vars", {})), merged, files, bool(merged.get("production", False)),
                       dict(merged.get("lint", {})))


def _check_schema(draft: Environment) -> None:
    from nvpolicy.schema_registry import best_match, validator

    error = best_match(validator("environment.schema.json").iter_errors(draft.data))
    if error is None:
        return
    error = _peer_branch_error(error)
    path = tuple(error.absolute_path)
    raise EnvironmentFileError(
        _describe(error), location=draft.locate(path), path=path, hint=_hint(error, path),
    )


def _peer_branch_error(error: Any) -> Any:
    """For a peer binding, explain the failure against the kind of binding it is trying to be."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict) or not error.context:
        return error
    wanted = 1 if "address" in error.instance else 0 if "service" in error.instance else None
    if wanted is None:
        return error
    branch = [sub for sub in error.context if sub.relative_schema_path[0] == wanted]
    return max(branch, key=lambda sub: len(sub.absolute_path)) if branch else error


def _unknown_key_hint(error: Any, path: KeyPath) -> str | None:
    """The keys allowed here, led by a did-you-mean for the first unknown one (a file's key or --set's)."""
    from nvpolicy.choices import did_you_mean

    allowed = list(error.schema.get("properties", {}))
    listed = (f"top-level keys: {', '.join(allowed)}" if not path
              else f"keys here: {', '.join(allowed)}" if allowed else None)
    extra = [key for key in error.instance if key not in allowed] if isinstance(error.instance, dict) else []
    close = did_you_mean(str(extra[0]), allowed) if extra else None
    return f"{close} ({listed})" if close and listed else close or listed


def _describe(error: Any) -> str:
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown key")
    if error.validator == "oneOf" and len(error.absolute_path) == 2 and error.absolute_path[0] == "peers":
        return "a peer binding is either {service, namespace?, port?} or {address, group?, port?}"
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "address":
        return f"address {error.instance!r} is not usable: {address_problem(error.instance) or 'not an address'}"
    if error.validator == "not" and "vars" in error.absolute_path:
        return f"free value name {error.instance!r} clashes with a built-in name"
    return str(error.message)


def _hint(error: Any, path: KeyPath) -> str | None:
    if error.validator == "additionalProperties":
        return _unknown_key_hint(error, path)
    if path and path[0] == "namespace":
        return "a namespace is a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters"
    if error.validator == "not":
        return "rename the value under 'vars'"
    return None


def _peer(draft: Environment, name: str, binding: Mapping[str, Any]) -> PeerBinding:
    address = binding.get("address")
    if address is not None:
        problem = address_problem(address)
        if problem:
            path = ("peers", name, "address")
            raise EnvironmentFileError(f"address {address!r} is not usable: {problem}",
                                       location=draft.locate(path), path=path,
                                       hint="use a hostname, *.domain, an IP, a CIDR (10.0.0.0/8) or a range (a-b)")
    return PeerBinding(name=name, **dict(binding))


def address_problem(value: str) -> str | None:
    """Why ``value`` is not a NeuVector address criterion value, or None when it is one.

    NeuVector's own grammar (S18, ``nv/addresses.py``): an environment file, an import and a
    proposal accept exactly what the controller accepts in the rendered criterion.
    """
    from nvpolicy.nv.addresses import problem

    return problem(value)


def _has_path(data: Any, path: Sequence[str | int]) -> bool:
    for key in path:
        in_mapping = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if not (in_mapping or in_list):
            return False
        data = data[key]
    return True
