"""Safe YAML loading that keeps where every value came from.

libyaml's C parser composes the node graph; construction is ours, so we can refuse what
PyYAML accepts silently (duplicate keys, unknown tags) and bound what aliases may expand to.
Aliases share the constructed value instead of copying it, and the expanded size of every
document is computed up front, so an alias bomb is refused before anything walks it.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from nvpolicy._fs import MAX_INPUT_BYTES, kind_of, read_bytes
from nvpolicy.errors import ErrorGroup, NvPolicyError, SourceError
from nvpolicy.model import Location, Marks, SourceDocument
from nvpolicy.model import Path as KeyPath

MAX_SOURCE_BYTES = MAX_INPUT_BYTES
# The size a document may reach once its aliases are expanded, in nodes. Real policy
# documents stay far below; "billion laughs" style inputs exceed it quickly.
MAX_EXPANDED_NODES = 1_000_000
# How deeply values may nest. NeuVector resources nest about ten levels; building (and later
# rendering and emitting) walks recursively, so a deeper document is refused up front.
MAX_DEPTH = 100

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Python's own limit on converting integers to and from text (sys.int_info.default_max_str_digits).
MAX_INT_DIGITS = 4300
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))  # below 10**4300: at most 4,300 digits

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
# `=` resolves to the YAML 1.1 "value" tag; NeuVector's exports write `op: =` unquoted.
# Timestamps stay the text they were written as: NeuVector has no date fields.
_AS_TEXT = {_STR, "tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"}
_SCALARS = {
    _INT: yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": yaml.constructor.SafeConstructor.construct_yaml_null,
}
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def read_text(path: Path, display: str | None = None, *, follow_symlinks: bool = True) -> str:
    """Read a source file as UTF-8 (a UTF-8 byte-order mark is allowed), with type, size and encoding checks.

    Only a regular file is read, and at most MAX_SOURCE_BYTES of it (nvpolicy._fs): a FIFO, a device
    or an endless file is refused with its name, never waited on.
    """
    name = display or str(path)
    return decode(read_bytes(path, name, follow_symlinks=follow_symlinks, limit=MAX_SOURCE_BYTES), name)


def decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("file is UTF-16; nvpolicy reads UTF-8 only", location=Location(name),
                          hint="re-save the file as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                          location=Location(name, line, 1), hint="re-save the file as UTF-8") from None
    return text


def load_file(path: Path, display: str | None = None, *, follow_symlinks: bool = True) -> list[SourceDocument]:
    """Every non-empty document of a YAML file."""
    name = display or str(path)
    return load_text(read_text(path, name, follow_symlinks=follow_symlinks), name)


def load_text(text: str, name: str) -> list[SourceDocument]:
    loader = _Loader(text)
    # Without an anchor (`&`) there can be no alias, so no document can expand: skip measuring.
    aliases = "&" in text
    documents: list[SourceDocument] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is not None and not _is_empty(node):
                documents.append(_Builder(name, aliases).document(node, index))
            index += 1
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    except yaml.YAMLError as exc:  # reader errors carry no mark
        raise SourceError(f"invalid YAML: {exc}", location=Location(name)) from None
    finally:
        loader.dispose()
    return documents


def _is_empty(node: yaml.Node) -> bool:
    is_null = isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    return is_null and node.value in ("", "~", "null")


def _yaml_error(exc: yaml.MarkedYAMLError, name: str, text: str = "") -> SourceError:
    mark = exc.problem_mark or exc.context_mark
    location = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
    problem = exc.problem or "invalid YAML"
    context = f" {exc.context}" if exc.context else ""
    hint = None
    if "mapping values are not allowed" in problem:
        hint = "quote values that contain ': ' (a colon followed by a space)"
    elif "found character '\\t'" in problem or _char_at(text, mark) == "\t":
        hint = "indent with spaces; YAML does not allow tabs"
    return SourceError(f"invalid YAML: {problem}{context}", location=location, hint=hint)


def _char_at(text: str, mark: yaml.Mark | None) -> str:
    # libyaml's C parser reports a tab as "a character that cannot start any token", without naming it.
    if mark is None or not 0 <= mark.index < len(text):
        return ""
    return text[mark.index]


class _Builder:
    """Turns one composed node graph into plain Python data plus marks."""

    def __init__(self, name: str, aliases: bool = True) -> None:
        self.name = name
        self.aliases = aliases
        self.marks: dict[KeyPath, tuple[int, int]] = {}
        self.key_marks: dict[KeyPath, tuple[int, int]] = {}
        self.built: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.heights: dict[int, int] = {}

    def document(self, node: yaml.Node, index: int) -> SourceDocument:
        if self.aliases and self._size(node) > MAX_EXPANDED_NODES:
            raise SourceError(
                f"document expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases",
                location=self._where(node),
                hint="an alias bomb or a runaway anchor; write the values out or split the document",
            )
        if self.aliases and self.heights[id(node)] > MAX_DEPTH:
            # An alias is built once and shared, so building never walks its depth again: measure it here.
            raise SourceError(
                f"document nests deeper than {MAX_DEPTH} levels through YAML aliases",
                location=self._where(self._deep(node)),
                hint="anchors that hold aliases of other anchors chain up; write the values out",
            )
        data = self._build(node, ())
        return SourceDocument(data, Marks(self.name, self.marks, self.key_marks), index)

    def _deep(self, node: yaml.Node) -> yaml.Node:
        """The node at depth MAX_DEPTH on the deepest path: where the nesting passes the limit."""
        for _ in range(MAX_DEPTH):
            children = _children(node)
            if not children:
                break
            node = max(children, key=lambda child: self.heights.get(id(child), 1))
        return node

    def _where(self, node: yaml.Node) -> Location:
        return Location(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def _size(self, root: yaml.Node) -> int:
        # Iterative post-order walk with memoisation: shared (aliased) nodes are measured
        # once, but count as often as they are referenced.
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if key in self.sizes:
                continue
            children = _children(node)
            if expanded or not children:
                total = 1
                for child in children:
                    total += self.sizes.get(id(child), 1)
                    if total > MAX_EXPANDED_NODES:
                        break
                self.sizes[key] = total
                self.heights[key] = 1 + max((self.heights.get(id(child), 1) for child in children), default=0)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in self.sizes)
        return self.sizes[id(root)]

    def _build(self, node: yaml.Node, path: KeyPath) -> Any:
        # The key path is the nesting depth; refusing early keeps the recursion far from Python's limit.
        if len(path) > MAX_DEPTH:
            raise SourceError(
                f"document nests deeper than {MAX_DEPTH} levels",
                location=self._where(node),
                hint="NeuVector resources nest about ten levels; flatten the data",
            )
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        known = self.built.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self._tag_error(node)
            items: list[Any] = []
            self.built[id(node)] = items
            for position, child in enumerate(node.value):
                items.append(self._build(child, (*path, position)))
            return items
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        raise SourceError("unsupported YAML node", location=self._where(node))  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        tag = node.tag
        if tag in _AS_TEXT:
            return node.value
        construct = _SCALARS.get(tag)
        if construct is None:
            raise self._tag_error(node)
        if tag == _INT and len(node.value) > MAX_INT_DIGITS:
            raise self._int_error(node)  # before reading it: Python refuses to, past 4,300 digits
        value: Any = construct(_SCALAR_CONSTRUCTOR, node)
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise self._int_error(node)  # 0x… and 1:2:… forms read fine but could never be printed
        return value

    def _int_error(self, node: yaml.ScalarNode) -> SourceError:
        return SourceError(
            f"integer {node.value[:20]}… is too large: at most {MAX_INT_DIGITS:,} digits are allowed",
            location=self._where(node),
            hint="NeuVector numbers are ports and counts; quote the value if it is text",
        )

    def _tag_error(self, node: yaml.Node) -> SourceError:
        return SourceError(
            f"YAML tag {node.tag!r} is not allowed",
            location=self._where(node),
            hint="nvpolicy reads plain YAML data only: strings, numbers, booleans, lists and mappings",
        )

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        if node.tag != _MAP:
            raise self._tag_error(node)
        result: dict[str, Any] = {}
        self.built[id(node)] = result
        first_seen: dict[str, yaml.Node] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("mapping keys must be plain strings", location=self._where(key_node))
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                raise SourceError(
                    f"mapping key {key_node.value!r} is read as {type(key).__name__}, expected a string",
                    location=self._where(key_node),
                    hint=f"quote the key: '{key_node.value}'",
                )
            earlier = first_seen.get(key)
            if earlier is not None:
                raise SourceError(
                    f"duplicate key {key!r}: first defined on line {earlier.start_mark.line + 1}",
                    location=self._where(key_node),
                    hint="YAML keeps only one of them silently; remove or rename one",
                )
            first_seen[key] = key_node
            if not isinstance(value_node, yaml.ScalarNode) and value_node.start_mark.line != key_node.start_mark.line:
                self.key_marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self._build(value_node, (*path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, path: KeyPath) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self._build(source, path)
            if not isinstance(value, dict):
                raise SourceError("a merge key '<<' takes a mapping or a list of mappings",
                                  location=self._where(source))
            merged.update(value)
        return merged


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def iter_yaml_files(directory: Path, shown_from: Path | None = None) -> list[Path]:
    """``*.yaml`` and ``*.yml`` below a directory, recursively, in a stable order; hidden entries skipped.

    Every other entry is a regular file (read or not by suffix) or a folder; a symlink (to a file,
    a folder or nowhere), a FIFO, a socket or a device file below the directory is an error naming
    its path (relative to ``shown_from`` when given), never skipped silently: a linked folder or a
    FIFO would otherwise render as "0 objects". Links are refused even inside the project, so what
    renders is exactly what the folder holds.
    """
    files: list[Path] = []
    errors: list[NvPolicyError] = []
    _walk(directory, files, errors, shown_from, shown_from or directory)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(errors)
    return files


def _walk(directory: Path, files: list[Path], errors: list[NvPolicyError], shown_from: Path | None,
          root: Path) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        errors.append(SourceError(f"cannot list folder: {exc.strerror or exc}",
                                  location=Location(_shown(directory, shown_from))))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue  # gone since the listing
        if stat.S_ISDIR(mode):
            _walk(path, files, errors, shown_from, root)
        elif stat.S_ISREG(mode):
            if path.suffix in (".yaml", ".yml"):
                files.append(path)
        else:
            errors.append(_special_file_error(path, mode, _shown(path, shown_from), root))


def _special_file_error(path: Path, mode: int, shown: str, root: Path) -> SourceError:
    if stat.S_ISLNK(mode):
        if not os.path.exists(path):
            what = "is a dangling symlink"
        elif not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root)):
            what = "is a symlink to a file outside the project"
        else:
            what = "is a symlink"
        return SourceError(f"{what}; nvpolicy reads only the regular files and folders themselves",
                           location=Location(shown), hint="replace the link with the file or folder it points to")
    return SourceError(f"is {kind_of(mode)}, expected a YAML file or a folder", location=Location(shown),
                       hint="remove it: nvpolicy reads regular files only")


def _shown(path: Path, shown_from: Path | None) -> str:
    if shown_from is not None:
        with contextlib.suppress(ValueError):
            return path.relative_to(shown_from).as_posix()
    return str(path)
