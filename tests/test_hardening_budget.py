"""Placeholders are bounded in time and size: per placeholder and per render, refused with file:line.

Budgets are set small here so each refusal comes in well under a second; the structural bounds
(one value at most 64 KiB, integers at most 1,024 bits, joins and repetitions measured before
they are built) are checked with their defaults.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.budget import Budget, weight
from nvpolicy.environment import Environment
from nvpolicy.errors import RenderBudgetError, RenderError
from nvpolicy.model import Marks, SourceDocument
from nvpolicy.render import Renderer

from tests.conftest import run_nvpolicy

ENVIRONMENT = Environment("test", "web", "Monitor", {}, {"port": 80, "big": "x" * 40_000}, {})
WHERE = "policies/web.yaml:3:8"


def _document(value: str, line: int = 3) -> SourceDocument:
    return SourceDocument({"value": value}, Marks("policies/web.yaml", {("value",): (line, 8)}))


def _render(value: str, budget: Budget | None = None) -> object:
    rendered = Renderer(ENVIRONMENT, budget or Budget()).render(_document(value))
    assert rendered is not None
    return rendered.data["value"]


def _refused(value: str, budget: Budget | None = None) -> RenderError:
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        _render(value, budget)
    assert time.monotonic() - started < 1.5, "a refusal must come quickly"
    assert str(caught.value.location) == WHERE
    return caught.value


@pytest.mark.parametrize(("expression", "fragment"), [
    # bytes, text and lists built by repetition, measured before they are built
    ("{{ 'x'.encode() * 10**9 }}", "repetition would build a value larger than 64 KiB"),
    ("{{ 'ab'.encode() * 40000 }}", "repetition would build"),
    ("{{ [range(60000) | list] * 60000 }}", "repetition would build"),
    ("{{ [big] * 2 }}", "repetition would build"),
    # joins of huge sequences, with ~, join, str.join and in a longer string
    ("{{ range(65536) | map('string') | join('x' * 60000) }}", "joining would build"),
    ("{{ range(60000) | list | join(',') }}", "joining would build"),
    ("{{ ','.join([big, big]) }}", "joining would build"),
    ("{{ big ~ big }}", "joining would build"),
    ("a{{ big }}b{{ big }}", "more than 64 KiB of text"),
    ("{{ big }}{{ big }}", "more than 64 KiB of text"),
    # tojson with a huge indent, or a huge value
    ("{{ [1] | tojson(65536) }}", "tojson's indent must be 0 to 16"),
    ("{{ range(60000) | list | tojson }}", "tojson would build"),
    # big integers: powers, products, literals
    ("{{ (2**64)**64 }}", "the power would be larger than 1,024 bits"),
    ("{{ 10 ** 64 ** 64 }}", "the power would be larger than 1,024 bits"),
    ("{{ (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) "
     "* (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) * (2**60) }}",
     "a number larger than 1,024 bits"),
    ("{{ " + "9" * 4400 + " }}", "more than 4,300 digits"),
    # % formatting that repeats one value
    ("{{ '%(a)s%(a)s%(a)s' % {'a': 'x' * 30000} }}", "% formatting would build"),
    # growth through filters: sum of lists, nested map chains, long select chains
    ("{{ [[1] * 40000, [2] * 40000] | sum(start=[]) }}", "sum() adds numbers"),
    ("{{ range(65536) | map('string') | map('int') | map('string') | map('int') | sum }}",
     "more than 10,000 steps"),
    ("{{ range(60000) | select | select | select | list | length }}", "more than 10,000 steps"),
    # methods and helpers whose output size is set inside the call
    ("{{ 'ab'.translate({97: 'x' * 60000}) }}", "str.translate() is not available"),
    ("{{ lipsum() }}", "unknown placeholder name 'lipsum'"),
    ("{{ 'x' | urlize }}", "No filter named 'urlize': it is not available in placeholders"),
    # a value with placeholders longer than any placeholder needs
    ("{{ port }}" + "{{ '' }}" * 9000, "longer than 64 KiB"),
    # and one whose compilation alone would take seconds: 30,000 list items, 20,000 ~ terms
    ("{{ [" + "1," * 30000 + "1] | length }}", "more than 2,000 tokens"),
    ("{{ " + "port~" * 9000 + "1 }}", "more than 2,000 tokens"),
])
def test_runaway_placeholders_are_refused_quickly_with_their_location(expression: str, fragment: str) -> None:
    assert fragment in _refused(expression).message


@pytest.mark.parametrize(("expression", "suggestion"), [
    ("{{ ['a'] | map('lenght') | list }}", "did you mean 'length'?"),
    ("{{ 'a' | lenght }}", "did you mean 'length'?"),
    ("{{ 'a' | uper }}", "did you mean 'upper'?"),
    ("{{ [1, 2] | select('od') | list }}", "did you mean 'odd'?"),
])
def test_filter_and_test_typos_get_a_did_you_mean(expression: str, suggestion: str) -> None:
    error = _refused(expression)
    assert error.message.startswith("No ")
    assert error.hint == suggestion


def test_a_placeholder_past_its_cpu_time_is_stopped_by_the_deadline() -> None:
    budget = Budget(placeholder_seconds=0.02, placeholder_steps=10**9)
    started = time.monotonic()
    error = _refused("{{ range(65536) | map('string') | map('int') | map('string') | map('int') | sum }}", budget)
    assert "runs longer than 0.02s of CPU time" in error.message
    assert "NVPOLICY_PLACEHOLDER_SECONDS" in (error.hint or "")
    assert time.monotonic() - started < 1


def test_a_placeholder_that_builds_too_much_in_all_is_stopped() -> None:
    budget = Budget(placeholder_size=100_000)
    error = _refused("{{ range(30) | map('string') | map('replace', '', 'y' * 5000) | list | length }}", budget)
    assert "builds more than 100,000 characters + items in all" in error.message


def test_the_render_stops_once_its_total_cpu_budget_is_spent() -> None:
    renderer = Renderer(ENVIRONMENT, Budget(render_seconds=0.05, placeholder_steps=10**9))
    slow = "{{ range(20000) | map('string') | map('int') | sum }}"
    started = time.monotonic()
    with pytest.raises(RenderBudgetError) as caught:
        for line in range(1, 1000):
            renderer.render(_document(slow, line))
    assert time.monotonic() - started < 2
    assert "take more than 0.05s of CPU time in all; rendering stops here" in caught.value.message
    assert caught.value.location is not None and caught.value.location.file == "policies/web.yaml"


def test_the_render_stops_once_its_results_are_too_large_in_all() -> None:
    renderer = Renderer(ENVIRONMENT, Budget(render_size=100_000))
    with pytest.raises(RenderBudgetError) as caught:
        for line in range(1, 10):
            renderer.render(_document("{{ big }}", line))  # 40,000 characters each, a fast path
    assert "yield more than 100,000 characters + items in all" in caught.value.message
    assert caught.value.location is not None and caught.value.location.line == 3


def test_one_render_budget_error_is_one_message(tmp_path: Path) -> None:
    """Every document after the budget is spent would fail the same way; the command says it once."""
    policy = ("apiVersion: neuvector.com/v1\nkind: NvGroupDefinition\nmetadata:\n  name: g{n}\n  namespace: web\n"
              "spec:\n  selector:\n    name: g{n}\n    comment: \"{{{{ range(65536) | map('string') | map('int') "
              "| sum }}}}\"\n    criteria: [{{key: service, op: =, value: a.web}}]\n")
    (tmp_path / "policies").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "test.yaml").write_text("namespace: web\npolicy_mode: Monitor\n", encoding="utf-8")
    for n in range(30):
        (tmp_path / "policies" / f"g{n}.yaml").write_text(policy.format(n=n), encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "render", "--env", "test",
                          env={"NVPOLICY_RENDER_SECONDS": "0.05", "NVPOLICY_PLACEHOLDER_STEPS": "1000000"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("error:") == 1, result.stderr
    assert "rendering stops here" in result.stderr and "NVPOLICY_RENDER_SECONDS" in result.stderr
    assert not (tmp_path / "rendered").exists()


def test_budgets_are_settings_and_a_bad_setting_is_bad_input(tmp_path: Path) -> None:
    assert Budget.from_environ({}) == Budget()
    assert Budget.from_environ({"NVPOLICY_PLACEHOLDER_STEPS": "50", "NVPOLICY_PLACEHOLDER_SECONDS": "0.5",
                                "NVPOLICY_VALUE_SIZE": "1_000"}) == Budget(placeholder_steps=50,
                                                                           placeholder_seconds=0.5, value_size=1000)
    for variable, raw in (("NVPOLICY_PLACEHOLDER_STEPS", "many"), ("NVPOLICY_RENDER_SECONDS", "nan"),
                          ("NVPOLICY_VALUE_SIZE", "-5"), ("NVPOLICY_PLACEHOLDER_STEPS", "1.5")):
        with pytest.raises(RenderError) as caught:
            Budget.from_environ({variable: raw})
        assert variable in caught.value.message
    import shutil

    project = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "bad_inputs" / "_base", project)
    policy = project / "policies" / "web.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        '"{{ policy_mode }}"', '"{{ policy_mode | lower | capitalize }}"'), encoding="utf-8")
    assert run_nvpolicy("-C", str(project), "render", "--env", "test").returncode == 0
    result = run_nvpolicy("-C", str(project), "render", "--env", "test", env={"NVPOLICY_PLACEHOLDER_STEPS": "1"})
    assert result.returncode == 2 and "more than 1 steps" in result.stderr, result.stderr
    assert "policies/web.yaml:8:" in result.stderr
    result = run_nvpolicy("-C", str(project), "render", "--env", "test", env={"NVPOLICY_PLACEHOLDER_STEPS": "zero"})
    assert result.returncode == 2 and "NVPOLICY_PLACEHOLDER_STEPS='zero'" in result.stderr, result.stderr


@pytest.mark.parametrize(("expression", "expected"), [
    ("{{ port + 1 }}", 81),
    ("{{ [1, 2, 3] | sum }}", 6),
    ("{{ range(3) | map('string') | join(',') }}", "0,1,2"),
    ("{{ ['a', 'b'] | join }}", "ab"),
    ("{{ '-'.join(['a', 'b']) }}", "a-b"),
    ("{{ 'tcp/' ~ port }}", "tcp/80"),
    ("{{ {'a': [1, 2]} | tojson }}", '{"a": [1, 2]}'),
    ("{{ [1, 2] | tojson(2) }}", "[\n  1,\n  2\n]"),
    ("{{ '<&>' | tojson }}", '"\\u003c\\u0026\\u003e"'),
    ("{{ 2 ** 64 }}", 2**64),
    ("{{ 'ab' * 3 }}", "ababab"),
    ("{{ [0] * 3 }}", [0, 0, 0]),
    ("{{ '%s-%d' % ('a', port) }}", "a-80"),
    ("{{ range(5) | batch(2) | list }}", [[0, 1], [2, 3], [4]]),
    ("{{ range(10) | select('odd') | list }}", [1, 3, 5, 7, 9]),
    ("x{{ port }}y{{ env }}", "x80ytest"),
    ("{{ big | length }}", 40_000),
])
def test_ordinary_placeholders_are_untouched(expression: str, expected: object) -> None:
    assert _render(expression) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["'ab'", "port", "[1, 2]", "'x' * 3000", "range(50) | list", "big"]),
                min_size=1, max_size=6),
       st.sampled_from([" ~ ", " + ", " * 7 * ", " | join("]))
def test_any_mix_of_operators_is_bounded_or_refused(parts: list[str], operator: str) -> None:
    """Whatever is combined, the result is a small value or a RenderError: never a crash or a hang."""
    expression = "{{ " + (operator.join(parts) if operator != " | join(" else f"[{', '.join(parts)}] | join") + " }}"
    started = time.monotonic()
    try:
        value = _render(expression)
    except RenderError as error:
        assert str(error.location) == WHERE
    else:  # the documented bound: NVPOLICY_VALUE_SIZE characters + items (a list prints longer than that)
        limit = Budget().value_size
        assert weight(value, limit + 1) <= limit
    assert time.monotonic() - started < 1.5
