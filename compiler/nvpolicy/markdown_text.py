"""Text from outside (events, exports, controller answers) inside Markdown that people read on GitHub.

Such text must show as itself and never as markup: an HTML comment ``<!--`` in a process command line
would hide the rest of a pull-request comment, ``<details>`` would fold it away, a backtick run would
end a code span or a fence, a pipe would break a table, a newline would start a heading or a list.
``inline`` makes one visible line of plain text, ``code`` a code span, ``fenced`` a fenced block.
"""

from __future__ import annotations

import re

from nvpolicy.learn.literal import printable

# What CommonMark or GitHub give a meaning inside a line: emphasis, code, links and images, raw HTML
# (``<``) and entities (``&``), table cells, issue references, strikethrough, mentions, math.
# Every ASCII punctuation character may be backslash-escaped in CommonMark; ``>`` and ``!`` mean
# nothing without a ``<`` or ``[`` and stay readable. ``://`` is broken up so no link is made.
_MARKUP = re.compile(r"([\\`*_\[\]<&|#~@$])|:(?=//)")
_BACKTICKS = re.compile(r"`+")


def inline(text: str) -> str:
    """``text`` as plain Markdown text on one line: control characters and line breaks spelled as
    escapes (``printable``), every markup character backslash-escaped."""
    return _MARKUP.sub(lambda match: "\\" + match.group(0), printable(text))


def code(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds (HTML is never parsed inside one)."""
    shown = printable(text)
    longest = max((len(run) for run in _BACKTICKS.findall(shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith(("`", " ")) or shown.endswith(("`", " ")) or not shown else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def fenced(text: str, info: str = "") -> list[str]:
    """A fenced code block holding ``text`` (several lines): the fence is longer than any backtick run
    in it, so no line inside can close it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *printable_lines(text), fence]


def printable_lines(text: str) -> list[str]:
    """The lines of ``text`` with what is not printable inside each spelled as an escape."""
    return [printable(line) for line in text.split("\n")]
