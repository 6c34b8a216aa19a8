"""The one home of nvpolicy's file-system rules: bounded reads, confined and atomic writes.

Every reader and writer of the package goes through here, so the promises of the README's
Security notes hold in one place:

- an input is read only if it is a regular file (a FIFO, socket or device is refused before a
  byte is read, so ``/dev/zero`` or a FIFO nobody writes cannot hang or exhaust a run), and only
  up to ``MAX_INPUT_BYTES`` (files and stdin alike);
- a write goes to a temporary file created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``, a random
  name, in the target's own directory), is flushed to disk, and renamed over the target: no write
  ever goes through a symlink or a file it did not create, and a reader sees the old or the new
  text, never half of it;
- a path built from data (a group or service name) below a root folder must stay inside it, with
  no symlink anywhere between the root and the file.

Errors are the package's typed errors; nothing here prints.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import signal
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from nvpolicy.errors import OutputError, SourceError
from nvpolicy.model import Location

# One cap for every input: policy and environment files, exports, events, validate inputs, stdin.
MAX_INPUT_BYTES = 5 * 1024 * 1024
TEMP_MARKER = ".nvpolicy-tmp-"
_READ_CHUNK = 1 << 20


# ---------------------------------------------------------------------------------------------
# Reading


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words for an error message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def read_bytes(path: Path, display: str | None = None, *, follow_symlinks: bool = True,
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them; anything else is a SourceError.

    Opened with O_NONBLOCK so that opening a FIFO cannot block; its type is checked on the open
    descriptor (no race with a rename) before anything is read. ``follow_symlinks=False`` is for
    files found by walking a folder, where a link is refused (``iter_yaml_files`` names it first).
    """
    where = Location(display or str(path))
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise SourceError("is a symlink; nvpolicy does not follow links here", location=where) from None
        if exc.errno == errno.ENOENT:
            raise SourceError("no such file", location=where) from None
        raise SourceError(f"cannot read file: {exc.strerror or exc}", location=where) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SourceError("is a directory, expected a YAML file", location=where)
        if not stat.S_ISREG(mode):
            raise SourceError(f"is {kind_of(mode)}, expected a regular file", location=where,
                              hint="nvpolicy reads regular files only")
        size = os.fstat(fd).st_size
        if size > limit:
            raise SourceError(f"file is {size:,} bytes, {_too_large(limit)}", location=where, hint=_SPLIT)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return _read_capped(handle, where, limit)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", location=where) from None
    finally:
        os.close(fd)


def read_stdin(limit: int = MAX_INPUT_BYTES) -> bytes:
    """All of stdin, refused once it exceeds ``limit`` (``cat /dev/zero | nvpolicy …`` ends, with exit 2)."""
    return _read_capped(sys.stdin.buffer, Location("<stdin>"), limit)


def _read_capped(handle: BinaryIO, where: Location, limit: int) -> bytes:
    # Read one byte past the cap: the size the file claims can differ from what it delivers.
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = handle.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise SourceError(f"input is {_too_large(limit)}", location=where, hint=_SPLIT)


_SPLIT = "split it into several files"


def _too_large(limit: int) -> str:
    return f"larger than the {limit:,} bytes nvpolicy reads from one file"


# ---------------------------------------------------------------------------------------------
# Confinement


def confined(root: Path, path: Path) -> Path:
    """``path`` if it lies lexically inside ``root`` and no existing component below ``root`` is a
    symlink or a non-directory; OutputError otherwise. ``root`` itself may be reached through links
    (the user named it); what lies under it was named by data and must stay there."""
    absolute_root = Path(os.path.abspath(root))
    absolute = Path(os.path.abspath(path))
    if absolute == absolute_root or not absolute.is_relative_to(absolute_root):
        raise OutputError(f"refusing to write {path}: it is outside {root}",
                          hint="a name from an export or an event never becomes a path of its own")
    current = absolute_root
    parts = absolute.relative_to(absolute_root).parts
    for position, part in enumerate(parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return absolute
        last = position == len(parts) - 1
        if stat.S_ISLNK(mode):
            raise OutputError(f"refusing to write {path}: {current} is a symlink",
                              hint="nvpolicy writes no file through a link; replace the link with a real folder")
        if not last and not stat.S_ISDIR(mode):
            raise OutputError(f"refusing to write {path}: {current} is not a directory")
    return absolute


def check_writable(path: Path) -> None:
    """Refuse, before anything is written, a target that ``write_atomic`` could not replace.

    The target may be missing or a regular file (never a link, a folder or a device); its nearest
    existing ancestor must be a directory we may write in.
    """
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # a non-directory on the way is named below
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"cannot write {path}: it is {kind_of(mode)}",
                          hint="nvpolicy replaces regular files only; move it away or choose another path")
    check_can_create(path, f"cannot write {path}")


def check_can_create(path: Path, failure: str) -> None:
    """The nearest existing ancestor of ``path`` must be a directory we may create entries in;
    ``failure`` starts the message otherwise (``cannot write FILE``)."""
    ancestor = path.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{failure}: {ancestor} is not a directory", hint="remove it or choose another path")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{failure}: {ancestor} is not writable")


# ---------------------------------------------------------------------------------------------
# Writing


def temporary_name(target_name: str) -> str:
    """A fresh hidden name beside the target: unguessable, so nobody can plant a link there first."""
    return f".{target_name[:100]}{TEMP_MARKER}{secrets.token_hex(8)}"


def _new_file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets 0666 less the umask, as any editor would."""
    with contextlib.suppress(OSError):
        existing = os.lstat(path)
        if stat.S_ISREG(existing.st_mode):
            return stat.S_IMODE(existing.st_mode)
    return -1


def create_exclusive(directory: Path, name: str, data: bytes, mode: int = -1) -> Path:
    """Create ``directory/name`` (which must not exist) with ``data``, fsynced; never through a link."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        if mode >= 0:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)
    return path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace (or create) one file all at once: exclusive temporary file, fsync, rename, fsync the folder."""
    write_all_atomic({path: data})


def write_all_atomic(files: Mapping[Path, str | bytes]) -> None:
    """Write several files all or nothing, as far as a file system allows.

    Every target is checked first, then every new text is written to its temporary file; only
    when all of them exist are they renamed into place (renames within one folder do not fail for
    want of space). A failure before the renames leaves every target as it was.
    """
    for path in files:
        check_writable(path)
    staged: list[tuple[Path, Path]] = []
    with signals_held(), _unstage(staged):
        for path, data in files.items():
            raw = data.encode("utf-8") if isinstance(data, str) else data
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                staged.append((create_exclusive(path.parent, temporary_name(path.name), raw, _new_file_mode(path)),
                               path))
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        for temporary, path in staged:
            try:
                os.replace(temporary, path)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
            crash_point("between-renames")
        for directory in dict.fromkeys(path.parent for _, path in staged):
            fsync_path(directory)


@contextlib.contextmanager
def _unstage(staged: list[tuple[Path, Path]]) -> Iterator[None]:
    try:
        yield
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


# What stops a run from outside: a cancelled CI job or `timeout` (TERM), Ctrl-C (INT), a closed terminal (HUP).
_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back TERM, INT and HUP while a group of renames runs, so a stop lands before or after it.

    A signal that arrives meanwhile stays pending and is delivered when the block ends, after every
    file is in place and every temporary file is gone: a stopped multi-file write leaves the old
    files or the new ones, never a mix and never a stray temporary file. (SIGKILL cannot be held:
    the crash tests cover what it leaves.)
    """
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no POSIX signal masks here: nothing to hold
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def make_directory(parent: Path, name: str) -> Path:
    """A new directory honouring the umask (unlike mkdtemp's 0700); FileExistsError if taken."""
    path = parent / name
    os.mkdir(path, 0o777)
    return path


def remove_tree(path: Path) -> None:
    """Remove what we staged: a folder recursively, a link (or file) as itself, never what a link points to."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def fsync_path(path: Path) -> None:
    """fsync a file or directory, best effort: a rename is durable only once its directory is synced."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Test-only fault injection: the crash-safety tests stop a run at an exact step with
# NVPOLICY_TEST_KILL_AT=<point> (SIGKILL), <point>:TERM (SIGTERM) or <point>:INT (SIGINT, as Ctrl-C).
# Points: file-<n>, before-swap, between-swaps, after-swap (render's swap), proposals-written (propose --write),
# between-renames (every multi-file write: import, propose, environment files). Read here and nowhere else.
_KILL_AT_VARIABLE = "NVPOLICY_TEST_KILL_AT"


def crash_point(name: str) -> None:
    chosen = os.environ.get(_KILL_AT_VARIABLE)
    if chosen == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif chosen == f"{name}:TERM":
        os.kill(os.getpid(), signal.SIGTERM)
    elif chosen == f"{name}:INT":
        os.kill(os.getpid(), signal.SIGINT)
