"""The mock's rental path up close: `python -m bench.hotpath` prints what bench/profiling.md cites.

Each figure sets the way the mock does it now beside the way it did before, both run here:
ids (token_urlsafe against a divmod loop over 131 random bits), `number_formatted` (a cached
layout against phonenumbers' format_number), JSON (one shared encoder against json.dumps with
separators), and whole rentals in-process (the ASGI app called directly, no sockets).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import string
import timeit
from typing import Any

import phonenumbers

from conformance import numbers
from conformance.mock import build
from conformance.mock.replies import encode
from conformance.mock.rules import _new_id

CALLS = 20_000
RENTALS = 5_000


def _old_id(kind: str) -> str:
    """The id as the mock made it before: a divmod loop over 131 random bits."""
    alphabet = string.ascii_letters + string.digits
    value = int.from_bytes(secrets.token_bytes(17))
    characters = []
    for _ in range(22):
        value, digit = divmod(value, 62)
        characters.append(alphabet[digit])
    return kind + "_" + "".join(characters)


def _us(call: Any, number: int = CALLS) -> float:
    return timeit.timeit(call, number=number) / number * 1e6


def _rentals_per_second() -> tuple[float, dict[str, Any]]:
    app = build()
    body = json.dumps({"country": "US", "prefix": "650"}).encode()
    scope = {
        "type": "http", "method": "POST", "path": "/api/v1/phone_number/request/internal/", "query_string": b"",
        "headers": [(b"content-type", b"application/json"),
                    (b"authorization", b"Basic " + base64.b64encode(b"mock_admin_key:"))],
    }  # fmt: skip
    statuses: set[int] = set()
    resource: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])
        else:
            resource.update(json.loads(message["body"]))

    async def rent(count: int) -> None:
        for _ in range(count):
            await app(scope, receive, send)

    asyncio.run(rent(200))  # warm up
    started = timeit.default_timer()
    asyncio.run(rent(RENTALS))
    rate = RENTALS / (timeit.default_timer() - started)
    assert statuses == {201}, statuses
    return rate, resource


def main() -> None:
    """Measure and print."""
    rate, resource = _rentals_per_second()
    national = [6502000000 + i * 7919 for i in range(2000)]
    parsed = [phonenumbers.PhoneNumber(country_code=1, national_number=n) for n in national]
    for number in parsed:
        numbers.international_format(number)  # the layouts, as a running mock has them
    layout = _us(lambda: [numbers.international_format(n) for n in parsed], 5) / len(parsed)
    library = _us(
        lambda: [phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL) for n in parsed], 5
    ) / len(parsed)
    print(f"id: {_us(lambda: _new_id('phon')):.1f} us (before: {_us(lambda: _old_id('phon')):.1f} us)")
    print(f"number_formatted: {layout:.1f} us (phonenumbers' format_number: {library:.1f} us)")
    shared = _us(lambda: encode(resource))
    print(f"rental JSON: {shared:.1f} us (json.dumps with separators: "
          f"{_us(lambda: json.dumps(resource, separators=(',', ':')).encode('ascii')):.1f} us)")  # fmt: skip
    print(f"rentals in-process (no sockets): {rate:,.0f} a second")


if __name__ == "__main__":
    main()
