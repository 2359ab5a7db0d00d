"""The mock served over real HTTP on a free loopback port, in a thread of this process.

For your own tests::

    from conformance.mock import MockServer, build

    with MockServer(build()) as mock:          # build(scenario_path, state_path) for your own data
        base_url = mock.origin + "/api/v1"     # point your client here; mock_admin_key is accepted

It is also the conformance suite's default target.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Self

import uvicorn

from conformance.mock.net import listen

if TYPE_CHECKING:
    from types import TracebackType


# uvicorn settings for every server here: no access log, no X-Forwarded-* rewriting (nothing here
# reads the client address; the middleware cost a few microseconds a request), no Server header.
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "proxy_headers": False, "server_header": False}


class MockServer:
    """Serve an ASGI app (the mock, or a test double) on a free loopback port within a `with` block."""

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
        """The origin the mock listens on."""
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded mock did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
