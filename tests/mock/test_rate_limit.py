"""Optional per-credential rate limiting answers like Close: 429, RateLimit, Retry-After, rate_reset."""

from __future__ import annotations

from pathlib import Path

import httpx

from conformance.mock import build
from conformance.mock.server import MockServer
from tests.conftest import ENDPOINT, assert_matches_contract


def test_requests_over_the_limit_get_429_with_closes_headers_and_body(tmp_path: Path) -> None:
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8"))
    data["rate_limit"] = {"limit": 3, "window_seconds": 60}
    scenario = tmp_path / "limited.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    with MockServer(build(scenario)) as mock, httpx.Client(base_url=mock.origin) as client:
        statuses = [
            client.post(
                ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_admin_key", "")
            ).status_code
            for _ in range(4)
        ]
        limited = client.post(ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_admin_key", ""))
        other_key = client.post(ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_member_key", ""))
        rentals = client.get("/__mock__/rentals").json()["count"]
    assert statuses == [201, 201, 201, 429]
    assert limited.status_code == 429
    assert_matches_contract(limited)
    assert limited.headers["ratelimit"].startswith("limit=3, remaining=0, reset=")
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["rate_reset"] > 0
    assert other_key.status_code == 201
    assert rentals == 4


def test_the_rate_limit_can_be_set_on_the_command_line() -> None:
    from tests.mock.servers import mock_process

    # The window is one second: on a busy machine a window may end between two requests, so the
    # test sends until the limit shows (it must, within a few tries) and reads the limit from the 429.
    with mock_process("--rate-limit", "2") as (origin, _), httpx.Client() as client:
        answers = []
        for _ in range(30):
            answer = client.post(origin + ENDPOINT, json={"country": "XX"}, auth=("mock_admin_key", ""))
            answers.append(answer.status_code)
            if answer.status_code == 429:
                break
    assert answers[-1] == 429, answers
    assert set(answers[:-1]) == {404}
    assert answer.json()["error"]["rate_limit"] == 2
    assert answer.headers["ratelimit"].startswith("limit=2, ")
