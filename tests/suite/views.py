"""Synthetic exchanges for the suite's unit tests: made by the one constructor, answered by hand.

`sent` makes an exchange as a producer would (`wire.exchange`: headers kept end to end,
credentials hidden), `answer` gives it the server's answer; `rental`, `read` and `release`
are the three operations with the answers tests need most. `judged` runs the one judge over
a sequence of them; `evidence` frames them for `conclusion.conclude`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from conformance import contract as contracts
from conformance.suite import wire
from conformance.suite.conclusion import Evidence, Source
from conformance.suite.credentials import basic
from conformance.suite.exchange import INVALID, NONE, PRESENT, REAL, Exchange
from conformance.suite.judge import Judge

CONTRACT = contracts.today()
BASE = "/api/v1"
RENT = BASE + "/phone_number/request/internal/"
JSON = [("content-type", "application/json")]
# The Authorization each kind of credentials sends (REAL: a made-up key, hidden like a real one).
# PRESENT: as a recorder that filtered it kept it (nobody can tell whose it was).
AUTHORIZATION = {
    REAL: "Basic cmVhbC1rZXk6",
    INVALID: basic("conformance-unknown-key"),
    PRESENT: "Basic [Filtered]",
    NONE: None,
}
REFUSED = {"status": "error", "error": "No local number is available in US with prefix 999."}
REPLAY = Source("replay", "recordings x.har", "http://127.0.0.1:9", CONTRACT, "recorded")
RUN = Source("run", "http://127.0.0.1:9/api/v1", "http://127.0.0.1:9", CONTRACT, "safe", seed=1, timeout=2.0)


def number_path(number_id: str) -> str:
    """The path of one phone number."""
    return f"{BASE}/phone_number/{number_id}/"


def rented(**changes: Any) -> dict[str, Any]:
    """The contract's example of a rented number (a personal US 650 number), with changes."""
    example = copy.deepcopy(CONTRACT.document["components"]["examples"]["RentedPhoneNumber"]["value"])
    return {**example, **changes}


def body_of(value: Any) -> bytes:
    """A request or response body: bytes as they are, anything else as JSON."""
    if value is None:
        return b""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def sent(
    method: str,
    path: str,
    body: Any = None,
    *,
    auth: str = REAL,
    scheme: str | None = None,
    credential: str | None = "basic",
    content_type: str | None = "application/json",
    headers: list[tuple[str, str]] | None = None,
    number: int = 1,
    probe: str | None = None,
    contract: contracts.Contract = CONTRACT,
) -> Exchange:
    """A request as a producer sends it, through `wire.exchange`; no answer yet.

    `auth` REAL sends a (made-up) real Basic credential, INVALID the suite's unknown key, PRESENT
    one a recorder filtered, NONE no Authorization at all; `scheme` "bearer" sends a Bearer
    token instead.
    """
    made = list(headers or [])
    if content_type is not None:
        made.append(("content-type", content_type))
    authorization = AUTHORIZATION.get(auth)
    if scheme == "bearer" and auth == REAL:
        authorization = "Bearer real-token"
    if authorization is not None:
        made.append(("authorization", authorization))
    exchange, _secret = wire.exchange(
        number, contract, method, path, headers=made, body=body_of(body), auth=auth,
        credential=credential if auth == REAL else None,
    )  # fmt: skip
    exchange.probe = probe
    return exchange


def answer(exchange: Exchange, status: int, body: Any = None, headers: list[tuple[str, str]] | None = None) -> Exchange:
    """The exchange, answered: JSON unless other headers are given."""
    exchange.status = status
    exchange.response_headers = list(JSON if headers is None else headers)
    exchange.response_body = body_of(body)
    return exchange


def rental(
    request: Any = None,
    status: int = 201,
    response: Any = None,
    *,
    headers: list[tuple[str, str]] | None = None,
    **options: Any,
) -> Exchange:
    """A request to rent (by default the contract's first example), answered (by default with the example rental)."""
    if request is None:
        request = CONTRACT.example_request()
    if response is None and status == 201:
        response = rented()
    return answer(sent("POST", RENT, request, **options), status, response, headers)


def read(
    number_id: str,
    status: int = 200,
    response: Any = None,
    *,
    headers: list[tuple[str, str]] | None = None,
    **options: Any,
) -> Exchange:
    """A read of one number, answered."""
    return answer(sent("GET", number_path(number_id), content_type=None, **options), status, response, headers)


def release(
    number_id: str,
    status: int = 200,
    response: Any = None,
    *,
    headers: list[tuple[str, str]] | None = None,
    **options: Any,
) -> Exchange:
    """A release of one number, answered (by default with the contract's `{}`)."""
    body = {} if response is None and status == 200 else response
    return answer(sent("DELETE", number_path(number_id), content_type=None, **options), status, body, headers)


def numbered(*exchanges: Exchange) -> list[Exchange]:
    """The exchanges numbered in order, as a producer numbers them."""
    for index, exchange in enumerate(exchanges, 1):
        exchange.number = index
    return list(exchanges)


def judged(*exchanges: Exchange, contract: contracts.Contract = CONTRACT) -> Judge:
    """A judge that has judged the exchanges, in order."""
    judge = Judge(contract)
    for exchange in numbered(*exchanges):
        judge.judge(exchange)
    return judge


def evidence(*exchanges: Exchange, source: Source = REPLAY, **framing: Any) -> Evidence:
    """The evidence of the exchanges, judged, as a producer hands it to `conclude`."""
    judge = judged(*exchanges, contract=source.contract)
    return Evidence(source, list(exchanges), judge.verdicts, **framing)
