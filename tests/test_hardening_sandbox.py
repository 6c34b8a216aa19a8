"""The placeholder sandbox refuses, before running them, expressions whose result would be huge or random."""

from __future__ import annotations

import pytest
from nvpolicy.environment import Environment
from nvpolicy.errors import RenderError
from nvpolicy.model import Marks, SourceDocument
from nvpolicy.render import Renderer

ENVIRONMENT = Environment("test", "web", "Monitor", {}, {"port": 80}, {})


def _render(expression: str) -> object:
    document = SourceDocument({"value": expression}, Marks("policies/web.yaml", {("value",): (3, 8)}))
    rendered = Renderer(ENVIRONMENT).render(document)
    assert rendered is not None
    return rendered.data["value"]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("{{ 'a'.ljust(10**9) }}", "argument 1000000000 is too large"),
        ("{{ 'a'.zfill(10**9) }}", "argument 1000000000 is too large"),
        ("{{ '%0999999999d' % 1 }}", "% format width or precision is too large"),
        ("{{ '%*d' % (999999999, 1) }}", "% format width or precision is too large"),
        ("{{ '{:>999999999}'.format(1) }}", "str.format() is not available"),
        ("{{ ('\t' * 60000).expandtabs(60000) }}", "str.expandtabs() is not available"),
        ("{{ ('x' * 60000).replace('', 'y' * 60000) }}", "replace() would build a value larger than 64 KiB"),
        ("{{ ('x' * 60000) | replace('', 'y' * 60000) }}", "replace() would build a value larger than 64 KiB"),
        ("{{ 'x' | center(999999999) }}", "No filter named 'center'"),
        ("{{ ('a\n' * 30000) | indent(60000) }}", "No filter named 'indent'"),
        ("{{ [1, 2, 3] | random }}", "No filter named 'random'"),
        ("{{ lipsum(5) }}", "unknown placeholder name 'lipsum'"),
        ("{{ [1] | batch(999999999) }}", "argument 999999999 is too large"),
    ],
)
def test_unbounded_or_random_expressions_are_refused(expression: str, fragment: str) -> None:
    with pytest.raises(RenderError) as caught:
        _render(expression)
    assert fragment in caught.value.message
    assert str(caught.value.location) == "policies/web.yaml:3:8"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ 'x%sy' % 'z' }}", "xzy"),
        ("{{ '%5d' % port }}", "   80"),
        ("{{ 'ab'.replace('a', 'c') }}", "cb"),
        ("{{ 'ab' | replace('b', 'dd') }}", "add"),
        ("{{ ['a', 'b'] | join(',') }}", "a,b"),
        ("{{ 'web' | upper }}", "WEB"),
        ("{{ 'ab'.ljust(4, '-') }}", "ab--"),
    ],
)
def test_small_computations_still_work(expression: str, expected: str) -> None:
    assert _render(expression) == expected
