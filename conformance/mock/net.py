"""Listening sockets for the mock (the CLI and the in-process `MockServer` share them)."""

from __future__ import annotations

import socket


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
