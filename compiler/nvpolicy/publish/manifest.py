"""The ownership manifest: the hidden file in SUBDIR that lists the files publish wrote there.

Only listed files are ever replaced or removed, so files someone else keeps in SUBDIR (a README,
a hand-written patch) survive every publish. The manifest lives in the deploy repo, which others
can edit: a listed path that would leave SUBDIR is ignored, never followed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

MANIFEST = ".nvpolicy-owned"
_HEADER = "# Files written by `nvpolicy publish`; it replaces or removes only these. Do not edit.\n"


def render_manifest(paths: Iterable[str]) -> str:
    return _HEADER + "".join(f"{path}\n" for path in sorted(set(paths)))


_MAX_BYTES = 16 * 1024 * 1024  # a manifest lists file names; anything bigger is not one


def read_manifest(directory: Path) -> set[str]:
    """The owned paths recorded in ``directory``; empty when there is no manifest yet.

    Only a regular file is read (never a FIFO, device or symlink someone put there), and only so much.
    """
    path = directory / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return set()
        with path.open("rb") as handle:
            return parse_manifest(handle.read(_MAX_BYTES))
    except OSError:
        return set()  # unreadable: own nothing rather than guess


def parse_manifest(data: bytes) -> set[str]:
    """The owned paths a manifest's bytes list (CRLF line ends are fine); none when it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return set()
    return {line for line in (raw.strip() for raw in text.splitlines()) if line and _is_inside(line)}


def _is_inside(path: str) -> bool:
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts and pure.parts[:1] != (MANIFEST,) and bool(pure.parts)
