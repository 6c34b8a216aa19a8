"""The 5 real NeuVector files of the reference import without error and render back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, run_nvpolicy, write_tree
from tests.import_helpers import expected_ports, export_items, normalised, rendered_objects, selector_key, traffic

FILES = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
# Files NeuVector itself rejects (issue #1283: policymode Monitor on an address group).
REJECTED_BY_NEUVECTOR = {
    "neuvector-issue-1283_nvclustersecurityrule-address.yaml": "has no policy mode, so policymode 'Monitor' is refused",
}


def test_all_five_examples_are_there() -> None:
    assert len(FILES) == 5


@pytest.mark.parametrize("name", FILES)
def test_literal_import_renders_back_to_the_normalised_file(name: str, tmp_path: Path) -> None:
    # Without --namespace nothing is lifted: rendering gives the file back, modulo the normalisations.
    project = write_tree(tmp_path, {"environments/any.yaml": "namespace: any\npolicy_mode: Monitor\n"})
    result = run_nvpolicy("-C", str(project), "import", str(EXAMPLES / name))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = project / "out"
    rendered = run_nvpolicy("-C", str(project), "render", "--env", "any", "--out", str(out))
    if name in REJECTED_BY_NEUVECTOR:
        # Imported faithfully; the controller's own check then refuses it, pointing at the imported source.
        assert rendered.returncode == 2
        assert REJECTED_BY_NEUVECTOR[name] in rendered.stderr and "policies/" in rendered.stderr
        return
    assert rendered.returncode == 0, rendered.stderr
    objects = rendered_objects(out)
    items = [normalised(item) for item in export_items((EXAMPLES / name).read_text(encoding="utf-8"))]
    assert len(objects) == len(items)
    by_name = {data["metadata"]["name"]: data for data in objects.values()}
    for item in items:
        got = by_name[item["metadata"]["name"]]
        assert selector_key(got["spec"]["target"]["selector"]) == selector_key(item["spec"]["target"]["selector"])
        for direction in ("ingress", "egress"):
            assert traffic(got["spec"].get(direction)) == traffic(item["spec"].get(direction))
        assert got["spec"].get("process") == item["spec"].get("process")


def test_docs_sample_lifted_for_demo_renders_back_for_demo(tmp_path: Path) -> None:
    sample = EXAMPLES / "neuvector-docs_usingcrd_sample-exported-crd.yaml"
    result = run_nvpolicy("-C", str(tmp_path), "import", str(sample), "-n", "demo", "--env-out",
                          "environments/demo.yaml")
    assert result.returncode == 0, result.stderr
    # The external address group `test` became a peer bound with its original group name.
    assert "test: {address: google.com, group: test, port: 443}" in result.stdout
    assert "policymode Protect (the namespace's is Monitor)" in result.stdout
    out = tmp_path / "out"
    rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", "demo", "--out", str(out))
    assert rendered.returncode == 0, rendered.stderr
    objects = rendered_objects(out)
    items = {(i["metadata"]["namespace"], i["metadata"]["name"]): normalised(i)
             for i in export_items(sample.read_text(encoding="utf-8"))}
    del items[("kube-system", "nv.kube-dns.kube-system")]  # a linked stub: left out, and reported
    assert set(objects) == set(items)
    locks = {"nv.node-pod.demo": "tcp/80", "nv.exploit.demo": "tcp/80", "test": "tcp/443",
             "nv.redis-pod.demo": "tcp/6379", "nv.kube-dns.kube-system": "udp/53"}
    for key, item in items.items():
        got = objects[key]
        assert got["spec"]["target"]["policymode"] == item["spec"]["target"]["policymode"]
        for direction in ("ingress", "egress"):
            assert traffic(got["spec"].get(direction)) == traffic(item["spec"].get(direction), locks)
        assert got["spec"].get("process") == item["spec"].get("process")


# The examples that NeuVector learned in one namespace, lifted: (file, namespace, linked stubs left out).
LIFTED = [
    ("neuvector-docs_usingcrd_sample-exported-crd.yaml", "demo", {"nv.kube-dns.kube-system"}),
    ("neuvector-docs_usingcrd_customized-ns1global.yaml", "ns1", set()),
    ("neuvector-docs_usingcrd_global-rules.yaml", "default", set()),
]


@pytest.mark.parametrize(("name", "namespace", "stubs"), LIFTED)
def test_lifted_examples_render_back_and_pass_lint(name: str, namespace: str, stubs: set[str], tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(tmp_path), "import", str(EXAMPLES / name), "-n", namespace, "--env-out",
                          "environments/src.yaml")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", "src", "--out", str(out))
    assert rendered.returncode == 0, rendered.stderr
    lint = run_nvpolicy("-C", str(tmp_path), "lint", "--env", "src")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    by_name = {data["metadata"]["name"]: data for data in rendered_objects(out).values()}
    items = [normalised(item) for item in export_items((EXAMPLES / name).read_text(encoding="utf-8"))
             if item["metadata"]["name"] not in stubs]
    assert sorted(by_name) == sorted(item["metadata"]["name"] for item in items)
    for item in items:
        got = by_name[item["metadata"]["name"]]
        assert got["spec"]["target"].get("policymode") == item["spec"]["target"].get("policymode")
        assert selector_key(got["spec"]["target"]["selector"]) == selector_key(item["spec"]["target"]["selector"])
        for direction in ("ingress", "egress"):
            want = sorted((r["action"], tuple(sorted(r.get("applications") or [])), expected_ports(r),
                           selector_key(r["selector"])) for r in item["spec"].get(direction) or [])
            have = sorted((r["action"], tuple(sorted(r.get("applications") or [])),
                           tuple(sorted(str(r.get("ports", "any")).split(","))), selector_key(r["selector"]))
                          for r in got["spec"].get(direction) or [])
            assert have == want
        assert got["spec"].get("process") == item["spec"].get("process")
        assert got["spec"].get("file") == item["spec"].get("file")
