"""A fast YAML load for rendered trees: plain data, no marks, anything unusual left to the full loader.

``nvpolicy.source.load_text`` composes a node graph and records a mark for every value, so any
error can name its file:line. A diff of two rendered trees, or ``validate`` of one, reads thousands
of files nvpolicy wrote itself, where errors are rare and marks are seldom read (validate makes
them with the full loader only for a file that has a finding). This builds the data straight from
libyaml's C parser events, and declines (returns None) whenever a file holds anything the full
loader would refuse or treat specially: duplicate or non-string keys, tags, anchors and aliases,
merge keys, deep nesting, invalid YAML. The caller then loads that file again with
``load_text``, which refuses it with file:line or accepts it as it always has — so the result is
the full loader's, only sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent

# One definition of how scalars read: the full loader's own tables.
from nvpolicy.source import (
    _AS_TEXT,
    _INT,
    _MAX_INT_BITS,
    _SCALAR_CONSTRUCTOR,
    _SCALARS,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    _Loader,
)

_NULL = "tag:yaml.org,2002:null"


class _Decline(Exception):
    """The full loader must see this file."""


# Plain (unquoted) scalar text -> its value. Resolving is a pure function of the text, and the
# values (str, int, float, bool, None) are immutable, so they are shared freely.
_plain: dict[str, Any] = {}


def _resolve_plain(loader: Any, text: str) -> Any:
    tag = loader.resolve(yaml.ScalarNode, text, (True, False))
    if tag in _AS_TEXT:
        value: Any = text
    else:
        construct = _SCALARS.get(tag)
        if construct is None or (tag == _INT and len(text) > MAX_INT_DIGITS):  # a merge key, a huge integer
            raise _Decline
        value = construct(_SCALAR_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise _Decline  # the full loader explains why it is refused
    _plain[text] = value
    return value


def load_documents(text: str) -> list[Any] | None:
    """The data of every non-empty document, or None when ``load_text`` must load this text."""
    indexed = load_indexed(text)
    return None if indexed is None else [data for _, data in indexed]


def load_indexed(text: str) -> list[tuple[int, Any]] | None:
    """Each non-empty document's index in the stream (``SourceDocument.index``) and data, or None
    when ``load_text`` must load this text."""
    # No anchor is ever followed (any declines), so nothing can expand: no alias bomb to bound.
    loader = _Loader(text)
    try:
        return _documents(loader)
    except (_Decline, yaml.YAMLError):
        return None
    finally:
        loader.dispose()


def _documents(loader: Any) -> list[tuple[int, Any]]:
    get: Callable[[], Any] = loader.get_event
    plain = _plain

    def value(event: Any, depth: int) -> Any:
        cls = type(event)
        if cls is ScalarEvent:
            if event.tag is not None or event.anchor is not None:
                raise _Decline
            text = event.value
            if not event.implicit[0]:  # quoted or block: always text
                return text
            found = plain.get(text, plain)
            return _resolve_plain(loader, text) if found is plain else found
        if event.tag is not None or event.anchor is not None or depth >= MAX_DEPTH:
            raise _Decline
        if cls is MappingStartEvent:
            mapping: dict[str, Any] = {}
            while True:
                key_event = get()
                if type(key_event) is MappingEndEvent:
                    return mapping
                if type(key_event) is not ScalarEvent or key_event.tag is not None or key_event.anchor is not None:
                    raise _Decline
                key = key_event.value
                if key_event.implicit[0]:
                    read = plain.get(key, plain)
                    read = _resolve_plain(loader, key) if read is plain else read
                    if not isinstance(read, str):
                        raise _Decline  # a key read as a number, a bool, null or a merge key
                    # The one string object of this text (``_plain`` holds it): every mapping shares
                    # its keys, and their hashes are computed once, not once per document.
                    key = read
                if key in mapping:
                    raise _Decline
                mapping[key] = value(get(), depth + 1)
        if cls is SequenceStartEvent:
            items: list[Any] = []
            while True:
                item = get()
                if type(item) is SequenceEndEvent:
                    return items
                items.append(value(item, depth + 1))
        raise _Decline  # an alias

    documents: list[tuple[int, Any]] = []
    get()  # stream start
    index = 0
    while True:
        start = get()
        if type(start) is not yaml.DocumentStartEvent:
            return documents  # stream end
        root = get()
        data = value(root, 0)
        get()  # document end
        # As load_text: a document that is only `~`, `null` or nothing is no document, but it counts.
        if not (type(root) is ScalarEvent and root.implicit[0] and root.value in ("", "~", "null")):
            documents.append((index, data))
        index += 1
