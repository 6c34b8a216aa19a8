"""Where the two sides of a diff come from: rendered trees, a git ref, another environment."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nvpolicy.errors import NvPolicyError, SourceError
from nvpolicy.learn.sidecars import SIDECAR_GROUP_PREFIX
from nvpolicy.model import KINDS, RenderedObject
from nvpolicy.source import iter_yaml_files, load_text, read_text


def load_tree(directory: Path) -> list[dict[str, Any]]:
    """The NeuVector objects of a rendered tree, in either layout: one file per object (plus
    kustomization.yaml, ignored) or ``kind: List`` files."""
    if not directory.is_dir():
        raise SourceError(f"{directory}: no such directory", hint="name a rendered tree, e.g. rendered/prod")
    from nvpolicy.fastload import load_documents

    objects: list[dict[str, Any]] = []
    for path in iter_yaml_files(directory):
        name = f"{directory.name}/{path.relative_to(directory).as_posix()}"
        text = read_text(path, name)
        fast = _fast_objects(load_documents(text))
        if fast is not None:
            objects += fast
            continue
        # Something unusual or wrong: the full loader, with marks, accepts it or says where it is.
        for document in load_text(text, name):
            data = document.data
            if not isinstance(data, dict):
                raise SourceError("expected a mapping (a NeuVector object or a kind: List)",
                                  location=document.locate())
            items = data.get("items") if data.get("kind") == "List" else [data]
            if not isinstance(items, list):
                raise SourceError("a kind: List needs an items: list", location=document.locate(("items",)))
            for position, item in enumerate(items):
                if isinstance(item, dict) and item.get("kind") in KINDS:
                    objects.append(item)
                elif data.get("kind") == "List" or not _is_tooling(item):
                    where = ("items", position) if data.get("kind") == "List" else ()
                    kind = item.get("kind") if isinstance(item, dict) else None
                    raise SourceError(f"not a NeuVector object (kind {kind})", location=document.locate(where))
    return objects


def _fast_objects(documents: list[Any] | None) -> list[dict[str, Any]] | None:
    """load_tree's rules without locations: None wherever the slow path must name a file:line."""
    if documents is None:
        return None
    objects: list[dict[str, Any]] = []
    for data in documents:
        if not isinstance(data, dict):
            return None
        is_list = data.get("kind") == "List"
        items = data.get("items") if is_list else [data]
        if not isinstance(items, list):
            return None
        for item in items:
            if isinstance(item, dict) and item.get("kind") in KINDS:
                objects.append(item)
            elif is_list or not _is_tooling(item):
                return None
    return objects


def _is_tooling(item: Any) -> bool:
    return isinstance(item, dict) and item.get("kind") == "Kustomization"


def _git(repo: Path, *args: str, binary: bool = False) -> Any:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=120)
    except FileNotFoundError:
        raise NvPolicyError("git is not installed", hint="--base needs git; compare trees with --old/--new") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NvPolicyError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result.stdout if binary else result.stdout.decode("utf-8").strip()


def render_at_ref(
    project: Path, env: str, ref: str, overrides: Sequence[str] = ()
) -> tuple[RenderedObject, ...] | None:
    """Render ENV as committed at REF; None when REF has no such environment (or no project yet),
    as before a pull request that adds it. ``git archive`` reads objects only: the working tree,
    the index and rendered/ stay as they are."""
    from nvpolicy.pipeline import render_environment

    try:
        top = Path(_git(project, "rev-parse", "--show-toplevel"))
    except NvPolicyError:
        raise NvPolicyError(f"{project} is not inside a git repository", hint="--base needs git") from None
    try:
        commit = _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except NvPolicyError:
        raise NvPolicyError(f"--base {ref}: no such commit in this repository",
                            hint="name a branch, tag or commit, e.g. origin/main (run git fetch first)") from None
    prefix = _git(project, "rev-parse", "--show-prefix")
    # From the top level, so the pathspec is the project's prefix whatever the caller's directory.
    pathspec = ["--", prefix] if prefix else []
    archive = _git(top, "archive", "--format=tar", commit, *pathspec, binary=True)
    with tempfile.TemporaryDirectory(prefix="nvpolicy-base-") as temp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            # Only the render's inputs; anything else in the tree (a committed .venv link, say) is not ours.
            inputs = (f"{prefix}policies/", f"{prefix}environments/")
            members = [m for m in tar.getmembers() if m.name.startswith(inputs) and (m.isfile() or m.isdir())]
            tar.extractall(temp, members=members, filter="data")
        root = Path(temp) / prefix
        if not (root / "policies").is_dir() or not (root / "environments" / f"{env}.yaml").is_file():
            return None
        try:
            return render_environment(root, env, overrides).objects
        except NvPolicyError as error:
            error.message = f"at {ref}: {error.message}"
            raise


# Group names that end in the namespace: learned groups, external peers' groups, split sidecars' groups.
_NAMESPACED_GROUPS = ("nv.", "ext.", SIDECAR_GROUP_PREFIX)


def map_environment(objects: Sequence[RenderedObject], source: Any, target: Any) -> list[dict[str, Any]]:
    """Rewrite objects rendered for environment ``source`` as if rendered for ``target``.

    Mapped, in this order: (1) every selector equal to the one ``peer(p)`` gives in ``source`` is
    replaced by ``target``'s selector for p (peers bound in both), and in rules using it the port
    token equal to ``source``'s peer port becomes ``target``'s; (2) ``source``'s namespace, where
    it is a namespace: ``metadata.namespace``, a ``domain``/``namespace`` criterion value, and the
    ``.<ns>`` suffix of ``service`` criteria, of ``nv.*``/``ext.*``/``sidecar.*`` group names (the
    names nvpolicy renders per namespace) and of object names.
    Nothing else — policy mode, vars and any literal text differ as drift.
    """
    from nvpolicy.render import peer_selector

    selectors: list[tuple[Any, Any, int | None, int | None]] = []
    for name, binding in source.peers.items():
        if name in target.peers:
            other = target.peers[name]
            selectors.append((peer_selector(binding, source.namespace), peer_selector(other, target.namespace),
                              binding.port, other.port))
    return [_map_object(obj.data, selectors, source.namespace, target.namespace) for obj in objects]


def _map_object(data: Mapping[str, Any], selectors: list[tuple[Any, Any, int | None, int | None]],
                old_ns: str, new_ns: str) -> dict[str, Any]:
    def suffix(text: Any) -> Any:
        if isinstance(text, str) and text.endswith("." + old_ns):
            return text[: -len(old_ns)] + new_ns
        return text

    def selector(value: Any) -> tuple[Any, tuple[int | None, int | None] | None]:
        for before, after, port_before, port_after in selectors:
            if value == before:
                return after, (port_before, port_after)
        if not isinstance(value, Mapping):
            return value, None
        mapped = dict(value)
        if isinstance(mapped.get("name"), str) and mapped["name"].startswith(_NAMESPACED_GROUPS):
            mapped["name"] = suffix(mapped["name"])
        if isinstance(mapped.get("criteria"), list):
            mapped["criteria"] = [criterion(c) for c in mapped["criteria"]]
        return mapped, None

    def criterion(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        mapped = dict(value)
        if mapped.get("key") in ("domain", "namespace") and mapped.get("value") == old_ns:
            mapped["value"] = new_ns
        elif mapped.get("key") == "service":
            mapped["value"] = suffix(mapped.get("value"))
        return mapped

    def rule(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        mapped = dict(value)
        mapped["selector"], ports = selector(value.get("selector"))
        if ports and ports[0] and ports[1] and isinstance(mapped.get("ports"), str):
            mapped["ports"] = _replace_port(mapped["ports"], ports[0], ports[1])
        return mapped

    result = dict(data)
    metadata = dict(result.get("metadata") or {})
    if metadata.get("namespace") == old_ns:
        metadata["namespace"] = new_ns
    metadata["name"] = suffix(metadata.get("name"))
    result["metadata"] = metadata
    spec = dict(result.get("spec") or {})
    if isinstance(spec.get("target"), Mapping):
        target = dict(spec["target"])
        target["selector"], _ = selector(target.get("selector"))
        spec["target"] = target
    if isinstance(spec.get("selector"), Mapping):
        spec["selector"], _ = selector(spec["selector"])
    for direction in ("ingress", "egress"):
        if isinstance(spec.get(direction), list):
            spec[direction] = [rule(r) for r in spec[direction]]
    result["spec"] = spec
    return result


def _replace_port(ports: str, old: int, new: int) -> str:
    import re

    return re.sub(rf"(?<![\d-]){old}(?![\d-])", str(new), ports)
