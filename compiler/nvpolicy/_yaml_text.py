"""The emitter's fast path: block YAML written directly, each distinct scalar quoted once.

PyYAML's Python representer and resolver were most of a render's CPU time, although only a few
percent of the emitted strings are distinct. Here the structure (block mappings, indentless
sequences, flow ``{}``/``[]`` for empty ones) is written directly, and each distinct scalar's text
is asked of the real emitter once and cached, so the bytes are PyYAML's by construction. Anything
whose text could depend on its place (multi-line strings, keys PyYAML would not write as simple
keys, non-string keys, floats and other types) makes :func:`block_text` return None, and the
caller uses PyYAML for that document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

# libyaml writes a key of 128 bytes or more (tag and anchor counted) as a complex key ("? …");
# well below that, every key is a simple key whatever its tag.
_SIMPLE_KEY_BYTES = 100


class _Unusual(Exception):
    """The value holds something the fast path does not write."""


def make_block_text(scalar_of: Callable[[Any], str],
                    rank: Callable[[tuple[str, Any]], tuple[int, str]]) -> Callable[[Any], str | None]:
    """A writer for one document, given the real emitter's text of a lone scalar and the key order."""

    @lru_cache(maxsize=65536)
    def string(value: str) -> str:
        if "\n" in value or "\r" in value or "\x85" in value or "\u2028" in value or "\u2029" in value:
            raise _Unusual
        return scalar_of(value)

    def key_text(key: Any) -> str:
        if type(key) is not str or len(key.encode("utf-8", "surrogatepass")) > _SIMPLE_KEY_BYTES:
            raise _Unusual
        return string(key)

    def scalar(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return string(value)
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        raise _Unusual

    def mapping(value: dict[Any, Any], column: int, out: list[str], inline: bool) -> None:
        pad = " " * column
        for position, (key, item) in enumerate(sorted(value.items(), key=rank)):
            lead = "" if inline and position == 0 else pad
            head = f"{lead}{key_text(key)}:"
            kind = type(item)
            if kind is dict and item:
                out.append(head + "\n")
                mapping(item, column + 2, out, False)
            elif kind is list and item:
                out.append(head + "\n")
                sequence(item, column, out, False)
            elif kind is dict:
                out.append(head + " {}\n")
            elif kind is list:
                out.append(head + " []\n")
            else:
                out.append(f"{head} {scalar(item)}\n")

    def sequence(value: list[Any], column: int, out: list[str], inline: bool) -> None:
        pad = " " * column
        for position, item in enumerate(value):
            lead = ("" if inline and position == 0 else pad) + "- "
            kind = type(item)
            if kind is dict and item:
                out.append(lead)
                mapping(item, column + 2, out, True)
            elif kind is list and item:
                out.append(lead)
                sequence(item, column + 2, out, True)
            elif kind is dict:
                out.append(lead + "{}\n")
            elif kind is list:
                out.append(lead + "[]\n")
            else:
                out.append(lead + scalar(item) + "\n")

    def block_text(document: Any) -> str | None:
        if type(document) is not dict or not document:
            return None
        out: list[str] = []
        try:
            mapping(document, 0, out, False)
        except _Unusual:
            return None
        return "".join(out)

    return block_text
