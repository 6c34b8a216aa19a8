"""Render's cache: what one policy file rendered to in one environment, so an unchanged file is not redone.

An entry is keyed by the SHA-256 of everything that decides the file's output and findings:
nvpolicy's version and a fingerprint of its installed code, the environment's name and resolved
values (after ``--set``), the apply path and check settings (``--for``, controller namespace,
federation role), the layout (``--format``), the placeholder budgets (``NVPOLICY_*``), the
file's path and its bytes. It holds the rendered objects (data and emitted text) of a file whose
objects all passed the schema and the per-object import checks, and what its placeholders built
(charged to the render's budget on a hit). Cross-object checks are never cached: render runs them
over every object, cached or not. One file per environment, moved in atomically once every
environment rendered and was written, holds the entries that render used (older ones drop out): a
JSON header line, then a ``marshal`` mapping of key to entry, each entry ``marshal`` bytes of plain
data (lists, dicts, strings, numbers), decoded only when used (about half the time of JSON). The
folder is safe to delete; a file of another version (nvpolicy's or marshal's), or one that does not
parse or has another shape, is ignored.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nvpolicy import __version__
from nvpolicy._fs import create_exclusive, fsync_path, read_bytes, temporary_name
from nvpolicy.environment import Environment
from nvpolicy.errors import NvPolicyError, OutputError

if TYPE_CHECKING:
    from hashlib import _Hash

_LAYOUT = 3  # bumped when an entry's shape changes (3: marshal; crds entries hold ``cross_view`` data)
_MAX_CACHE_BYTES = 1 << 31  # one environment's entries; a larger file is ignored (a cache only saves time)


def sha256(data: bytes) -> _Hash:
    """hashlib's SHA-256, imported on first use: a render without a cache does not pay for OpenSSL's start."""
    import hashlib

    return hashlib.sha256(data)


@dataclass(frozen=True)
class CachedObject:
    data: dict[str, Any]  # with a text: only what the cross-object checks read (``rules._walk.cross_view``)
    text: str | None  # the object's own file (crds layout); None when render wrote lists


@dataclass(frozen=True)
class FileResult:
    """What one policy file rendered to in one environment, every object checked on its own."""

    objects: tuple[CachedObject, ...]
    size: int  # what its placeholders built, in the budget's measure (``Meter.render_size``)


@cache
def code_fingerprint() -> str:
    """nvpolicy's version and its installed files' names, sizes and times: an edited install is a new version."""
    digest = sha256(__version__.encode())
    root = Path(__file__).resolve().parent
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json", ".yaml")):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{os.path.relpath(os.path.join(folder, name), root)}:{info.st_size}:"
                              f"{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


class RenderCache:
    """The entries of one environment: looked up per policy file, saved once at the end."""

    def __init__(self, directory: Path, environment: Environment, settings: Sequence[object]) -> None:
        """``settings``: everything else that decides output or findings (apply path, check settings,
        layout, budgets), as reprs of frozen values."""
        self.directory = directory
        scope = json.dumps([code_fingerprint(), _LAYOUT, environment.name, environment.data,
                            [repr(setting) for setting in settings]], sort_keys=True, default=repr)
        self.scope = sha256(scope.encode()).hexdigest()
        # The file name is a hash: an environment name never becomes a path.
        self.path = directory / f"render-{sha256(environment.name.encode()).hexdigest()[:24]}.bin"
        self.old = self._load()
        self.new: dict[str, bytes] = {}  # key -> the entry, encoded (``encode``)
        self.hits = 0

    def key(self, display: str, digest_of_bytes: str) -> str:
        """An entry's key: the scope, the file's path and the SHA-256 of its bytes (``file_digest``)."""
        return sha256(f"{self.scope}\0{display}\0{digest_of_bytes}".encode()).hexdigest()

    def has(self, key: str) -> bool:
        return key in self.old

    def get(self, key: str) -> FileResult | None:
        encoded = self.old.get(key)
        if encoded is None:
            return None
        try:
            entry = marshal.loads(encoded)
        except (ValueError, EOFError, TypeError):
            return None
        if not (isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and isinstance(entry[1], list)):
            return None
        objects = []
        for item in entry[1]:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], dict)
                    and isinstance(item[1], str | None)):
                return None
            objects.append(CachedObject(item[0], item[1]))
        self.hits += 1
        self.new[key] = encoded  # kept as read: no encoding again
        return FileResult(tuple(objects), entry[0])

    def put(self, key: str, encoded: bytes) -> None:
        """Keep an entry made by ``encode`` (a worker encodes it: the parent never holds its objects)."""
        self.new[key] = encoded

    def save(self) -> PendingCache | None:
        """Write the entries used by this render beside the cache file; ``commit`` moves them in.

        The file is a header line, then the entries by key (``marshal``), each still encoded: a render
        decodes only the entries it uses. Nothing is written when the entries did not change; a cache
        that cannot be written is skipped (it only saves time).
        """
        if self.new.keys() == self.old.keys():
            return None
        body = marshal.dumps(dict(sorted(self.new.items())))
        try:
            created = _check_folder(self.directory, create=True)
            written = create_exclusive(self.directory, temporary_name(self.path.name),
                                       self._header().encode("ascii") + b"\n" + body)
        except (OSError, NvPolicyError):
            return None
        return PendingCache(written, self.path, created)

    def _header(self) -> str:
        # marshal's format may change with Python: its version is part of the header.
        return json.dumps({"nvpolicy": __version__, "layout": _LAYOUT, "marshal": marshal.version,
                           "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}, sort_keys=True)

    def _load(self) -> dict[str, bytes]:
        try:
            _check_folder(self.directory, create=False)
            data = read_bytes(self.path, follow_symlinks=False, limit=_MAX_CACHE_BYTES)
        except (OSError, NvPolicyError):
            return {}
        header, _, body = data.partition(b"\n")
        if header != self._header().encode("ascii"):
            return {}  # never trusted across versions
        try:
            entries = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            return {}  # cut short or not ours: rendered afresh
        if type(entries) is not dict or not all(type(key) is str and type(entry) is bytes
                                                for key, entry in entries.items()):
            return {}
        return entries


@dataclass(frozen=True)
class PendingCache:
    """A cache file written but not yet in place: render moves it in only when every environment succeeded."""

    written: Path
    target: Path
    created_folder: bool

    def commit(self) -> None:
        with contextlib.suppress(OSError):
            os.replace(self.written, self.target)
            fsync_path(self.target.parent)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.written)
            if self.created_folder:
                os.rmdir(self.target.parent)  # a failed render leaves the project as it was


def _check_folder(directory: Path, *, create: bool) -> bool:
    """The cache folder is a real directory of ours: a link or a file there is refused, never followed.

    Returns whether it was created now.
    """
    created = False
    try:
        mode = os.lstat(directory).st_mode
    except FileNotFoundError:
        if not create:
            raise
        try:
            os.mkdir(directory, 0o777)
            created = True
        except FileExistsError:
            pass
        mode = os.lstat(directory).st_mode
    if not stat.S_ISDIR(mode):
        raise OutputError(f"cache directory {directory} is not a directory (a link is not followed)")
    return created


def file_digest(raw: bytes) -> str:
    return sha256(raw).hexdigest()


def encode(result: FileResult) -> bytes | None:
    """A file's result as a cache entry, or None when marshal cannot hold it.

    marshal keeps plain data exactly (types, keys, floats); it refuses anything else (a subclass,
    an object of another type), and that file is then rendered every time.
    """
    entry = [result.size, [[obj.data, obj.text] for obj in result.objects]]
    try:
        return marshal.dumps(entry)
    except ValueError:
        return None
