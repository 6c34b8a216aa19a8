"""Expectation files read the fast way (libyaml events, no marks until a location is asked) give exactly
what the full loader gives: the same items, the same file:line of each, the same errors (hypothesis over
generated files in several YAML styles, valid and not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.errors import NvPolicyError
from nvpolicy.flowmodel import expect

ENDPOINTS = ({"service": "orders"}, {"service": "db", "namespace": "shop"}, {"peer": "db"}, {"address": "10.0.0.1"},
             {"nodes": True}, {"service": "web", "labels": {"app": "web"}}, {"service": 7}, {"peer": "db", "x": 1})


@st.composite
def item(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()):
        data: dict[str, Any] = {"group": draw(st.sampled_from(("orders", "nv.db.shop"))),
                                "process": draw(st.sampled_from(("/usr/bin/curl", "sh")))}
    else:
        data = {"from": draw(st.sampled_from(ENDPOINTS)), "to": draw(st.sampled_from(ENDPOINTS)),
                "port": draw(st.sampled_from(("tcp/5432", "udp/53", "icmp", "tcp/x", 5432)))}
        if draw(st.booleans()):
            data["app"] = "PostgreSQL"
    data["expect"] = draw(st.sampled_from(("allow", "deny", "violation", "maybe")))
    extra = draw(st.sampled_from((None, ("name", "a test"), ("env", "prod"), ("envs", ["qa", "prod"]),
                                  ("unknown", 1))))
    if extra:
        data[extra[0]] = extra[1]
    return data


@st.composite
def files(draw: Any) -> str:
    documents = draw(st.lists(st.lists(item(), max_size=4), min_size=1, max_size=2))
    style = draw(st.sampled_from((False, None, True)))  # block, mixed, flow
    texts = [yaml.safe_dump(document, default_flow_style=style, sort_keys=draw(st.booleans()))
             for document in documents]
    text = "---\n".join(texts) if len(texts) > 1 or draw(st.booleans()) else texts[0]
    twist = draw(st.sampled_from(("", "comment", "anchor", "blank", "quoted", "scalar")))
    if twist == "comment":
        text = "# expectations\n" + text.replace("\n", "  # note\n", 1)
    elif twist == "anchor" and text.startswith("- "):
        text = "- &first " + text[2:]  # an anchor: the fast read declines, the full loader reads it
    elif twist == "blank":
        text = "\n\n" + text.replace("\n", "\n\n", 2)
    elif twist == "quoted":
        text = text.replace("expect: allow", "expect: 'allow'").replace("expect: deny", 'expect: "deny"')
    elif twist == "scalar":
        text = "just text\n"
    return text


def outcome(project: Path) -> Any:
    try:
        return [(e.data, e.file, e.index, e.document.index, str(e.location))
                for e in expect.load_expectations(project)]
    except NvPolicyError as error:
        return ("error", str(error))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(files(), min_size=1, max_size=3))
def test_the_fast_read_gives_what_the_full_loader_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        texts: list[str]) -> None:
    project = tmp_path / "p"
    folder = project / "expect"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(texts):
        (folder / f"f{number}.yaml").write_text(text, encoding="utf-8")
    fast = outcome(project)
    with monkeypatch.context() as patched:
        patched.setattr("nvpolicy.fastload.load_indexed", lambda text: None)  # every file the full way
        full = outcome(project)
    assert fast == full


def test_a_location_is_read_from_the_text_that_was_loaded(tmp_path: Path) -> None:
    """The marks are built on demand from the text read at load time, not from the file again."""
    folder = tmp_path / "expect"
    folder.mkdir()
    path = folder / "a.yaml"
    path.write_text("# two\n# comments\n- {group: orders, process: /usr/bin/curl, expect: deny}\n", encoding="utf-8")
    [loaded] = expect.load_expectations(tmp_path)
    path.write_text("- {group: orders, process: /usr/bin/curl, expect: deny}\n", encoding="utf-8")
    assert str(loaded.location) == "expect/a.yaml:3:3"
