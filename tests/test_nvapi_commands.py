"""``nvpolicy pull``, ``events`` and ``push`` end to end, against the fake controller on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nvpolicy.source import load_text

from tests.conftest import EXAMPLES, run_nvpolicy
from tests.fake_controller import APIKEY, PASSWORD, TOKEN, USERNAME, FakeController

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a test cert")
LOGIN = {"NVPOLICY_USERNAME": USERNAME, "NVPOLICY_PASSWORD": PASSWORD, "NVPOLICY_APIKEY": ""}


def test_pull_writes_the_export(fake: FakeController, cert: tuple[Path, Path], tmp_path: Path) -> None:
    export = sorted(EXAMPLES.glob("*.yaml"))[0].read_text(encoding="utf-8")
    fake.state.export_yaml = export
    out = tmp_path / "export.yaml"
    result = run_nvpolicy("pull", "--controller", fake.url, "--ca-file", str(cert[0]), "--group", "nv.orders.dev",
                          "-o", str(out), env=LOGIN)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == export
    assert "pulled" in result.stderr
    assert json.loads(fake.state.requests[1].body)["groups"] == ["nv.orders.dev"]
    assert PASSWORD not in result.stdout + result.stderr


def test_pull_refuses_a_non_export(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.export_yaml = "<html>login</html>"
    result = run_nvpolicy("pull", "--controller", fake.url, "--ca-file", str(cert[0]), "-g", "nv.a.b",
                          env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 2
    assert "not a kind: List export" in result.stderr
    assert result.stdout == ""


def test_events_filters_by_since(fake: FakeController, cert: tuple[Path, Path], tmp_path: Path) -> None:
    fake.state.violations = [{"id": "old", "reported_timestamp": 1_000_000_000},
                             {"id": "new", "reported_at": "2099-01-01T00:00:00Z"}]
    fake.state.incidents = [{"id": "i-new", "reported_timestamp": 4_000_000_000}]
    out = tmp_path / "events.json"
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "--since", "7d",
                          "-o", str(out), env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [v["id"] for v in data["violations"]] == ["new"]
    assert [i["id"] for i in data["incidents"]] == ["i-new"]
    assert "1 violation, 1 incident" in result.stderr


def test_the_controller_url_comes_from_nvpolicy_controller(fake: FakeController, cert: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    fake.state.violations = [{"id": "v", "reported_timestamp": 4_000_000_000}]
    result = run_nvpolicy("events", "--ca-file", str(cert[0]),
                          env={"NVPOLICY_APIKEY": APIKEY, "NVPOLICY_CONTROLLER": fake.url})
    assert result.returncode == 0, result.stderr
    assert [v["id"] for v in json.loads(result.stdout)["violations"]] == ["v"]
    # The option wins over the variable.
    wrong = run_nvpolicy("events", "--controller", fake.url + "0", "--ca-file", str(cert[0]), "--timeout", "1",
                         env={"NVPOLICY_APIKEY": APIKEY, "NVPOLICY_CONTROLLER": fake.url})
    assert wrong.returncode != 0 and wrong.stdout == ""


def test_push_imports_the_rendered_list_and_waits(fake: FakeController, cert: tuple[Path, Path],
                                                  example_project: Path) -> None:
    fake.state.import_polls_before_done = 2
    result = run_nvpolicy("-C", str(example_project), "push", "--controller", fake.url, "--ca-file", str(cert[0]),
                          "--env", "prod", "--poll-interval", "0", env=LOGIN)
    assert result.returncode == 0, result.stderr
    assert "import: importing 10%" in result.stderr and "import: done 100%" in result.stderr
    [imported] = fake.state.imported
    documents = [d.data for d in load_text(imported, "imported")]
    assert all(d["kind"] == "List" for d in documents)
    names = {item["metadata"]["name"] for d in documents for item in d["items"]}
    assert "nv.orders.orders-prod" in names
    assert fake.paths()[-1] == "DELETE /v1/auth"


def test_push_reports_a_failed_import(fake: FakeController, cert: tuple[Path, Path], example_project: Path) -> None:
    fake.state.import_failure = "Invalid security rule(s)"
    result = run_nvpolicy("-C", str(example_project), "push", "--controller", fake.url, "--ca-file", str(cert[0]),
                          "--env", "qa", "--poll-interval", "0", env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 2
    assert "import failed: Invalid security rule(s)" in result.stderr


def test_auth_failure_exits_2_without_secrets(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.reject_login = True
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), env=LOGIN)
    assert result.returncode == 2
    assert "authentication failed" in result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr + result.stdout


def test_untrusted_certificate_refused_then_insecure_accepted(fake: FakeController) -> None:
    refused = run_nvpolicy("events", "--controller", fake.url, env={"NVPOLICY_APIKEY": APIKEY})
    assert refused.returncode == 2
    assert "not trusted" in refused.stderr
    accepted = run_nvpolicy("events", "--controller", fake.url, "--insecure", env={"NVPOLICY_APIKEY": APIKEY})
    assert accepted.returncode == 0, accepted.stderr
    assert "--insecure" in accepted.stderr
    assert json.loads(accepted.stdout) == {"incidents": [], "violations": []}


def test_a_controller_that_does_not_answer_times_out(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.delay = 4.0
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "--timeout", "1",
                          env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 2
    assert f"GET /v1/log/violation: no answer from {fake.url} within 1s" in result.stderr
    assert "raise --timeout" in result.stderr
    assert "Traceback" not in result.stderr and APIKEY not in result.stderr + result.stdout


def test_credentials_are_never_printed_or_written(fake: FakeController, cert: tuple[Path, Path],
                                                  example_project: Path, tmp_path: Path) -> None:
    fake.state.export_yaml = sorted(EXAMPLES.glob("*.yaml"))[0].read_text(encoding="utf-8")
    fake.state.violations = [{"id": "v-1", "reported_timestamp": 4_000_000_000, "client_name": "a"}]
    fake.state.import_polls_before_done = 1
    fake.state.fail_paths["/v1/log/incident"] = 500
    common = ("--controller", fake.url, "--ca-file", str(cert[0]))
    runs = [
        run_nvpolicy("pull", *common, "-g", "nv.orders.dev", "-o", str(tmp_path / "export.yaml"), env=LOGIN),
        run_nvpolicy("events", *common, "-o", str(tmp_path / "events.json"), env=LOGIN),  # fails: HTTP 500
        run_nvpolicy("-C", str(example_project), "push", *common, "--env", "qa", "--poll-interval", "0", env=LOGIN),
    ]
    fake.state.fail_paths.clear()
    runs.append(run_nvpolicy("events", *common, "-o", str(tmp_path / "events.json"), env={"NVPOLICY_APIKEY": APIKEY}))
    assert [r.returncode for r in runs] == [0, 2, 0, 0], [r.stderr for r in runs]
    # example_project lives in tmp_path: this reads every file the commands could have written
    written = [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert (tmp_path / "export.yaml").is_file() and (tmp_path / "events.json").is_file()
    for secret in (PASSWORD, APIKEY, TOKEN):
        for text in [r.stdout + r.stderr for r in runs] + written:
            assert secret not in text
