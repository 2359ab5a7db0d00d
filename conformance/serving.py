"""Serving ASGI apps over real HTTP: listening sockets, a server in a thread, request bodies.

Neutral ground shared by the mock, the conformance suite's guard and proxy, and the tests:
none of them imports another's internals to serve or to read a body.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Self

import uvicorn

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    Receive = Callable[[], Awaitable[dict[str, Any]]]

# uvicorn settings for every server here: no access log, no X-Forwarded-* rewriting (nothing here
# reads the client address; the middleware cost a few microseconds a request), no Server header.
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "proxy_headers": False, "server_header": False}
LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Tell whether binding to `host` keeps a server on this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (port 0 picks a free one).

    The protocol is given explicitly: asyncio only sets TCP_NODELAY on sockets whose proto is
    IPPROTO_TCP, and without it every response stalls about 40 ms on delayed ACKs.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class Server:
    """Serve an ASGI app on a free loopback port (or the one given) in a thread, within a `with` block."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.sock = listen(host, port)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", lifespan="off", **SERVER_OPTIONS)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def origin(self) -> str:
        """The origin the server listens on, e.g. http://127.0.0.1:41234."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


async def receive_body(receive: Receive, keep: int, read_up_to: int) -> tuple[bytes, int]:
    """Read a request body: keep its first `keep` bytes, stop reading after `read_up_to` bytes.

    Returns what was kept and the size seen. Reading past what is kept is a lingering read: a
    server that answers and closes while the client is still sending makes the client's kernel
    see a reset, which can swallow the answer; reading a modest excess first delivers it.
    """
    chunks: list[bytes] = []
    size = 0
    while size <= read_up_to:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if size < keep:
            chunks.append(chunk[: keep - size])
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size


async def receive_all(receive: Receive, keep: int = sys.maxsize) -> bytes:
    """Read a whole request body, keeping at most its first `keep` bytes."""
    body, _ = await receive_body(receive, keep, sys.maxsize)
    return body
