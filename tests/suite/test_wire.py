"""HTTP on the wire: which headers travel, how credentials are hidden, the one Exchange constructor,
how a failure is classified, the upstream pool against a real loopback server, and the ASGI front."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.client
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import pytest

from conformance.suite import wire
from conformance.suite.credentials import basic
from conformance.suite.exchange import CONNECT, DISCONNECT, PROTOCOL, TIMEOUT, UNSENDABLE
from tests.suite.views import CONTRACT, RENT

# -- which headers travel -------------------------------------------------------------------------


def test_hop_by_hop_framing_and_connection_named_headers_are_not_forwarded() -> None:
    headers = [
        ("Host", "api.close.com"), ("Connection", "keep-alive, X-Trace"), ("X-Trace", "1"), ("Keep-Alive", "5"),
        ("Transfer-Encoding", "chunked"), ("Content-Length", "2"), ("TE", "trailers"), ("Trailer", "x"),
        ("Upgrade", "h2c"), ("Proxy-Authorization", "Basic x"), ("Proxy-Connection", "close"),
        ("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Authorization", "Basic y"),
    ]  # fmt: skip
    assert wire.end_to_end(headers) == [
        ("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Authorization", "Basic y"),
    ]  # fmt: skip


def test_an_exchange_keeps_no_content_encoding_since_its_body_is_kept_decoded() -> None:
    assert wire.recorded([("content-encoding", "gzip"), ("content-type", "application/json")]) == [
        ("content-type", "application/json")
    ]


def test_a_header_is_found_whatever_its_case() -> None:
    assert wire.header([("X-A", "1"), ("x-a", "2")], "x-A") == "1"
    assert wire.header([], "x-a") is None


# -- credentials hidden ---------------------------------------------------------------------------


def test_a_real_credential_is_hidden_its_scheme_kept() -> None:
    kept, scheme, secret = wire.redacted([("Authorization", basic("key_live_1")), ("Accept", "*/*")])
    assert kept == [("Authorization", "Basic [REDACTED]"), ("Accept", "*/*")]
    assert (scheme, secret) == ("basic", True)
    kept, scheme, secret = wire.redacted([("authorization", "Bearer tok_live_1")])
    assert (kept, scheme, secret) == ([("authorization", "Bearer [REDACTED]")], "bearer", True)


@pytest.mark.parametrize("name", ["Cookie", "Set-Cookie", "X-API-Key", "api-key", "Proxy-Authorization"])
def test_other_secret_headers_are_hidden_whole(name: str) -> None:
    kept, _scheme, secret = wire.redacted([(name, "s3cret")])
    assert (kept, secret) == ([(name, "[REDACTED]")], True)


@pytest.mark.parametrize("value", ["Basic [Filtered]", "Bearer ***", "Basic [REDACTED]", "[FILTERED]"])
def test_a_credential_a_recorder_already_hid_is_no_secret(value: str) -> None:
    _kept, _scheme, secret = wire.redacted([("Authorization", value)])
    assert not secret


@pytest.mark.parametrize(
    "value",
    [
        basic("conformance-unknown-key"),
        "Basic %%%not-base64%%%",
        "Bearer conformance-unknown-token",
        "Token conformance-unknown",
    ],
)
def test_the_suites_made_up_probe_credentials_are_kept_as_sent(value: str) -> None:
    assert wire.is_fake(value)
    kept, scheme, secret = wire.redacted([("Authorization", value)])
    assert (kept, scheme, secret) == ([("Authorization", value)], value.split(" ", maxsplit=1)[0].lower(), False)


def test_a_real_credential_is_never_taken_for_a_made_up_one() -> None:
    assert not wire.is_fake(basic("key_live_conformance-1"))
    assert not wire.is_fake("Bearer tok_conformance-1")


@pytest.mark.parametrize(
    ("query", "hidden", "secret"),
    [
        ("api_key=abc&page=2", "api_key=[REDACTED]&page=2", True),
        ("access_token=abc", "access_token=[REDACTED]", True),
        ("key=abc&signature=def", "key=[REDACTED]&signature=[REDACTED]", True),
        ("api%5Fkey=abc", "api%5Fkey=[REDACTED]", True),
        ("page=2&monkey_count=3", "page=2&monkey_count=3", False),
        ("api_key=[Filtered]", "api_key=[REDACTED]", False),
        ("token=", "token=", False),
        ("", "", False),
    ],
)
def test_credentials_in_a_query_string_are_hidden(query: str, hidden: str, secret: bool) -> None:
    assert wire.redacted_query(query) == (hidden, secret)


def test_a_fingerprint_tells_credentials_apart_without_showing_them() -> None:
    one, again, other = (
        wire.fingerprint(basic("k1")),
        wire.fingerprint(f"  {basic('k1')} "),
        wire.fingerprint("Bearer k1"),
    )
    assert one == again
    assert one is not None
    assert one.startswith("basic #")
    assert len(one.split("#")[1]) == 8
    assert other is not None
    assert other.startswith("bearer #")
    assert one != other
    assert "k1" not in one
    assert wire.fingerprint("opaque-value") is not None
    assert str(wire.fingerprint("opaque-value")).startswith("credential #")
    assert wire.fingerprint("Basic [Filtered]") is None  # hidden already: it tells nothing apart


# -- the one constructor of an exchange -------------------------------------------------------------


def test_an_exchange_is_the_request_as_sent_with_credentials_hidden() -> None:
    body = b'{"country": "US", "prefix": "650"}'
    headers = [("Host", "x"), ("Content-Type", "application/json"), ("Authorization", "Bearer tok_live")]
    made, secret = wire.exchange(
        7, CONTRACT, "post", f"https://api.close.com{RENT}?api_key=k", headers=headers, body=body
    )
    assert (made.number, made.method, made.path) == (7, "POST", f"{RENT}?api_key=[REDACTED]")
    assert made.headers == [("Content-Type", "application/json"), ("Authorization", "Bearer [REDACTED]")]
    assert (made.auth, made.scheme, secret) == ("present", "bearer", True)
    assert made.credential == wire.fingerprint("Bearer tok_live")
    assert made.allowed_body
    assert made.could_rent
    assert made.status is None


def test_an_exchange_without_authorization_has_no_credentials_and_a_producer_may_say_otherwise() -> None:
    made, secret = wire.exchange(1, CONTRACT, "POST", RENT, headers=[], body=b'{"country": "AQ"}')
    assert (made.auth, made.scheme, made.credential, secret) == ("none", None, None, False)
    assert not made.could_rent  # Antarctica: no number anywhere
    made, _ = wire.exchange(1, CONTRACT, "POST", RENT, headers=[], body=b"{}", auth="unknown")
    assert made.auth == "unknown"


@pytest.mark.parametrize("value", [basic("conformance-unknown-key"), "Bearer conformance-unknown-token",
                                   "Token conformance-unknown", "Basic %%%not-base64%%%"])  # fmt: skip
def test_the_suites_made_up_credentials_in_recorded_traffic_are_invalid_ones(value: str) -> None:
    made, secret = wire.exchange(1, CONTRACT, "POST", RENT, headers=[("Authorization", value)], body=b"{}")
    assert (made.auth, made.credential, secret) == ("invalid", wire.fingerprint(value), False)


def test_an_exchange_keeps_a_compressed_body_decoded_as_the_server_reads_it() -> None:
    plain = b'{"country": "US"}'
    headers = [("content-type", "application/json"), ("content-encoding", "gzip")]
    made, _ = wire.exchange(1, CONTRACT, "POST", RENT, headers=headers, body=gzip.compress(plain))
    assert made.body == plain
    assert made.allowed_body
    assert made.headers == [("content-type", "application/json")]


def test_credentials_in_the_url_count_as_a_secret() -> None:
    _made, secret = wire.exchange(1, CONTRACT, "GET", "https://user:pw@api.close.com/api/v1/me/", headers=[], body=b"")
    assert secret


@pytest.mark.parametrize(
    ("body", "allowed"),
    [(b'{"country": "US"}', True), (b'{"country": "us"}', False), (b'{"country": "US", "country": "US"}', False),
     (b"", False), (b"[]", False), (b'{"country": NaN}', False), (b"\xff", False)],
)  # fmt: skip
def test_a_body_is_allowed_only_as_the_strict_reader_and_the_contract_have_it(body: bytes, allowed: bool) -> None:
    assert wire.body_allowed(CONTRACT, body) is allowed


# -- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "connected", "kind"),
    [
        (ValueError("Invalid header value b'a\\nb'"), True, UNSENDABLE),
        (UnicodeEncodeError("latin-1", "é", 0, 1, "no"), False, UNSENDABLE),
        (ConnectionRefusedError(111, "refused"), False, CONNECT),
        (TimeoutError("timed out"), False, CONNECT),
        (TimeoutError("timed out"), True, TIMEOUT),
        (http.client.RemoteDisconnected("closed"), True, DISCONNECT),
        (http.client.IncompleteRead(b"x", 10), True, DISCONNECT),
        (ConnectionResetError(104, "reset"), True, DISCONNECT),
        (http.client.BadStatusLine("NOT HTTP"), True, PROTOCOL),
        (http.client.LineTooLong("header line"), True, PROTOCOL),
    ],
)
def test_a_failure_is_classified_by_whether_the_request_could_have_reached_the_server(
    error: BaseException, connected: bool, kind: str
) -> None:
    assert wire.failure_kind(error, connected=connected) == kind


# -- the upstream, against a real loopback server -----------------------------------------------------


def _read_request(connection: socket.socket) -> bytes:
    """One HTTP request off the socket (empty when the client closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Loopback:
    """A raw HTTP server on a loopback port; `serve` is given each connection, in a thread of its own."""

    def __init__(self, serve: Callable[[socket.socket, Loopback], None]) -> None:
        self.serve = serve
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed = threading.Event()
        self.threads: list[threading.Thread] = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            self.serve(connection, self)

    def __enter__(self) -> Self:
        self.accepting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        self.accepting.join(timeout=5)
        for thread in self.threads:
            thread.join(timeout=5)


def keep_alive(connection: socket.socket, server: Loopback) -> None:
    while request := _read_request(connection):
        server.requests.append(request)
        connection.sendall(OK)


def one_answer_then_close(connection: socket.socket, server: Loopback) -> None:
    """Answer one request (keep-alive, as far as the client knows), then close the idle connection."""
    server.requests.append(_read_request(connection))
    connection.sendall(OK)
    time.sleep(0.05)
    connection.shutdown(socket.SHUT_RDWR)
    server.closed.set()


def test_one_connection_is_kept_alive_and_reused() -> None:
    with Loopback(keep_alive) as server:
        upstream = wire.Upstream(server.origin, timeout=5)
        try:
            answers = [upstream.send("GET", "/api/v1/me/", [], b"") for _ in range(3)]
        finally:
            upstream.close()
    assert [status for status, _, _ in answers] == [200] * 3
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed() -> None:
    with Loopback(one_answer_then_close) as server:
        upstream = wire.Upstream(server.origin, timeout=5)
        try:
            first = upstream.send("POST", RENT, [("content-type", "application/json")], b"{}")
            assert server.closed.wait(5)
            time.sleep(0.05)  # the FIN reaches the client
            second = upstream.send("POST", RENT, [("content-type", "application/json")], b"{}")
        finally:
            upstream.close()
    assert (first[0], second[0]) == (200, 200)
    assert server.connections == 2


def test_the_request_goes_out_as_given_with_its_length_and_the_answer_comes_back_as_sent() -> None:
    packed = gzip.compress(b'{"id": "phon_a1"}')

    def gzipped(connection: socket.socket, server: Loopback) -> None:
        server.requests.append(_read_request(connection))
        head = f"HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
        connection.sendall(head + packed)

    with Loopback(gzipped) as server:
        upstream = wire.Upstream(server.origin, timeout=5)
        try:
            status, headers, payload = upstream.send("POST", RENT, [("X-Trace", "1")], b"")
        finally:
            upstream.close()
    request = server.requests[0]
    assert request.startswith(f"POST {RENT} HTTP/1.1\r\n".encode())
    assert b"\r\nContent-Length: 0\r\n" in request  # a POST says its length, even empty
    assert b"Accept-Encoding" not in request  # nothing added that the client did not send
    assert (status, wire.header(headers, "content-encoding"), payload) == (201, "gzip", packed)


def test_a_redirect_is_an_answer_never_followed() -> None:
    def redirect(connection: socket.socket, server: Loopback) -> None:
        server.requests.append(_read_request(connection))
        connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n")

    with Loopback(redirect) as server:
        upstream = wire.Upstream(server.origin, timeout=5)
        try:
            status, headers, _ = upstream.send("GET", "/api/v1/me/", [], b"")
        finally:
            upstream.close()
    assert (status, wire.header(headers, "location"), len(server.requests)) == (302, "https://elsewhere.invalid/", 1)


def _garbage(connection: socket.socket, server: Loopback) -> None:
    _read_request(connection)
    connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")


def _hang_up(connection: socket.socket, server: Loopback) -> None:
    _read_request(connection)


def _hang(connection: socket.socket, server: Loopback) -> None:
    _read_request(connection)
    server.closed.wait(5)


@pytest.mark.parametrize(
    ("serve", "headers", "kind"),
    [
        (_garbage, [], PROTOCOL),
        (_hang_up, [], DISCONNECT),
        (_hang, [], TIMEOUT),
        (keep_alive, [("X-Bad", "a\nb")], UNSENDABLE),
    ],
    ids=["not HTTP", "hangs up", "never answers", "a header no HTTP can carry"],
)
def test_no_answer_is_a_transport_failure_of_its_kind(serve, headers, kind: str) -> None:
    with Loopback(serve) as server:
        upstream = wire.Upstream(server.origin, timeout=0.3)
        try:
            with pytest.raises(wire.TransportFailure) as failure:
                upstream.send("POST", RENT, headers, b"{}")
        finally:
            server.closed.set()
            upstream.close()
    assert failure.value.kind == kind
    assert upstream.idle == []  # a failed connection is not reused


def test_nothing_listening_is_a_failure_to_connect() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    upstream = wire.Upstream(f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(wire.TransportFailure) as failure:
        upstream.send("GET", "/", [], b"")
    assert failure.value.kind == CONNECT
    assert "ConnectionRefusedError" in str(failure.value)


def test_the_pool_gives_each_concurrent_request_a_connection_of_its_own_and_reuses_them() -> None:
    together = threading.Barrier(2, timeout=5)

    def in_pairs(connection: socket.socket, server: Loopback) -> None:
        while request := _read_request(connection):
            server.requests.append(request)
            if len(server.requests) <= 2:
                together.wait()  # the first two requests are in flight at once
            connection.sendall(OK)

    with Loopback(in_pairs) as server:
        pool = wire.Pool(server.origin, timeout=5)
        try:
            with ThreadPoolExecutor(2) as threads:
                first = list(threads.map(lambda _: pool.send("GET", "/", [], b""), range(2)))
            (status, _, _), seconds = pool.send("GET", "/", [], b"")
        finally:
            pool.close()
    assert [answer[0][0] for answer in first] == [200, 200]
    assert status == 200
    assert seconds >= 0
    assert (len(pool.all), server.connections) == (2, 2)  # the third request took a free one


# -- the front --------------------------------------------------------------------------------------


def _call(app: Any, scope: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:3], "more_body": True},
        {"type": "http.request", "body": body[3:]},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_the_front_hands_each_request_to_the_handler_and_sends_its_answer_end_to_end() -> None:
    seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
    calls: list[str] = []

    def handle(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> wire.Answer:
        seen.append((method, path, headers, body))
        answer_headers = [
            ("Content-Type", "application/json"), ("Connection", "close"), ("Transfer-Encoding", "chunked"),
            ("Date", "Mon, 01 Jan 2029 00:00:00 GMT"), ("Server", "upstream"), ("X-Request-Id", "r1"),
        ]  # fmt: skip
        return 201, answer_headers, b'{"id": "phon_a1"}'

    scope = {
        "type": "http", "method": "POST", "raw_path": b"/api/v1/phone_number/request/internal/",
        "query_string": b"a=%C3%A9", "headers": [(b"content-type", b"application/json"), (b"x-name", b"\xe9")],
    }  # fmt: skip
    with ThreadPoolExecutor(1) as workers:
        app = wire.front(handle, workers, started=lambda: calls.append("started"), finished=lambda: calls.append("end"))
        messages = _call(app, scope, b'{"country": "US"}')
    assert seen == [("POST", f"{RENT}?a=%C3%A9", [("content-type", "application/json"), ("x-name", "\xe9")],
                     b'{"country": "US"}')]  # fmt: skip
    start, body = messages
    assert start["status"] == 201
    assert start["headers"] == [
        (b"content-type", b"application/json"), (b"x-request-id", b"r1"), (b"content-length", b"17"),
    ]  # fmt: skip
    assert body == {"type": "http.response.body", "body": b'{"id": "phon_a1"}'}
    assert calls == ["started", "end"]


def test_the_front_ignores_what_is_not_http() -> None:
    def handle(*_args: object) -> wire.Answer:
        raise AssertionError("not called")

    with ThreadPoolExecutor(1) as workers:
        assert _call(wire.front(handle, workers), {"type": "lifespan"}, b"") == []
