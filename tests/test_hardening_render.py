"""An unknown name inside a longer string is reported like one that is the whole value."""

from __future__ import annotations

import pytest
from nvpolicy.environment import Environment
from nvpolicy.errors import RenderError
from nvpolicy.model import Marks, SourceDocument
from nvpolicy.render import Renderer

ENVIRONMENT = Environment("test", "web", "Monitor", {}, {"http_port": 80}, {})


@pytest.mark.parametrize("value", ["{{ namespce }}", "tcp/{{ namespce }}", "{{ namespce }}-{{ env }}"])
def test_unknown_name_anywhere_in_a_value_gets_did_you_mean(value: str) -> None:
    document = SourceDocument({"ports": value}, Marks("policies/web.yaml", {("ports",): (7, 12)}))
    with pytest.raises(RenderError) as caught:
        Renderer(ENVIRONMENT).render(document)
    assert caught.value.message == f"unknown placeholder name 'namespce' in {value!r}"
    assert caught.value.hint == "did you mean 'namespace'?"
    assert str(caught.value.location) == "policies/web.yaml:7:12"
