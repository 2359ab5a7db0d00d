"""Recordings as other tools really save them: when they were made, and what they left out.

A recording is judged by its own clock, not by the day it is replayed: a rental recorded months
ago must not look late, dates that disagree with when the exchange was recorded must still be
caught, and "answered 201 twice" needs to know when each answer came. A HAR saved without bodies
is counted, not judged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.mock import build
from conformance.mock.server import MockServer
from tests.suite.test_replay import record_vcr, replay

DATES = ("date_created", "date_updated", "next_billing_on")
BODY = {"country": "US"}


def rented(count: int = 1) -> list[dict[str, Any]]:
    with MockServer(build()) as server:
        url = server.origin + "/api/v1/phone_number/request/internal/"
        answers = [httpx.post(url, json=BODY, auth=("mock_admin_key", "")) for _ in range(count)]
    assert all(answer.status_code == 201 for answer in answers)
    return [answer.json() for answer in answers]


def shifted(resource: dict[str, Any], by: dt.timedelta) -> dict[str, Any]:
    return {**resource, **{name: (dt.datetime.fromisoformat(resource[name]) - by).isoformat() for name in DATES}}


def entry(resource: dict[str, Any], started: dt.datetime) -> dict[str, Any]:
    return {
        "startedDateTime": started.isoformat().replace("+00:00", "Z"),
        "time": 120,
        "request": {
            "method": "POST", "url": "https://api.close.com/api/v1/phone_number/request/internal/",
            "httpVersion": "HTTP/1.1", "headers": [{"name": "Content-Type", "value": "application/json"}],
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1,
            "postData": {"mimeType": "application/json", "text": json.dumps(BODY)},
        },
        "response": {
            "status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
            "content": {"size": -1, "mimeType": "application/json", "text": json.dumps(resource)},
            "redirectURL": "", "headersSize": -1, "bodySize": -1,
        },
        "cache": {}, "timings": {"send": 0, "wait": 120, "receive": 0},
    }  # fmt: skip


def har(path: Path, entries: list[dict[str, Any]]) -> str:
    log = {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}
    path.write_text(json.dumps({"log": log}))
    return str(path)


AGO = dt.timedelta(days=100)


def test_a_rental_recorded_months_ago_is_judged_by_its_own_time(tmp_path, capsys) -> None:
    [resource] = rented()
    then = dt.datetime.now(dt.UTC) - AGO
    code, out = replay(capsys, har(tmp_path / "old.har", [entry(shifted(resource, AGO), then)]))
    assert code == 0, out
    assert "rented phon_" in out


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: shifted(r, AGO), "date_created"),  # the dates say 100 days before the recording
        (lambda r: {**r, "date_updated": shifted(r, -dt.timedelta(days=3))["date_updated"]}, "date_updated"),
        (lambda r: {**r, "next_billing_on": shifted(r, -dt.timedelta(days=400))["next_billing_on"]}, "next_billing_on"),
    ],
)
def test_dates_that_disagree_with_the_recorded_time_are_caught(tmp_path, capsys, change, field) -> None:
    [resource] = rented()
    code, out = replay(capsys, har(tmp_path / "bad.har", [entry(change(resource), dt.datetime.now(dt.UTC))]))
    assert code == 1, out
    assert ": rented_number_dates" in out
    assert field in out


def test_a_vcrpy_cassette_takes_its_time_from_the_date_header(tmp_path, capsys) -> None:
    cassette = tmp_path / "old.yaml"
    record_vcr(build(), cassette)
    document = yaml.safe_load(cassette.read_text())
    for interaction in document["interactions"]:
        response = interaction["response"]
        date = email.utils.parsedate_to_datetime(response["headers"]["date"][0])
        response["headers"]["date"] = [email.utils.format_datetime(date - AGO, usegmt=True)]
        if response["status"]["code"] == 201:
            response["body"]["string"] = json.dumps(shifted(json.loads(response["body"]["string"]), AGO))
    cassette.write_text(yaml.safe_dump(document))
    code, out = replay(capsys, str(cassette))
    assert code == 0, out
    assert "rented phon_" in out


def test_the_same_request_answered_201_twice_within_a_minute_is_flagged(tmp_path, capsys) -> None:
    first, second = rented(2)
    now = dt.datetime.now(dt.UTC)
    entries = [entry(first, now), entry(second, now + dt.timedelta(seconds=5))]
    code, out = replay(capsys, har(tmp_path / "r.har", entries))
    assert code == 0, out  # a warning, not a violation: the server did what it was asked twice
    assert "1 request(s) were answered 201 twice within 60 s" in out


def test_the_same_request_an_hour_apart_is_not_a_retry(tmp_path, capsys) -> None:
    first, second = rented(2)
    later = dt.datetime.now(dt.UTC)
    earlier = later - dt.timedelta(hours=1)
    entries = [entry(shifted(first, dt.timedelta(hours=1)), earlier), entry(second, later)]
    code, out = replay(capsys, har(tmp_path / "r.har", entries))
    assert code == 0, out
    assert "201 twice" not in out


def test_without_any_time_only_back_to_back_repeats_count(tmp_path, capsys) -> None:
    cassette = tmp_path / "untimed.yaml"
    record_vcr(build(), cassette)  # the app rents, is refused, rents again
    document = yaml.safe_load(cassette.read_text())
    for interaction in document["interactions"]:
        interaction["response"]["headers"].pop("date", None)
    rentals = [i for i in document["interactions"] if i["response"]["status"]["code"] == 201]
    assert rentals
    refusal = next(i for i in document["interactions"] if i["response"]["status"]["code"] == 400)
    apart = [rentals[0], refusal, rentals[0]]
    back_to_back = [rentals[0], rentals[0]]
    verdicts = {}
    for name, interactions in (("apart", apart), ("back_to_back", back_to_back)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**document, "interactions": interactions}))
        _, out = replay(capsys, str(path))
        verdicts[name] = "201 twice" in out
    assert verdicts == {"apart": False, "back_to_back": True}


def test_a_har_saved_without_bodies_is_counted_not_judged(tmp_path, capsys) -> None:
    # Devtools' sanitized export keeps each body's size but not its text.
    entries = [entry(resource, dt.datetime.now(dt.UTC)) for resource in rented(3)]
    for one in entries:
        del one["response"]["content"]["text"]
        one["response"]["content"]["size"] = 1500
    code, out = replay(capsys, har(tmp_path / "sanitized.har", entries))
    assert code == 0, out
    assert "3 exchange(s) with the endpoint were recorded without their response body" in out
    assert "Rentals: 3" in out
    assert "static_rental_body" not in out


def test_a_credential_in_the_query_string_is_found_and_hidden(tmp_path, capsys) -> None:
    [resource] = rented()
    one = entry(resource, dt.datetime.now(dt.UTC))
    one["request"]["url"] += "?api_key=canary_key_8d1f&page=1"
    reports = tmp_path / "reports"
    code, out = replay(capsys, har(tmp_path / "q.har", [one]), "--report-dir", str(reports))
    assert code == 0, out
    assert "1 exchange(s) carry a credential" in out
    written = "".join(path.read_text() for path in reports.iterdir())
    assert "canary_key_8d1f" not in out + written
    assert "page=1" in written  # the rest of the query is kept


def test_a_playwright_har_with_attached_bodies(tmp_path, capsys) -> None:
    # Playwright's recordHar with content: "attach" writes each body to a file beside the HAR.
    first, second = rented(2)
    entries = [entry(first, dt.datetime.now(dt.UTC)), entry(second, dt.datetime.now(dt.UTC))]
    for number, one in enumerate(entries):
        content = one["response"]["content"]
        (tmp_path / f"body{number}.json").write_text(content.pop("text"))
        content["_file"] = f"body{number}.json"
    code, out = replay(capsys, har(tmp_path / "playwright.har", entries))
    assert code == 0, out
    assert f"rented {first['id']}" in out
    assert "without their response body" not in out


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ({"log": {"entries": 5}}, "`log.entries` is not a list"),
        ({"log": {"entries": ["x"]}}, "HAR entry 1 is damaged"),
        ({"log": {"entries": [{"request": {"headers": [{"name": "a"}]}, "response": {}}]}}, "HAR entry 1 is damaged"),
        ({"interactions": [{"request": {}, "response": {"status": "x"}}]}, "cassette interaction 1 is damaged"),
        ({"http_interactions": "x"}, "`http_interactions` is not a list"),
    ],
)
def test_a_damaged_recording_is_exit_2_with_one_line(tmp_path, capsys, document, said) -> None:
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(document))
    code, out = replay(capsys, str(path))
    assert code == 2
    assert said in out
