"""Properties of rendering generated valid projects: success, CRD-valid objects, data not text, determinism."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.pipeline import layout, render_environment

from tests.conftest import run_nvpolicy, tree_bytes, write_tree
from tests.crd_validator import crd_errors
from tests.property_sources import TRICKY_TEXT, projects

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(projects())
def test_valid_projects_render_to_crd_valid_objects(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = write_tree(Path(folder), files)
        rendered = render_environment(project, "test")
        environment = yaml.safe_load(files["environments/test.yaml"])
        assert rendered.objects
        for obj in rendered.objects:
            assert crd_errors(obj.data) == [], obj.data
            assert obj.data["metadata"]["namespace"] == environment["namespace"]
            # A value with ': ', '#' or a newline stays one string value, exactly as written.
            assert obj.data["spec"]["target"]["selector"]["comment"] == environment["vars"]["note"]
        outputs = layout(rendered.objects)
        assert outputs == layout(render_environment(project, "test").objects)
        by_path = {output.path: output.text for output in outputs}
        for obj in rendered.objects:
            matching = [text for path, text in by_path.items() if path.endswith(f"-{obj.id.name}.yaml")]
            assert [yaml.safe_load(text) for text in matching] == [obj.data]


@settings(max_examples=4, deadline=None)
@given(projects())
def test_cli_output_is_identical_across_hash_seeds(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = write_tree(Path(folder) / "project", files)
        trees = []
        for seed in ("1", "4242"):
            out = Path(folder) / f"out-{seed}"
            result = run_nvpolicy("-C", str(project), "render", "--env", "test", "--out", str(out),
                                  env={"PYTHONHASHSEED": seed})
            assert result.returncode == 0, result.stderr
            trees.append(tree_bytes(out))
        assert trees[0] == trees[1] and trees[0]


@FAST
@given(st.lists(TRICKY_TEXT, min_size=1, max_size=4))
def test_literal_tricky_values_stay_single_strings(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = write_tree(Path(folder), _one_rule_project())
        path = project / "policies" / "app.yaml"
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        document["spec"]["target"]["selector"]["comment"] = " / ".join(texts)
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        obj = render_environment(project, "test").objects[0]
        assert obj.data["spec"]["target"]["selector"]["comment"] == " / ".join(texts)
        assert yaml.safe_load(layout([obj])[0].text) == obj.data


def _one_rule_project() -> dict[str, str]:
    return {
        "environments/test.yaml": "namespace: web\npolicy_mode: Monitor\n",
        "policies/app.yaml": (
            "apiVersion: neuvector.com/v1\nkind: NvSecurityRule\n"
            "metadata: {name: 'nv.web.{{ namespace }}', namespace: '{{ namespace }}'}\n"
            "spec:\n  target:\n    policymode: '{{ policy_mode }}'\n"
            "    selector: {name: 'nv.web.{{ namespace }}', comment: x, criteria: "
            "[{key: service, op: '=', value: 'web.{{ namespace }}'},"
            " {key: domain, op: '=', value: '{{ namespace }}'}]}\n"
        ),
    }


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    files = _one_rule_project()
    project = write_tree(tmp_path, files)
    for relative in files:
        (project / relative).write_bytes(b"\xef\xbb\xbf" + files[relative].encode("utf-8"))
    result = run_nvpolicy("-C", str(project), "render", "--env", "test")
    assert result.returncode == 0, result.stderr
    assert os.listdir(project / "rendered" / "test" / "web") == ["nvsecurityrule-nv.web.web.yaml"]
