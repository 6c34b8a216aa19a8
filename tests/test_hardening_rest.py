"""Secrets and hangs on the REST path: credentials never printed, one deadline per call, bounded answers.

Against the loopback HTTPS fake controller; the slow cases use a 1 s --timeout, so each ends in
about a second where the old per-receive timeout let a dripping controller hold a call for minutes.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from nvpolicy import nvapi
from nvpolicy.nvapi import Controller, ControllerError, Credentials, scrub

from tests.conftest import run_nvpolicy
from tests.fake_controller import APIKEY, FakeController

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a test cert")


def _leaks(secret: str, text: str, window: int = 8) -> list[str]:
    """Every piece of ``secret`` at least ``window`` long that appears in ``text``."""
    return [secret[i:i + window] for i in range(len(secret) - window + 1) if secret[i:i + window] in text]


# -- one deadline per call -------------------------------------------------------------------------


def test_a_dripping_controller_cannot_outlast_the_timeout(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.export_yaml = "apiVersion: v1\nkind: List\nitems: []\n" + "#" * 200
    fake.state.drip = 0.05  # one byte every 50 ms: each receive succeeds, the answer takes ~15 s
    started = time.monotonic()
    with pytest.raises(ControllerError) as caught, \
            Controller(fake.url, Credentials(apikey=APIKEY), ca_file=str(cert[0]), timeout=1) as client:
        client.export_groups(["nv.web.dev"])
    elapsed = time.monotonic() - started
    assert "no answer from" in caught.value.message and "within 1s" in caught.value.message
    assert elapsed < 3, f"the call took {elapsed:.1f}s with --timeout 1"


def test_the_cli_ends_a_dripping_call_by_its_timeout(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.drip = 0.05
    started = time.monotonic()
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "--timeout", "1",
                          env={"NVPOLICY_APIKEY": APIKEY})
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert "no answer from" in result.stderr and "Traceback" not in result.stderr
    assert elapsed < 8, f"the command took {elapsed:.1f}s with --timeout 1"  # ~1 s plus interpreter start


def test_an_answer_past_the_size_cap_is_refused(fake: FakeController, cert: tuple[Path, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvapi, "MAX_RESPONSE_BYTES", 256 * 1024)
    fake.state.export_yaml = "apiVersion: v1\nkind: List\nitems: []\n"
    fake.state.answer_bytes = 512 * 1024
    with pytest.raises(ControllerError) as caught, \
            Controller(fake.url, Credentials(apikey=APIKEY), ca_file=str(cert[0]), timeout=10) as client:
        client.export_groups(["nv.web.dev"])
    assert "the answer is larger than" in caught.value.message


def test_an_answer_within_the_cap_is_read_whole(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.export_yaml = "apiVersion: v1\nkind: List\nitems: []\n"
    fake.state.answer_bytes = 300 * 1024  # several read chunks
    with Controller(fake.url, Credentials(apikey=APIKEY), ca_file=str(cert[0]), timeout=10) as client:
        text = client.export_groups(["nv.web.dev"])
    assert len(text) == 300 * 1024 and text.startswith("apiVersion: v1")


# -- credentials never printed ---------------------------------------------------------------------


def test_an_apikey_with_a_trailing_newline_works_and_is_never_printed(
        fake: FakeController, cert: tuple[Path, Path], tmp_path: Path) -> None:
    fake.state.fail_paths = {"/v1/log/violation": 500}
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "--timeout", "5",
                          env={"NVPOLICY_APIKEY": APIKEY + "\n"}, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "HTTP 500" in result.stderr  # the key was accepted (stripped), the call got as far as the answer
    assert not _leaks(APIKEY, result.stdout + result.stderr)
    assert fake.state.requests[0].headers["X-Auth-Apikey"] == APIKEY


def test_a_credential_echoed_across_the_cut_is_scrubbed(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.fail_paths = {"/v1/log/violation": 500}
    fake.state.echo_auth = True  # "x"*180 + the key: a cut at 200 would leave its first 11 characters
    result = run_nvpolicy("events", "--controller", fake.url, "--ca-file", str(cert[0]), "--timeout", "5",
                          env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 2
    assert "bad key ***" in result.stderr
    assert not _leaks(APIKEY, result.stderr, window=4)


@pytest.mark.parametrize("secret", ["s3cret-Pa55", 'p@ss w/"rd\\x&y=z', "ключ-🔑-key", "  padded-secret  "])
def test_scrub_removes_every_form_a_controller_may_echo(secret: str) -> None:
    forms = [secret, secret.strip(), quote(secret, safe=""), quote_plus(secret), json.dumps(secret),
             json.dumps(secret, ensure_ascii=False), repr(secret)]
    text = " | ".join(f"before {form} after" for form in forms)
    cleaned = scrub(text, [secret])
    for form in forms:
        core = form.strip().strip("'\"")
        assert core not in cleaned, (form, cleaned)
    assert cleaned.count("before") == len(forms)


@pytest.mark.parametrize(("variable", "value"), [
    ("NVPOLICY_APIKEY", "key\r\nX-Injected: 1"),
    ("NVPOLICY_APIKEY", "key\x7fdel"),
    ("NVPOLICY_APIKEY", "key\x1b[2Jclear"),
    ("NVPOLICY_APIKEY", "kéy-not-ascii"),
    ("NVPOLICY_PASSWORD", "pass\nword"),
    ("NVPOLICY_USERNAME", "ad\rmin"),
])
def test_a_credential_with_control_characters_is_refused_unprinted(variable: str, value: str) -> None:
    env = {"NVPOLICY_USERNAME": "admin", "NVPOLICY_PASSWORD": "secret-pass", variable: value}
    if variable != "NVPOLICY_APIKEY":
        env["NVPOLICY_APIKEY"] = ""
    result = run_nvpolicy("events", "--controller", "https://127.0.0.1:9", "--timeout", "1", env=env)
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
    assert "control character" in result.stderr or "non-ASCII" in result.stderr
    assert value.split()[0][:4] not in result.stderr.replace(variable, "")
    assert "internal error" not in result.stderr


def test_a_token_with_a_line_break_from_the_controller_is_refused(
        fake: FakeController, cert: tuple[Path, Path]) -> None:
    from tests import fake_controller

    original = fake_controller.TOKEN
    fake_controller.TOKEN = "token\r\nX-Injected: 1"
    try:
        with pytest.raises(ControllerError) as caught, \
                Controller(fake.url, Credentials(username=fake_controller.USERNAME,
                                                 password=fake_controller.PASSWORD),
                           ca_file=str(cert[0]), timeout=5) as client:
            client.violations()
    finally:
        fake_controller.TOKEN = original
    assert "token holds control" in caught.value.message


# -- --controller and --timeout are checked, never a crash ------------------------------------------


@pytest.mark.parametrize("url", [
    "https://h:99999", "https://h:-1", "https://h:abc", "https://[::1", "https://h:0", "https://h/ x",
    "https://h\r\nX: y", "https://h/?q=1", "https://h/#frag", "https://h%2e/", "ftp://h", "https://",
    "https://héllo.example", "",
])
def test_a_bad_controller_url_is_bad_input(url: str) -> None:
    with pytest.raises(ControllerError) as caught:
        Controller(url, Credentials(apikey=APIKEY))
    assert "--controller" in caught.value.message


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 1e300, 0.0, -1.0])
def test_a_bad_timeout_is_bad_input(timeout: float) -> None:
    with pytest.raises(ControllerError) as caught:
        Controller("https://h:10443", Credentials(apikey=APIKEY), timeout=timeout)
    assert "--timeout" in caught.value.message


def test_a_controller_message_cannot_drive_the_terminal(fake: FakeController, cert: tuple[Path, Path]) -> None:
    fake.state.fail_paths = {"/v1/log/violation": 500}
    fake.state.error_message = "failed\x1b[2J\x1b]0;owned\x07\r\nfake line"
    with pytest.raises(ControllerError) as caught, \
            Controller(fake.url, Credentials(apikey=APIKEY), ca_file=str(cert[0]), timeout=5) as client:
        client.violations()
    message = caught.value.message
    assert "\x1b" not in message and "\r" not in message and "\n" not in message
    assert "failed\\x1b[2J" in message
