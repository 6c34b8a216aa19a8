"""The event reader (``nvpolicy.nv.events``) as commands use it: its refusals become input errors.

``nvpolicy.nv`` imports nothing above it, so the reader raises its own ``EventError``; ``import
--events``, ``propose`` and ``events`` read events through here and show a refusal like any other
bad input (file:line, key path, hint; exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from nvpolicy.errors import SourceError
from nvpolicy.learn.literal import printable
from nvpolicy.model import Location
from nvpolicy.nv import events as _reader
from nvpolicy.nv.events import (
    Endpoint,
    Events,
    NetworkEvent,
    ProcessEvent,
    canonical_applications,
    format_time,
    group_of,
    is_external,
    port_spec,
    reported_time,
)

__all__ = [
    "Endpoint", "Events", "NetworkEvent", "ProcessEvent", "canonical_applications", "format_time", "group_of",
    "is_external", "parse_events", "parse_since", "port_spec", "reported_time",
]

_T = TypeVar("_T")


def parse_events(texts: Iterable[tuple[str, str]]) -> Events:
    """Every event of the (display name, text) inputs; see ``nvpolicy.nv.events.parse_events``."""
    return _as_input_error(lambda: _reader.parse_events(texts))


def parse_since(text: str, now: float) -> float:
    """``--since``: a duration back from now (``30m``, ``24h``, ``7d``) or an ISO 8601 time."""
    return _as_input_error(lambda: _reader.parse_since(text, now))


def _as_input_error(read: Callable[[], _T]) -> _T:
    try:
        return read()
    except _reader.EventError as error:
        where = error.location
        location = Location(where.file, where.line, where.column) if where is not None and where.file else None
        # An event's own text (ids, keys) may be in the message: shown printable, one line.
        raise SourceError(printable(error.message), location=location, path=error.path, hint=error.hint) from None
