"""Traffic users already have: a recorded exchange as the suite's Exchange, what its numbers' life shows,
what only a stream of traffic shows, and replay's own framing of the evidence."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from conformance.errors import CannotTest
from conformance.suite import traffic, wire
from conformance.suite.conclusion import conclude
from conformance.suite.credentials import basic
from conformance.suite.exchange import UNKNOWN
from conformance.suite.recordings import Recorded
from tests.suite.views import CONTRACT, RENT, judged, read, release, rental, rented

ORIGIN = "https://api.close.com"
BODY = b'{"country": "US", "prefix": "650"}'


def recorded(request_headers: list[tuple[str, str]], **changes: object) -> Recorded:
    made = {
        "method": "post", "url": f"{ORIGIN}{RENT}", "request_headers": request_headers, "request_body": BODY,
        "status": 201, "response_headers": [("Content-Type", "application/json")],
        "response_body": json.dumps(rented()).encode(), "started": 1_800_000_000.5, "elapsed": 0.25,
    } | changes  # fmt: skip
    return Recorded(**made)  # type: ignore[arg-type]


# -- a recorded exchange --------------------------------------------------------------------------


def test_a_recorded_exchange_becomes_the_suites_exchange_credentials_hidden() -> None:
    authorization = basic("key_live_1")
    headers = [("Authorization", authorization), ("Content-Type", "application/json"), ("Content-Length", "34")]
    exchange, secret = traffic.from_recording(3, CONTRACT, recorded(headers, url=f"{ORIGIN}{RENT}?api_key=k"))
    assert (exchange.number, exchange.method, exchange.path) == (3, "POST", f"{RENT}?api_key=[REDACTED]")
    assert exchange.headers == [("Authorization", "Basic [REDACTED]"), ("Content-Type", "application/json")]
    assert (exchange.auth, exchange.scheme, exchange.credential) == (
        "present",
        "basic",
        wire.fingerprint(authorization),
    )
    assert secret
    assert (exchange.status, exchange.started, exchange.elapsed, exchange.body_missing) == (
        201,
        1_800_000_000.5,
        0.25,
        False,
    )
    assert exchange.rented
    assert exchange.allowed_body


def test_a_recording_without_authorization_may_have_filtered_it_so_its_credentials_are_unknown() -> None:
    exchange, secret = traffic.from_recording(1, CONTRACT, recorded([("Content-Type", "application/json")]))
    assert (exchange.auth, exchange.credential, secret) == (UNKNOWN, None, False)


def test_a_credential_the_recorder_filtered_is_present_but_tells_nobody_apart() -> None:
    headers = [("Authorization", "[Filtered]"), ("Content-Type", "application/json")]
    exchange, secret = traffic.from_recording(1, CONTRACT, recorded(headers))
    assert (exchange.auth, exchange.credential, secret) == ("present", None, False)


def test_secrets_in_the_answer_are_hidden_and_counted_and_hop_by_hop_headers_dropped() -> None:
    answer_headers = [("Set-Cookie", "session=abc"), ("Content-Type", "application/json"), ("Connection", "close")]
    exchange, secret = traffic.from_recording(1, CONTRACT, recorded([], response_headers=answer_headers))
    assert exchange.response_headers == [("Set-Cookie", "[REDACTED]"), ("Content-Type", "application/json")]
    assert secret


def test_a_recording_without_its_body_keeps_saying_so() -> None:
    exchange, _ = traffic.from_recording(1, CONTRACT, recorded([], response_body=b"", body_missing=True))
    assert exchange.body_missing
    assert exchange.rental_id() == "(answer not recorded)"


# -- what the traffic shows ---------------------------------------------------------------------


def test_the_lifecycle_counts_rentals_and_releases_and_lists_what_is_still_held() -> None:
    second = rented(id="phon_second2", number="+16503335556", number_formatted="+1 650-333-5556")
    judge = judged(rental(), rental(response=second), release("phon_second2"))
    assert traffic.lifecycle_of(judge) == {"rented": 2, "released": 1, "held": ["phon_4XrFk2P0e8bV1cQz9mWyTn"]}


def test_a_number_read_back_after_its_release_answered_2xx_is_still_held() -> None:
    first = rented()
    second = rented(id="phon_second2", number="+16503335556", number_formatted="+1 650-333-5556")
    judge = judged(
        rental(response=first), rental(response=second),
        release(first["id"]), read(first["id"], 200, first),  # released, yet still there: still billed
        release("phon_second2"), read("phon_second2", 404, {"error": "Not found."}),
    )  # fmt: skip
    assert traffic.lifecycle_of(judge) == {"rented": 2, "released": 1, "held": [first["id"]]}


def test_exchanges_with_the_endpoint_recorded_without_bodies_are_a_warning_naming_them() -> None:
    missing = rental()
    missing.body_missing = True
    other = rental()
    other.path, other.body_missing = "/api/v1/lead/", True  # another endpoint: not the suite's business
    exchanges = [rental(None, 404, {"status": "error", "error": "x"}), missing, other]
    judge = judged(*exchanges)
    (warning,) = traffic.traffic_warnings(judge, exchanges)
    assert warning.startswith("1 exchange(s) with the endpoint were recorded without their response body (exchanges 2)")
    assert "record with bodies (HAR: save with content)" in warning


def test_requests_answered_201_twice_within_a_minute_are_a_warning_listing_the_pairs() -> None:
    made = []
    for n in range(14):  # seven pairs
        exchange = rental(response=rented(id=f"phon_p{n}", number=f"+1650333{n:04d}"))
        exchange.body = json.dumps({"country": "US", "prefix": "650", "label": f"pair {n // 2}"}).encode()
        made.append(exchange)
    judge = judged(*made)
    (warning,) = traffic.traffic_warnings(judge, made)
    assert warning == (
        "7 request(s) were answered 201 twice within 60 s (exchanges 1 and 2, 3 and 4, 5 and 6, 7 and 8, 9 and 10, "
        "...): a retry that rented, and paid for, two numbers?"
    )


def test_clean_traffic_has_no_warning() -> None:
    exchanges = [rental()]
    assert traffic.traffic_warnings(judged(*exchanges), exchanges) == []


# -- replay's framing ----------------------------------------------------------------------------


def _har(path: Path, *entries: dict) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                        "entries": list(entries)}}))  # fmt: skip
    return path


def _entry(authorization: str | None = None, status: int | None = 201, url: str = f"{ORIGIN}{RENT}") -> dict:
    headers = [{"name": "Content-Type", "value": "application/json"}]
    headers += [{"name": "Authorization", "value": authorization}] if authorization else []
    return {
        "startedDateTime": "2026-11-27T15:04:05Z", "time": 10,
        "request": {"method": "POST", "url": url, "headers": headers, "postData": {"text": BODY.decode()}},
        "response": {"status": status or 0, "headers": [{"name": "Content-Type", "value": "application/json"}],
                     "content": {"size": 10, "text": json.dumps(rented())}},
    }  # fmt: skip


def test_replay_judges_every_recorded_exchange_and_says_where_they_came_from(tmp_path: Path) -> None:
    evidence = traffic.replay([_har(tmp_path / "app.har", _entry(), _entry(status=None))], CONTRACT)
    assert [exchange.number for exchange in evidence.exchanges] == [1]
    assert evidence.verdicts.endpoint == 1
    assert (evidence.source.kind, evidence.source.origin, evidence.source.mode) == ("replay", ORIGIN, "recorded")
    assert evidence.source.target == f"recordings {tmp_path / 'app.har'}"
    assert [(held.method, held.path, held.reason) for held in evidence.not_sent] == [
        ("POST", RENT, "recorded without an answer")
    ]
    assert "1 recorded request(s) have no answer (never sent?): not judged" in evidence.warnings


def test_a_recording_that_kept_credentials_is_warned_of_first_or_a_finding_when_asked(tmp_path: Path) -> None:
    path = _har(tmp_path / "app.har", _entry(basic("key_live_1")))
    warned = traffic.replay([path], CONTRACT)
    assert warned.warnings[0].startswith("1 exchange(s) carry a credential (exchanges 1): it is redacted")
    assert "key_live_1" not in json.dumps([exchange.headers for exchange in warned.exchanges])
    failed = traffic.replay([path], CONTRACT, fail_on_credentials=True)
    (finding,) = failed.extra
    assert finding.key == "credentials_in_recording: credentials kept"
    assert failed.extra_judged == {"credentials_in_recording": 1}


def test_the_suites_own_har_of_a_conformant_run_replays_conformant(tmp_path: Path) -> None:
    # Its probes' made-up credentials were refused, as they must be: they are no credentials of the app's.
    refused = _entry("Token conformance-unknown", status=401)
    refused["response"]["content"]["text"] = json.dumps({"status": "error", "error": "Unsupported scheme"})
    refused["response"]["headers"].append({"name": "WWW-Authenticate", "value": 'Basic realm="Close API"'})
    evidence = traffic.replay([_har(tmp_path / "exchanges.har", _entry("Basic [REDACTED]"), refused)], CONTRACT)
    concluded = conclude(evidence)
    assert (concluded.verdict, [v.key for v in concluded.violations]) == ("conformant", [])
    assert concluded.checks["authentication"].judged == 1


def test_a_recording_that_cannot_be_read_cannot_test(tmp_path: Path) -> None:
    (tmp_path / "x.har").write_text("{not json")
    with pytest.raises(CannotTest, match="neither JSON nor YAML"):
        traffic.replay([tmp_path / "x.har"], CONTRACT)


def test_replay_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("replay opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    evidence = traffic.replay([_har(tmp_path / "app.har", _entry(), _entry())], CONTRACT)
    assert evidence.verdicts.endpoint == 2
