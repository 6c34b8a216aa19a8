"""A small client for NeuVector's controller REST API: login, group export/import, security logs.

Standard library only (``http.client`` + ``ssl``): the API is a handful of JSON/YAML calls and a
library would add a dependency without removing any real work. Credentials live in one object
whose repr hides them; no error message ever quotes a request, and controller messages are
scrubbed of any credential before they reach a user.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import math
import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from nvpolicy._fs import MAX_INPUT_BYTES
from nvpolicy.errors import NvPolicyError

USERNAME_VAR = "NVPOLICY_USERNAME"
PASSWORD_VAR = "NVPOLICY_PASSWORD"
APIKEY_VAR = "NVPOLICY_APIKEY"
DEFAULT_TIMEOUT = 30.0
# Status values of GET /v1/file/group/config while an import still runs; "done" ends it, anything else is a failure.
IMPORT_RUNNING = frozenset({"", "preparing", "importing", "running"})
IMPORT_DONE = "done"
# The largest answer read from the controller; a larger one is refused, never held in memory. The cap
# every input has: what `pull` and `events` write must be readable by `import` and `propose`.
MAX_RESPONSE_BYTES = MAX_INPUT_BYTES
# The longest --timeout: a call still ends in bounded time, and the socket layer can hold the value.
MAX_TIMEOUT = 3600.0
# How much of a controller's own error text is shown (after credentials are scrubbed from it).
_DETAIL_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_READ_CHUNK = 64 * 1024


class ControllerError(NvPolicyError):
    """The controller cannot be reached, refuses us, or answers something we cannot use."""


@dataclass(frozen=True)
class Credentials:
    """Username/password or an API key. Never printed: repr and str show only which kind it is."""

    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    apikey: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A value read from a file often ends with a newline: drop line ends at the end, nothing else.
        for name in ("username", "password", "apikey"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, value.rstrip("\r\n"))
                _check_credential(name, value)
        if not self.apikey and not (self.username and self.password):
            raise ControllerError("no credentials for the controller",
                                  hint=f"set {APIKEY_VAR}, or {USERNAME_VAR} and {PASSWORD_VAR}")

    def __repr__(self) -> str:
        return "Credentials(apikey=***)" if self.apikey else "Credentials(username/password=***)"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        return [value for value in (self.password, self.apikey) if value]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], prompt: Callable[[str, bool], str] | None = None) -> Credentials:
        """API key first, then username/password; ``prompt(label, hide)`` fills a missing one (tty only)."""
        apikey = environ.get(APIKEY_VAR)
        if apikey:
            return cls(apikey=apikey)
        username = environ.get(USERNAME_VAR) or (prompt("Username", False) if prompt else None)
        password = environ.get(PASSWORD_VAR) or (prompt("Password", True) if prompt and username else None)
        return cls(username=username, password=password)


_CREDENTIAL_VARS = {"username": USERNAME_VAR, "password": PASSWORD_VAR, "apikey": APIKEY_VAR}


def _check_credential(name: str, raw: str) -> None:
    """Refuse control characters: in a header they would inject lines (CR/LF), and none is ever meant.

    The message names the variable and the kind of character, never the value.
    """
    value = raw.rstrip("\r\n")
    bad = _CONTROL.search(value)
    variable = _CREDENTIAL_VARS[name]
    if bad:
        raise ControllerError(f"{variable} holds a control character (U+{ord(bad.group()):04X}) "
                              f"at position {bad.start() + 1}",
                              hint="credentials are one line of printable text; check how the value is set")
    if name == "apikey" and not value.isascii():
        raise ControllerError(f"{APIKEY_VAR} holds a non-ASCII character",
                              hint="a NeuVector API key is ASCII text; check how the value is set")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Controller:
    """One session with a controller; log in lazily, log out on close."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        ca_file: str | None = None,
        insecure: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        parts = parse_controller_url(url)
        if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
            raise ControllerError(f"--timeout {timeout}: expected seconds from 1 to {MAX_TIMEOUT:g}")
        if parts.scheme == "http" and not insecure:
            raise ControllerError("--controller uses plain http: credentials would travel unencrypted",
                                  hint="use https://, or pass --insecure to accept this explicitly")
        if parts.username or parts.password:
            raise ControllerError("--controller must not carry credentials in the URL",
                                  hint=f"use {USERNAME_VAR}/{PASSWORD_VAR} or {APIKEY_VAR}")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._tls = parts.scheme == "https"
        self._credentials = credentials
        self._timeout = timeout
        self._token: str | None = None
        self._context = _tls_context(ca_file, insecure) if self._tls else None

    def __repr__(self) -> str:
        return f"Controller({self.url!r})"

    # -- the API calls nvpolicy uses ------------------------------------------------------------------

    def export_groups(self, groups: Sequence[str], *, use_name_referral: bool = False,
                      policy_mode: str | None = None) -> str:
        """``POST /v1/file/group``: the group-policy export YAML (a ``kind: List``)."""
        body: dict[str, Any] = {"groups": list(groups), "use_name_referral": use_name_referral}
        if policy_mode:
            body["policy_mode"] = policy_mode
        return self.call("POST", "/v1/file/group", json_body=body).text()

    def violations(self) -> list[dict[str, Any]]:
        return _items(self.get_json("/v1/log/violation"), "violations")

    def incidents(self) -> list[dict[str, Any]]:
        return _items(self.get_json("/v1/log/incident"), "incidents")

    def import_group_policy(self, yaml_text: str) -> str:
        """``POST /v1/file/group/config``: start an import; returns the transaction id to poll."""
        transaction = str(uuid.uuid4())
        self.call("POST", "/v1/file/group/config", body=yaml_text.encode("utf-8"),
                  content_type="text/plain; charset=utf-8", headers={"X-Transaction-ID": transaction})
        return transaction

    def import_status(self, transaction: str) -> dict[str, Any]:
        data = self.get_json("/v1/file/group/config", headers={"X-Transaction-ID": transaction})
        status = data.get("data") if isinstance(data, dict) else None
        if not isinstance(status, dict):
            raise ControllerError("GET /v1/file/group/config: the answer has no 'data' object")
        return status

    def wait_for_import(self, transaction: str, *, timeout: float, interval: float = 1.0,
                        progress: Callable[[dict[str, Any]], None] | None = None,
                        sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        """Poll the import status until it is done; raise when it fails or takes longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.import_status(transaction)
            if progress is not None:
                progress(status)
            state = str(status.get("status", ""))
            if state.lower() == IMPORT_DONE:
                return status
            if state.lower() not in IMPORT_RUNNING:
                raise ControllerError(f"the controller's import failed: {self._scrub(state)[:_DETAIL_CHARS]}",
                                      hint="the controller keeps its previous policy for this group")
            if time.monotonic() >= deadline:
                percentage = self._scrub(str(status.get("percentage", "?")))[:20]
                raise ControllerError(f"the import did not finish within {timeout:g}s "
                                      f"(last status {self._scrub(state)[:_DETAIL_CHARS]!r}, {percentage}%)",
                                      hint="raise --wait, or check the controller's import status in its console")
            sleep(interval)

    # -- transport ------------------------------------------------------------------------------------

    def get_json(self, path: str, query: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        response = self.call("GET", path, query=query, headers=headers)
        return _json(response, f"GET {path}")

    def call(self, method: str, path: str, *, json_body: Any = None, body: bytes | None = None,
             content_type: str | None = None, query: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> Response:
        """An authenticated call; a 401 on an expired token logs in once more."""
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode("utf-8"), "application/json"
        for attempt in (1, 2):
            response = self._send(method, path, body, content_type, query,
                                  {**self._auth_headers(), **(headers or {})})
            if response.status == 401 and attempt == 1 and self._token is not None:
                self._token = None  # token expired: one fresh login, then give up
                continue
            return self._checked(method, path, response)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Log out (``DELETE /v1/auth``) when we logged in; errors here change nothing for the user."""
        if self._token is None:
            return
        with contextlib.suppress(ControllerError):
            self._send("DELETE", "/v1/auth", None, None, None, {"X-Auth-Token": self._token})
        self._token = None

    def __enter__(self) -> Controller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _auth_headers(self) -> dict[str, str]:
        if self._credentials.apikey:
            return {"X-Auth-Apikey": self._credentials.apikey}
        if self._token is None:
            self._token = self._login()
        return {"X-Auth-Token": self._token}

    def _login(self) -> str:
        body = {"password": {"username": self._credentials.username, "password": self._credentials.password}}
        response = self._send("POST", "/v1/auth", json.dumps(body).encode("utf-8"), "application/json", None, {})
        response = self._checked("POST", "/v1/auth", response)
        data = _json(response, "POST /v1/auth")
        token = data.get("token", {}).get("token") if isinstance(data, dict) and isinstance(
            data.get("token"), dict) else None
        if not isinstance(token, str) or not token:
            raise ControllerError("POST /v1/auth: the controller's answer holds no token")
        if _CONTROL.search(token) or not token.isascii():
            # It goes into a header of every later call: a line break would inject headers.
            raise ControllerError("POST /v1/auth: the controller's token holds control or non-ASCII characters")
        return token

    def _send(self, method: str, path: str, body: bytes | None, content_type: str | None,
              query: Mapping[str, str] | None, headers: Mapping[str, str]) -> Response:
        target = self._prefix + path + (f"?{urlencode(query)}" if query else "")
        all_headers = {"Accept": "application/json", **headers}
        if content_type:
            all_headers["Content-Type"] = content_type
        connection: http.client.HTTPConnection | None = None
        reply: http.client.HTTPResponse | None = None
        try:
            # One deadline for the whole call: connect, TLS handshake, request and every byte of the answer.
            connection = _connection(self._host, self._port, self._context, time.monotonic() + self._timeout)
            connection.request(method, target, body=body, headers=all_headers)
            reply = connection.getresponse()
            data = _read_capped(reply, f"{method} {path}")
            return Response(reply.status, data, reply.getheader("Content-Type", "") or "")
        except ssl.SSLCertVerificationError as exc:
            raise ControllerError(f"{self.url}: the controller's TLS certificate is not trusted "
                                  f"({exc.verify_message})",
                                  hint="pass --ca-file with the CA that signed it (or --insecure to skip the check)"
                                  ) from None
        except ssl.SSLError as exc:
            raise ControllerError(f"{self.url}: TLS failed ({exc.reason or exc})") from None
        except ConnectionRefusedError:
            raise ControllerError(f"{self.url}: connection refused",
                                  hint="is the controller's REST port (usually 10443) reachable from here?") from None
        except TimeoutError:
            raise ControllerError(f"{method} {path}: no answer from {self.url} within {self._timeout:g}s",
                                  hint="raise --timeout, or check the network path to the controller") from None
        except socket.gaierror as exc:
            raise ControllerError(f"{self.url}: cannot resolve host ({exc.strerror})") from None
        except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
            raise ControllerError(f"{method} {path}: {type(exc).__name__}: {self._scrub(str(exc))}") from None
        finally:
            # The answer holds the socket open until it is closed: close it too, also when reading it failed.
            if reply is not None:
                reply.close()
            if connection is not None:
                connection.close()

    def _checked(self, method: str, path: str, response: Response) -> Response:
        if 200 <= response.status < 300:
            return response
        detail = _error_detail(response, self._scrub)
        where = f"{method} {path}: HTTP {response.status}"
        if response.status == 401:
            raise ControllerError(f"{where}: authentication failed{detail}",
                                  hint=f"check {USERNAME_VAR}/{PASSWORD_VAR} or {APIKEY_VAR}")
        if response.status == 403:
            raise ControllerError(f"{where}: permission denied{detail}",
                                  hint="the user or API key needs a role that may do this (e.g. admin for imports)")
        if response.status == 404:
            raise ControllerError(f"{where}: not found{detail}",
                                  hint="is --controller the REST API (port 10443), and the controller 5.x?")
        if response.status >= 500:
            raise ControllerError(f"{where}: the controller failed{detail}", hint="retry later or check its logs")
        raise ControllerError(f"{where}{detail}")

    def _scrub(self, text: str) -> str:
        """Remove every credential from text that reaches a user, in every form a controller might echo it."""
        secrets = [*self._credentials.secrets(), *([self._token] if self._token else [])]
        return _printable(scrub(text, secrets))


_URL_HINT = "for example --controller https://neuvector-svc-controller:10443"


def parse_controller_url(url: str) -> Any:
    """The parts of --controller, or a clear refusal: every bad URL is bad input, never a crash."""
    shown = _printable(url[:200])
    if _CONTROL.search(url) or " " in url:
        raise ControllerError(f"--controller {shown!r} holds a space or control character", hint=_URL_HINT)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of 0-65535 or not a number, a broken [IPv6] literal
        raise ControllerError(f"--controller {shown!r} is not a valid URL: {exc}", hint=_URL_HINT) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ControllerError(f"--controller {shown!r} is not an https:// URL", hint=_URL_HINT)
    if port == 0:
        raise ControllerError(f"--controller {shown!r}: port 0 is not a port one can connect to", hint=_URL_HINT)
    if parts.query or parts.fragment or "%" in parts.netloc:
        raise ControllerError(f"--controller {shown!r}: a controller URL has no query, fragment or %-escapes "
                              "in its host", hint=_URL_HINT)
    if not parts.hostname.isascii():
        raise ControllerError(f"--controller {shown!r}: the host name is not ASCII",
                              hint="write an internationalised name in its xn-- form")
    return parts


class _DeadlineSocket:
    """A connected socket whose every send and receive waits only for what is left of one deadline.

    Socket timeouts are per receive: a controller that drips one byte a second would never trip
    one. Here each operation's timeout is the time left, so the whole call ends by the deadline.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(left)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, size: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(size, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_: Any) -> io.BufferedReader:
        # As socket.makefile does: the reader holds a reference, so closing the connection while the
        # response is still read (http.client does, on "Connection: close") closes the socket after it.
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        return io.BufferedReader(socket.SocketIO(self, "rb"), buffering or io.DEFAULT_BUFFER_SIZE)  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:
        self._sock._decref_socketios()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _connection(host: str, port: int | None, context: ssl.SSLContext | None, deadline: float
                ) -> http.client.HTTPConnection:
    """An HTTP(S) connection whose connect, TLS handshake, send and read all end by ``deadline``."""

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        return remaining

    class Connection(http.client.HTTPConnection):
        default_port = 443 if context is not None else 80

        def connect(self) -> None:
            sock = socket.create_connection((self.host, self.port), left())
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if context is not None:
                sock.settimeout(left())  # the handshake as a whole waits at most this long
                sock = context.wrap_socket(sock, server_hostname=self.host)
            self.sock = _DeadlineSocket(sock, deadline)

    return Connection(host, port, timeout=left())


def _tls_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ControllerError(f"--ca-file {ca_file}: cannot load it ({exc})",
                              hint="give a PEM file holding the CA certificate") from None


def _json(response: Response, what: str) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise ControllerError(f"{what}: the controller's answer is not JSON",
                              hint="is --controller the REST API (port 10443)?") from None


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else None
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ControllerError(f"the controller's answer has no list of {key}")
    return items


def _error_detail(response: Response, clean: Callable[[str], str]) -> str:
    """NeuVector answers errors as ``{"code", "error", "message"}``; show its words, briefly.

    Cleaned (credentials scrubbed) before cutting: a cut could leave part of a secret unmatched.
    """
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("message") or data.get("error")
    if not text:
        return ""
    shown = clean(str(text))
    return f" ({shown[:_DETAIL_CHARS]}{'…' if len(shown) > _DETAIL_CHARS else ''})"


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each secret replaced by ``***``: as given, stripped, URL-encoded, JSON- and repr-escaped."""
    forms: set[str] = set()
    for secret in secrets:
        for value in {secret, secret.strip()}:
            if not value:
                continue
            forms.update({value, quote(value, safe=""), quote_plus(value, safe=""),
                          json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1]})
    for form in sorted(forms, key=len, reverse=True):  # longest first: a form may contain a shorter one
        if len(form) >= 4 or form in secrets:
            text = text.replace(form, "***")
    return text


def _printable(text: str) -> str:
    """Control characters from outside shown as escapes: no terminal control sequence reaches a screen."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _read_capped(reply: http.client.HTTPResponse, what: str) -> bytes:
    """The answer's body in chunks, refused as soon as it passes MAX_RESPONSE_BYTES."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = reply.read(_READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_RESPONSE_BYTES:
            raise ControllerError(f"{what}: the answer is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
                                  hint="export fewer groups at once")
        chunks.append(chunk)
