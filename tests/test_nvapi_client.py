"""The REST client against a fake controller on 127.0.0.1: auth, TLS, errors, import polling."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from nvpolicy.nvapi import Controller, ControllerError, Credentials

from tests.fake_controller import APIKEY, PASSWORD, TOKEN, USERNAME, FakeController

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a test cert")


def _client(fake: FakeController, cert: tuple[Path, Path], **credentials: str) -> Controller:
    given = credentials or {"username": USERNAME, "password": PASSWORD}
    return Controller(fake.url, Credentials(**given), ca_file=str(cert[0]), timeout=10)


def test_password_login_sends_token_and_logs_out(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.violations = [{"id": "v1", "client_name": "a"}]
    with _client(fake, cert) as client:
        assert client.violations() == [{"id": "v1", "client_name": "a"}]
        assert client.incidents() == []
    assert fake.paths() == ["POST /v1/auth", "GET /v1/log/violation", "GET /v1/log/incident", "DELETE /v1/auth"]
    assert fake.state.requests[1].headers["X-Auth-Token"] == TOKEN
    assert "X-Auth-Apikey" not in fake.state.requests[1].headers


def test_apikey_is_sent_without_login(fake: FakeController, cert: tuple[Path, Path]) -> None:
    with _client(fake, cert, apikey=APIKEY) as client:
        client.incidents()
    assert fake.paths() == ["GET /v1/log/incident"]
    assert fake.state.requests[0].headers["X-Auth-Apikey"] == APIKEY


def test_export_posts_the_documented_body(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.export_yaml = "apiVersion: v1\nkind: List\nitems: []\n"
    with _client(fake, cert, apikey=APIKEY) as client:
        text = client.export_groups(["nv.orders.dev"], policy_mode="Monitor")
    assert text == fake.state.export_yaml
    import json

    assert json.loads(fake.state.requests[0].body) == {
        "groups": ["nv.orders.dev"], "use_name_referral": False, "policy_mode": "Monitor"}


def test_rejected_login_is_explained_without_the_password(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.reject_login = True
    with pytest.raises(ControllerError) as caught, _client(fake, cert) as client:
        client.violations()
    message = caught.value.format_message()
    assert "HTTP 401: authentication failed" in message
    assert "NVPOLICY_USERNAME" in message
    assert PASSWORD not in message


@pytest.mark.parametrize(("knob", "expected"), [
    ("forbid", "HTTP 403: permission denied"),
    ("server_error", "HTTP 500: the controller failed (boom)"),
    ("not_json", "the controller's answer is not JSON"),
    ("missing", "HTTP 404: not found"),
])
def test_http_failures_are_explained(fake: FakeController, cert: tuple[Path, Path], knob: str,
                                     expected: str) -> None:
    path = "/v1/log/violation"
    if knob == "forbid":
        fake.state.forbid = True
    elif knob == "server_error":
        fake.state.fail_paths[path] = 500
    elif knob == "not_json":
        fake.state.not_json = True
    with pytest.raises(ControllerError) as caught, _client(fake, cert, apikey=APIKEY) as client:
        client.get_json("/v1/no/such/path" if knob == "missing" else path)
    assert expected in caught.value.format_message()
    assert APIKEY not in caught.value.format_message()


def test_untrusted_certificate_is_refused_by_default(fake: FakeController) -> None:
    client = Controller(fake.url, Credentials(apikey=APIKEY), timeout=10)
    with pytest.raises(ControllerError) as caught:
        client.violations()
    assert "TLS certificate is not trusted" in caught.value.message
    assert "--ca-file" in str(caught.value.hint)
    assert fake.state.requests == []  # nothing, not even the API key, was sent


def test_insecure_skips_verification(fake: FakeController) -> None:
    client = Controller(fake.url, Credentials(apikey=APIKEY), insecure=True, timeout=10)
    assert client.violations() == []


def test_plain_http_needs_insecure() -> None:
    with pytest.raises(ControllerError, match="plain http"):
        Controller("http://127.0.0.1:1", Credentials(apikey=APIKEY))
    with pytest.raises(ControllerError, match="must not carry credentials"):
        Controller(f"https://{USERNAME}:{PASSWORD}@127.0.0.1:1", Credentials(apikey=APIKEY))


def test_connection_refused_is_explained(cert: tuple[Path, Path]) -> None:
    with socket.socket() as probe:  # an ephemeral port with nothing listening once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Controller(f"https://127.0.0.1:{port}", Credentials(apikey=APIKEY), ca_file=str(cert[0]), timeout=5)
    with pytest.raises(ControllerError, match="connection refused"):
        client.violations()


def test_credentials_never_show_in_repr() -> None:
    for credentials in (Credentials(username=USERNAME, password=PASSWORD), Credentials(apikey=APIKEY)):
        shown = repr(credentials) + str(credentials) + repr(Controller("https://127.0.0.1:1", credentials))
        assert PASSWORD not in shown and APIKEY not in shown
    with pytest.raises(ControllerError, match="no credentials"):
        Credentials.from_env({})
    assert Credentials.from_env({"NVPOLICY_APIKEY": APIKEY}).apikey == APIKEY


def test_slow_import_is_polled_until_done(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.import_polls_before_done = 3
    seen: list[str] = []
    with _client(fake, cert) as client:
        tid = client.import_group_policy("apiVersion: v1\nkind: List\nitems: []\n")
        final = client.wait_for_import(tid, timeout=60, interval=0,
                                       progress=lambda s: seen.append(f"{s['status']} {s['percentage']}"))
    assert final["status"] == "done"
    assert seen == ["importing 10", "importing 20", "importing 30", "done 100"]
    posted = [r for r in fake.state.requests if r.method == "POST" and r.path == "/v1/file/group/config"]
    assert posted[0].headers["Content-Type"].startswith("text/plain")
    assert all(r.headers.get("X-Transaction-ID") == tid for r in fake.state.requests if "file/group" in r.path)


def test_import_that_never_finishes_times_out(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.import_polls_before_done = 10**6
    with pytest.raises(ControllerError, match="did not finish within 0s"), _client(fake, cert) as client:
        client.wait_for_import(client.import_group_policy("x"), timeout=0, interval=0)


def test_failed_import_reports_the_controller_status(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.import_failure = "Invalid security rule(s)"
    with pytest.raises(ControllerError, match="import failed: Invalid security rule"), _client(fake, cert) as client:
        client.wait_for_import(client.import_group_policy("x"), timeout=60, interval=0)


def test_an_expired_session_logs_in_once_more(fake: FakeController, cert: tuple[Path, Path]) -> None:
    with _client(fake, cert) as client:
        client.violations()
        fake.state.expire_token_once = True
        client.incidents()
    assert fake.paths() == ["POST /v1/auth", "GET /v1/log/violation", "GET /v1/log/incident", "POST /v1/auth",
                            "GET /v1/log/incident", "DELETE /v1/auth"]


def test_an_api_key_rejected_is_not_retried(fake: FakeController, cert: tuple[Path, Path]) -> None:
    with pytest.raises(ControllerError, match="HTTP 401: authentication failed"), \
            _client(fake, cert, apikey="not-the-key") as client:
        client.violations()
    assert fake.paths() == ["GET /v1/log/violation"]


def test_missing_credentials_are_prompted_for_password_hidden() -> None:
    asked: list[tuple[str, bool]] = []

    def prompt(label: str, hide: bool) -> str:
        asked.append((label, hide))
        return {"Username": USERNAME, "Password": PASSWORD}[label]

    credentials = Credentials.from_env({}, prompt)
    assert asked == [("Username", False), ("Password", True)]
    assert (credentials.username, credentials.password, credentials.apikey) == (USERNAME, PASSWORD, None)
    assert Credentials.from_env({"NVPOLICY_USERNAME": USERNAME}, prompt).password == PASSWORD
    assert asked[-1] == ("Password", True)
