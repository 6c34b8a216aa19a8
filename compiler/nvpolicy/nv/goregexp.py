"""Go ``regexp`` (RE2 syntax): whether a pattern compiles as the controller compiles it.

The controller compiles criteria and profile filters with Go's ``regexp``, which is RE2: no
lookaround, no backreferences, Unicode classes such as ``\\p{L}``. google-re2 is the same engine.
It is imported on the first pattern, not with the rules: most runs compile none, and the import
costs tens of milliseconds of every start.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any


@cache
def _engine() -> tuple[Any, Any]:
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise print each syntax error to stderr
    return re2, options


@lru_cache(maxsize=4096)  # bounded: patterns come from the files being validated
def compile_error(pattern: str) -> str | None:
    """RE2's message when ``pattern`` does not compile, else None."""
    re2, options = _engine()
    try:
        re2.compile(pattern, options)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None
