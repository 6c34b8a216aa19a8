"""The bundled example renders for dev, qa and prod, and every object passes the real CRDs strictly."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import CRD_FILE, REPO, run_nvpolicy, tree_bytes

ENVIRONMENTS = ("dev", "qa", "prod")


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The CRD schema as the API server prunes: any field not listed where properties are listed is lost."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        stack.extend(node.get("properties", {}).values())
        if isinstance(node.get("items"), dict):
            stack.append(node["items"])
    return schema


def crd_validators() -> dict[str, Draft202012Validator]:
    validators = {}
    for crd in yaml.safe_load_all(CRD_FILE.read_text()):
        if not crd:
            continue
        schema = strict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        # Kubernetes itself owns the envelope.
        schema["properties"].update(apiVersion={"const": "neuvector.com/v1"}, kind={"type": "string"},
                                    metadata={"type": "object"})
        validators[crd["spec"]["names"]["kind"]] = Draft202012Validator(schema)
    return validators


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("rendered")
    trees = {}
    for env in ENVIRONMENTS:
        result = run_nvpolicy("-C", str(REPO), "render", "--env", env, "--out", str(out / env))
        assert result.returncode == 0, result.stderr
        trees[env] = tree_bytes(out / env)
    return trees


def objects(tree: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {path: yaml.safe_load(data) for path, data in tree.items() if path != "kustomization.yaml"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_object_passes_the_published_crd_strictly(rendered: dict[str, dict[str, bytes]], env: str) -> None:
    validators = crd_validators()
    assert len(validators) == 9
    found = objects(rendered[env])
    assert found
    for path, obj in found.items():
        errors = [e.message for e in validators[obj["kind"]].iter_errors(obj)]
        assert errors == [], f"{env}/{path}: {errors}"


def test_strict_crd_check_catches_a_pruned_field() -> None:
    validator = crd_validators()["NvSecurityRule"]
    obj = {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule", "metadata": {},
           "spec": {"target": {"selector": {"name": "x", "colour": "red"}}}}
    assert any("colour" in e.message for e in validator.iter_errors(obj))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kustomization_lists_every_file(rendered: dict[str, dict[str, bytes]], env: str) -> None:
    kustomization = yaml.safe_load(rendered[env]["kustomization.yaml"])
    assert kustomization["resources"] == sorted(p for p in rendered[env] if p != "kustomization.yaml")


def _orders(tree: dict[str, bytes]) -> dict[str, Any]:
    return next(o for o in objects(tree).values() if o["metadata"]["name"].startswith("nv.orders."))


def test_the_story_dev_qa_prod(rendered: dict[str, dict[str, bytes]]) -> None:
    dev, qa, prod = (_orders(rendered[env]) for env in ENVIRONMENTS)
    assert [o["metadata"]["namespace"] for o in (dev, qa, prod)] == ["dev", "qa-namespace", "orders-prod"]
    assert [o["spec"]["target"]["policymode"] for o in (dev, qa, prod)] == ["Discover", "Monitor", "Protect"]
    db = [next(r for r in o["spec"]["egress"] if r["name"] == "orders-to-db") for o in (dev, qa, prod)]
    assert [r["ports"] for r in db] == ["tcp/5432"] * 3
    assert [r["applications"] for r in db] == [["PostgreSQL"]] * 3
    assert db[0]["selector"]["name"] == "nv.postgres.dev"
    assert db[1]["selector"] == {
        "name": "nv.postgres.qa-db",
        "criteria": [{"key": "service", "op": "=", "value": "postgres.qa-db"},
                     {"key": "domain", "op": "=", "value": "qa-db"}],
    }
    assert db[2]["selector"] == {
        "name": "ext.db.orders-prod",
        "criteria": [{"key": "address", "op": "=", "value": "url-to-my-external-db.com"}],
    }
    assert [p["name"] for p in prod["spec"]["process"]] == ["java", "pause"]
    # The in-cluster database's own policy exists only where the database runs beside orders.
    assert sum("postgres" in path for path in rendered["dev"]) == 1
    assert not any("postgres" in path for env in ("qa", "prod") for path in rendered[env])


def test_output_reads_the_same_in_yaml_1_2(rendered: dict[str, dict[str, bytes]]) -> None:
    from ruamel.yaml import YAML

    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 2)
    for tree in rendered.values():
        for path, data in tree.items():
            assert reader.load(data.decode()) == yaml.safe_load(data), path


def test_package_ships_the_schemas(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                             "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("nvpolicy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.split("/")[-1] for n in names if n.startswith("nvpolicy/schemas/"))
    assert shipped == sorted(p.name for p in (REPO / "schemas").glob("*.schema.json"))
