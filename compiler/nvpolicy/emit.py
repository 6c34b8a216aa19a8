"""The one YAML emitter, the output layout, and the atomic replacement of an output directory.

Output is byte-deterministic: keys in a fixed order (Kubernetes' usual order for the
envelope, NeuVector's field order for known fields, then alphabetical), no anchors, and
any string a YAML 1.1 or 1.2 reader could take for something else is quoted.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from nvpolicy._fs import check_can_create, crash_point, make_directory, remove_tree, signals_held
from nvpolicy._fs import fsync_path as fsync_path  # re-exported: publish syncs its renames with it
from nvpolicy._yaml_text import make_block_text
from nvpolicy.errors import OutputError
from nvpolicy.model import CLUSTER_KINDS, ObjectId

_Dumper: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# Fields people look for first come first; anything not listed follows alphabetically.
_KEY_ORDER = {
    key: rank
    for rank, key in enumerate(
        [
            "apiVersion", "kind", "metadata", "spec", "items",
            "name", "namespace", "labels", "annotations",
            "target", "policymode", "ingress", "egress", "process", "file",
            "process_profile", "dlp", "waf", "response",
            "action", "applications", "ports", "priority", "selector",
            "comment", "criteria", "name_referral", "key", "op", "value",
            "path", "allow_update", "behavior", "filter", "recursive", "app",
            "baseline", "mode", "status", "settings",
        ]
    )
}
_LAST = len(_KEY_ORDER)

# Plain scalars that some YAML reader (1.1 or 1.2, PyYAML, Go yaml.v2/v3, ruamel) reads as a
# non-string. PyYAML's own resolver already quotes what it would misread; these cover the rest.
_AMBIGUOUS = re.compile(
    r"""^(?:
        [yYnN]
      | [-+]?0[oO][0-7_]+ | [-+]?0[bB][01_]+ | [-+]?0[xX][0-9a-fA-F_]+
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
      | [-+]?(?:[0-9][0-9_]*)?\.?[0-9_]+(?:[eE][-+]?[0-9]+)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | (?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)
      | = | <<
    )$""",
    re.VERBOSE,
)


_NUMBER_START = frozenset("+-.0123456789")


def _key_rank(key: str) -> tuple[int, str]:
    return (_KEY_ORDER.get(key, _LAST), key)


def ordered(value: Any) -> Any:
    """A copy with every mapping's keys in the emitter's fixed order."""
    if isinstance(value, Mapping):
        return {key: ordered(value[key]) for key in sorted(value, key=_key_rank)}
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


class _Emitter(_Dumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _ambiguous(value: str) -> bool:
    # Every alternative of _AMBIGUOUS is at most 5 characters long or starts with a sign, a digit
    # or a dot; names, paths and selectors (nearly all output strings) skip the regex.
    if len(value) > 5 and value[0] not in _NUMBER_START:
        return False
    return _AMBIGUOUS.match(value) is not None


_RESOLVER: Any = yaml.resolver.Resolver()


def needs_quotes(value: str) -> bool:
    """Whether ``value`` written plain would be read back as something else (``yes``, ``1:20``, ``~``,
    ``0x10``) by PyYAML (the project's loader) or another YAML 1.1/1.2 reader: the emitter's quoting
    decision, for the writers that emit with ruamel's round trip (``import --merge``)."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    return _ambiguous(value) or tag != "tag:yaml.org,2002:str"


def _represent_str(dumper: Any, value: str) -> Any:
    if _ambiguous(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


def _item_rank(item: tuple[str, Any]) -> tuple[int, str]:
    return _KEY_ORDER.get(item[0], _LAST), item[0]


def _represent_dict(dumper: Any, value: dict[str, Any]) -> Any:
    # Ordering here, as pairs, spares dump_all a reordered copy of every document.
    return dumper.represent_mapping("tag:yaml.org,2002:map", sorted(value.items(), key=_item_rank))


_Emitter.add_representer(str, _represent_str)
_Emitter.add_multi_representer(dict, _represent_dict)
_Emitter.add_representer(dict, _represent_dict)

_block_text = make_block_text(lambda value: _scalar_text(value), _item_rank)


def dump(value: Any) -> str:
    """One YAML document; keys ordered, no anchors, unambiguous quoting."""
    return dump_all([value])


def dump_all(values: Iterable[Any]) -> str:
    """PyYAML's bytes: written directly when every document is a block mapping the fast path can
    write (policy documents always are), else by PyYAML, whose document separators depend on what
    each document starts with."""
    documents = values if isinstance(values, list) else list(values)
    parts: list[str] = []
    for value in documents:
        text = _block_text(value)
        if text is None:
            return _pyyaml_dump(documents)
        parts.append(text)
    return "---\n".join(parts)


def _scalar_text(value: Any) -> str:
    """The real emitter's text of one scalar as a sequence item: what the fast path writes for it."""
    return _pyyaml_dump([[value]])[2:-1]


def _pyyaml_dump(values: list[Any]) -> str:
    text: str = yaml.dump_all(
        [value if isinstance(value, dict) else ordered(value) for value in values],
        Dumper=_Emitter,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=2**31 - 1,
        indent=2,
        explicit_start=False,
    )
    return text


# ---------------------------------------------------------------------------------------------
# Layout


_SAFE_NAME = re.compile(r"[^a-z0-9.-]+")


def object_path(object_id: ObjectId) -> str:
    """``<namespace>/<kind>-<name>.yaml``, or ``_cluster/…`` for cluster kinds.

    Names are validated as DNS-1123 before anything is written; the sanitising here is a
    second fence so no object can ever name a path outside the output directory.
    """
    kind = _safe(object_id.kind.lower())
    name = _safe(object_id.name) or "unnamed"
    cluster = object_id.kind in CLUSTER_KINDS or not object_id.namespace
    folder = "_cluster" if cluster else (_safe(object_id.namespace) or "_namespace")
    return f"{folder}/{kind}-{name}.yaml"


def _safe(text: str) -> str:
    cleaned = _SAFE_NAME.sub("-", text.lower()).strip(".-")
    return cleaned.replace("..", "-")[:200]


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the output directory, '/'-separated
    text: str


KUSTOMIZATION = "kustomization.yaml"


def kustomization(paths: Sequence[str]) -> OutputFile:
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(paths),
    }
    return OutputFile(KUSTOMIZATION, dump(body))


# ---------------------------------------------------------------------------------------------
# Atomic directory replacement


STAGING_PREFIX = ".nvpolicy-staging-"
RETIRED_PREFIX = ".nvpolicy-retired-"


def replace_directory(target: Path, files: Sequence[OutputFile]) -> None:
    """Make ``target`` hold exactly ``files``, all at once (``replace_directories`` for one target)."""
    replace_directories([(target, files)])


def check_directory_target(target: Path) -> None:
    """Refuse, before anything is written, a target whose replacement would delete or follow what is not ours.

    The target must be missing or a real directory: never a symlink (swapping it would swap the
    link, and the tree it points to is not the output's), never a file. Its nearest existing
    ancestor must be a directory we may create entries in.
    """
    try:
        mode: int | None = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # a non-directory ancestor is named below
    except OSError as exc:
        raise OutputError(f"cannot use output directory {target}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISLNK(mode):
        raise OutputError(f"output directory {target} is a symlink; nvpolicy replaces real directories only",
                          hint="remove the link (nothing was written) or choose another --out")
    if mode is not None and not stat.S_ISDIR(mode):
        raise OutputError(f"output path {target} exists and is not a directory",
                          hint="remove it or choose another --out")
    check_can_create(target, f"cannot create output directory {target}")


def replace_directories(outputs: Sequence[tuple[Path, Sequence[OutputFile]]]) -> None:
    """Make each target hold exactly its files; all targets or none.

    Every target is checked first, then every new tree is written next to its target; only when
    all are complete is each swapped in with one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux;
    elsewhere two renames with a window of milliseconds). A failure before the swaps leaves every
    target as it was; a crash at any point leaves each target the old or the new complete tree, and
    leftovers of a killed run are removed by the next one. New folders honour the umask.
    """
    for target, _ in outputs:
        check_directory_target(target)
    staged = StagedTrees()
    try:
        for target, files in outputs:
            staged.add(target, files)
        staged.swap_in()
    finally:
        staged.discard()


class StagedTrees:
    """New trees written beside their targets one at a time, swapped in together (``replace_directories``).

    Staging a tree as soon as it is ready lets its files' text be freed before the next one is
    made: render --all holds one environment in memory, not all, and stays all or nothing.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._created: list[Path] = []  # folders made for staging (``rendered/``), removed if nothing swaps in
        self._swapped = False

    def add(self, target: Path, files: Sequence[OutputFile]) -> None:
        """Stage ``files`` as the new tree of ``target``; a target staged before is staged again."""
        check_directory_target(target)
        for number, (staging, staged_target) in enumerate(self._staged):
            if staged_target == target:
                remove_tree(staging)
                del self._staged[number]
                break
        missing = target.parent
        while not os.path.lexists(missing) and missing != missing.parent:
            self._created.append(missing)
            missing = missing.parent
        try:
            self._staged.append((_stage(target, files), target))
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None

    def swap_in(self) -> None:
        current = Path()
        try:
            crash_point("before-swap")
            # render --all swaps one tree per environment: a stop (TERM, Ctrl-C) is held until all are in.
            with signals_held():
                for staging, current in self._staged:
                    check_directory_target(current)  # unchanged since the first check, or we refuse
                    if os.path.lexists(current):
                        _swap_in(staging, current)
                    else:
                        os.rename(staging, current)
                    crash_point("between-swaps")
                self._swapped = True
            crash_point("after-swap")
            for parent in dict.fromkeys(target.parent for _, target in self._staged):
                fsync_path(parent)
        except OSError as exc:
            raise OutputError(f"cannot write {current}: {exc.strerror or exc}") from None

    def discard(self) -> None:
        """Remove what is still staged: everything after a failure, the old trees after the swaps."""
        for staging, _ in self._staged:
            remove_tree(staging)
        self._staged.clear()
        if not self._swapped:
            for folder in sorted(set(self._created), key=lambda path: len(path.parts), reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only if empty: another run's output stays
        self._created.clear()


def _stage(target: Path, files: Sequence[OutputFile]) -> Path:
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {parent}: {exc.strerror or exc}") from None
    clean_leftovers(parent, target.name)
    try:
        staging = make_directory(parent, f"{STAGING_PREFIX}{target.name}-{os.getpid()}-{secrets.token_hex(6)}")
    except OSError as exc:
        raise OutputError(f"cannot write to {parent}: {exc.strerror or exc}") from None
    # Unchanged files are linked from the tree being replaced, not rewritten: their mtime is kept.
    previous = str(target) if os.path.isdir(target) and not os.path.islink(target) else None
    try:
        root = str(staging.resolve())
        folders = {root}
        for number, output in enumerate(files, 1):
            _write_file(root, output, folders, previous)
            crash_point(f"file-{number}")
        fsync_path(staging)
    except BaseException as error:
        remove_tree(staging)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {target}: {error.strerror or error}") from None
        raise
    return staging


def _write_file(root: str, output: OutputFile, folders: set[str], previous: str | None = None) -> None:
    """Write one file below ``root``, a fresh staging directory holding nothing but what we wrote.

    Only directories are ever created there, never links, so a relative path without ``..``
    cannot leave it; checking the text spares a ``resolve()`` (a syscall per component) per file.
    Paths are joined as strings: thousands of files per tree, a ``Path`` each cost more than the write.
    """
    relative = PurePosixPath(output.path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise OutputError(f"refusing to write {output.path!r}: it leaves the output directory")
    inside = "/".join(relative.parts)
    destination = f"{root}/{inside}"
    folder = os.path.dirname(destination)
    if folder not in folders:
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    data = output.text.encode("utf-8")
    if previous is not None and _link_unchanged(f"{previous}/{inside}", data, destination):
        return
    # Exclusive and without following links, although nothing else writes into a fresh staging tree.
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _link_unchanged(old: str, data: bytes, destination: str) -> bool:
    """Hard-link the old tree's file into the new one when it holds exactly ``data``; False to write instead.

    Only a regular file with one link (no link, no file shared with another place) is reused, and the
    link made must be that very inode; anything else, including a failing link, falls back to writing.
    """
    try:
        fd = os.open(old, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size != len(data):
            return False
        if os.read(fd, len(data) + 1) != data:
            return False
        os.link(old, destination, follow_symlinks=False)
        if os.lstat(destination).st_ino == info.st_ino:
            return True
        os.unlink(destination)  # swapped meanwhile: not the file we compared
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def _swap_in(staging: Path, target: Path) -> None:
    if _exchange(staging, target):
        return  # `staging` now holds the old tree; the caller removes it
    retired = target.parent / f"{RETIRED_PREFIX}{target.name}-{os.getpid()}"
    os.rename(target, retired)
    os.rename(staging, target)
    remove_tree(retired)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically exchange two paths with renameat2; False where the system cannot."""
    import ctypes  # only needed when an output directory already exists

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)


def clean_leftovers(parent: Path, name: str) -> None:
    """Remove staging trees of killed runs, and restore a target lost between two renames.

    A leftover is removed as itself: a link among them is unlinked, never followed.
    """
    if not parent.is_dir():
        return
    target = parent / name
    for entry in sorted(parent.iterdir()):
        if entry.name.startswith(f"{RETIRED_PREFIX}{name}-"):
            if not os.path.lexists(target) and entry.is_dir() and not entry.is_symlink():
                # Killed after moving the old tree aside but before moving the new one in.
                with contextlib.suppress(OSError):
                    os.rename(entry, target)
                    continue
            remove_tree(entry)
        elif entry.name.startswith(f"{STAGING_PREFIX}{name}-") and _is_stale(entry):
            remove_tree(entry)


def _is_stale(entry: Path) -> bool:
    """A staging tree is stale once the process named in it is gone; a live run's tree is left be."""
    pid_text = entry.name.rsplit("-", 2)[-2] if entry.name.count("-") >= 2 else ""
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid_text) == os.getpid()
