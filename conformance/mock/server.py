"""The mock served over real HTTP on a free loopback port, in a thread of this process.

For your own tests::

    from conformance.mock import MockServer, build

    with MockServer(build()) as mock:          # build(scenario_path, state_path) for your own data
        base_url = mock.origin + "/api/v1"     # point your client here; mock_admin_key is accepted

`MockServer` is `conformance.serving.Server` under the name the mock's users know: it serves any
ASGI app (the mock, or a test double), and is also the conformance suite's default target.
"""

from __future__ import annotations

from conformance.serving import Server as MockServer

__all__ = ["MockServer"]
