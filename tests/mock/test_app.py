"""The app routes a number's path to its GET and DELETE, answers 405 + Allow otherwise, never 500."""

from __future__ import annotations

import httpx
import pytest

from conformance.mock import build
from conformance.mock.app import describe_controls, describe_endpoints
from conformance.mock.server import MockServer
from tests.conftest import ADMIN
from tests.mock.answers import assert_number_answer, delete, get, number_url, rented


@pytest.mark.parametrize("method", ["PUT", "PATCH", "POST", "HEAD", "OPTIONS"])
def test_other_methods_on_a_number_get_405_with_allow(client: httpx.Client, method: str) -> None:
    number = rented(client)
    response = client.request(method, number_url(number["id"]), auth=ADMIN)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert get(client, number["id"]).status_code == 200  # nothing changed


@pytest.mark.parametrize(
    "number_id",
    [
        "phon_",
        "phon_unknown123",
        "PHON_abc",
        "phon_abc-def",
        "%00",
        "%ff%fe",
        "phon_abc%2F..%2F..",
        "..",
        "a/b",
        "%E2%98%83",
        "%ED%A0%80",  # an encoded lone surrogate
        "phon_" + "x" * 20000,
        "'; DROP TABLE rentals; --",
    ],
    ids=lambda value: value[:24],
)
def test_odd_ids_are_404_for_get_and_delete_never_500(number_id: str) -> None:
    with MockServer(build()) as mock, httpx.Client(base_url=mock.origin, auth=ADMIN) as client:
        for method in ("GET", "DELETE"):
            response = client.request(method, f"/api/v1/phone_number/{number_id}/")
            assert response.status_code == 404, (method, number_id, response.text)
            assert_number_answer(response)
            assert len(response.content) < 1000
        assert client.get("/__mock__/accounts").json()["consistent"]


def test_odd_ids_without_credentials_are_401_first(client: httpx.Client) -> None:
    for number_id in ("%00", "phon_" + "x" * 5000):
        response = client.get(number_url(number_id))
        assert response.status_code == 401
        assert "Basic" in response.headers["www-authenticate"]


def test_the_rental_path_is_never_taken_for_a_number(client: httpx.Client) -> None:
    for method in ("GET", "DELETE"):
        response = client.request(method, "/api/v1/phone_number/request/internal/", auth=ADMIN)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/api/v1/phone_number/", "/api/v1/phone_number/phon_abc", "/api/v1/phone_number//"])
def test_paths_near_a_numbers_are_plain_404s(client: httpx.Client, path: str) -> None:
    response = client.get(path, auth=ADMIN)
    assert response.status_code == 404
    assert "GET /api/v1/phone_number/{phone_number_id}/" in response.json()["error"]


def test_the_rentals_control_tells_rented_from_released(client: httpx.Client) -> None:
    first, second = rented(client), rented(client)
    assert delete(client, first["id"]).status_code == 200
    shown = client.get("/__mock__/rentals").json()
    assert shown["count"] == 2  # every number rented, as before
    assert shown["held"] == 1
    assert shown["released"] == 1
    by_id = {rental["id"]: rental for rental in shown["rentals"]}
    assert by_id[first["id"]]["released_at"] is not None
    assert by_id[second["id"]]["released_at"] is None
    client.post("/__mock__/reset")
    assert client.get("/__mock__/rentals").json() == {"count": 0, "held": 0, "released": 0, "rentals": []}


def test_unknown_controls_list_every_control(client: httpx.Client) -> None:
    message = client.get("/__mock__/nothing").json()["error"]
    assert message == f"Controls: {describe_controls()}."
    for control in ("GET /__mock__/rentals", "GET /__mock__/accounts", "POST /__mock__/reset", "POST /__mock__/script"):
        assert control in message


def test_the_endpoints_are_described_from_the_contract() -> None:
    assert describe_endpoints() == (
        "POST /api/v1/phone_number/request/internal/; DELETE and GET /api/v1/phone_number/{phone_number_id}/"
    )


def test_scripted_odd_answers_still_apply_to_the_rental_only(client: httpx.Client, app) -> None:
    from conformance.mock.script import odd_answer

    number = rented(client)
    app.script.push(odd_answer("server-error"))
    assert get(client, number["id"]).status_code == 200
    assert delete(client, number["id"]).status_code == 200
    assert app.script.pending() == ["server-error"]
