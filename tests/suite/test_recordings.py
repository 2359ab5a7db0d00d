"""Recordings: every format other tools write is read into the same record, the format told by the content."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.errors import RecordingError
from conformance.suite import recordings
from conformance.suite.recordings import Recorded

URL = "https://api.close.com/api/v1/phone_number/request/internal/"
REQUEST = b'{"country": "US", "prefix": "650"}'
ANSWER = b'{"id": "phon_a1", "number": "+16503335555"}'
WHEN = dt.datetime(2026, 11, 27, 15, 4, 5, tzinfo=dt.UTC)
DATE = "Fri, 27 Nov 2026 15:04:05 GMT"  # the same moment, as a Date header
REQUEST_HEADERS = {"Content-Type": "application/json", "Authorization": "[Filtered]"}
RESPONSE_HEADERS = {"Content-Type": "application/json", "Date": DATE}


def pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def har() -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "devtools", "version": "1"}, "entries": [{
        "startedDateTime": WHEN.isoformat().replace("+00:00", "Z"), "time": 120.0,
        "request": {"method": "POST", "url": URL, "headers": pairs(REQUEST_HEADERS),
                    "postData": {"mimeType": "application/json", "text": REQUEST.decode()}},
        "response": {"status": 201, "headers": pairs(RESPONSE_HEADERS),
                     "content": {"size": len(ANSWER), "mimeType": "application/json", "text": ANSWER.decode()}},
    }]}}  # fmt: skip


def vcr(body_key: str = "string") -> dict[str, Any]:
    return {"version": 1, "interactions": [{
        "request": {"method": "POST", "uri": URL, "headers": {k: [v] for k, v in REQUEST_HEADERS.items()},
                    "body": REQUEST.decode()},
        "response": {"status": {"code": 201, "message": "Created"},
                     "headers": {k: [v] for k, v in RESPONSE_HEADERS.items()}, "body": {body_key: ANSWER.decode()}},
    }]}  # fmt: skip


def schemathesis() -> dict[str, Any]:
    return {"command": "st run", "recorded_with": "Schemathesis", "http_interactions": [{
        "id": "1", "status": "SUCCESS", "recorded_at": WHEN.isoformat(),
        "request": {"uri": URL, "method": "POST", "headers": {k: [v] for k, v in REQUEST_HEADERS.items()},
                    "body": {"encoding": "utf-8", "base64_string": base64.b64encode(REQUEST).decode()}},
        "response": {"status": {"code": 201, "message": "Created"}, "elapsed": 0.12,
                     "headers": {k: [v] for k, v in RESPONSE_HEADERS.items()},
                     "body": {"encoding": "utf-8", "base64_string": base64.b64encode(ANSWER).decode()}},
    }]}  # fmt: skip


def dump(document: dict[str, Any]) -> str:
    """YAML as vcrpy writes it: keys in their order."""
    return yaml.safe_dump(document, sort_keys=False)


FORMATS = {
    "HAR": lambda: json.dumps(har()),
    "vcrpy YAML": lambda: dump(vcr()),
    "vcrpy JSON": lambda: json.dumps(vcr()),
    "vcrpy with content bodies (older, httpx)": lambda: dump(vcr("content")),
    "schemathesis cassette": lambda: dump(schemathesis()),
}


def record(recorded: Recorded) -> tuple[Any, ...]:
    """What every format records alike (a duration only HAR and schemathesis keep)."""
    return (recorded.method, recorded.url, recorded.request_headers, recorded.request_body, recorded.status,
            recorded.response_headers, recorded.response_body, recorded.started, recorded.body_missing)  # fmt: skip


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_is_read_into_the_same_record(name: str) -> None:
    (recorded,) = recordings.read_document(FORMATS[name](), f"x ({name})")
    assert record(recorded) == (
        "POST", URL, list(REQUEST_HEADERS.items()), REQUEST, 201, list(RESPONSE_HEADERS.items()), ANSWER,
        WHEN.timestamp(), False,
    )  # fmt: skip


def test_the_duration_is_kept_where_the_recorder_kept_it() -> None:
    assert recordings.read_document(FORMATS["HAR"](), "x.har")[0].elapsed == pytest.approx(0.12)
    assert recordings.read_document(FORMATS["schemathesis cassette"](), "x.yaml")[0].elapsed == pytest.approx(0.12)
    assert recordings.read_document(FORMATS["vcrpy YAML"](), "x.yaml")[0].elapsed == 0.0


@pytest.mark.parametrize(
    ("name", "suffix"), [("HAR", ".yaml"), ("vcrpy YAML", ".json"), ("schemathesis cassette", ".har")]
)
def test_the_format_is_told_by_the_content_not_the_file_name(tmp_path: Path, name: str, suffix: str) -> None:
    path = tmp_path / f"recording{suffix}"
    path.write_text(FORMATS[name](), encoding="utf-8")
    recorded, skipped = recordings.read([path])
    assert ([record(r)[:7] for r in recorded], skipped) == (
        [("POST", URL, list(REQUEST_HEADERS.items()), REQUEST, 201, list(RESPONSE_HEADERS.items()), ANSWER)],
        [],
    )


def test_bodies_are_decoded_as_the_app_read_them() -> None:
    document = vcr()
    response = document["interactions"][0]["response"]
    response["headers"]["Content-Encoding"] = ["gzip"]
    response["body"] = {"string": gzip.compress(ANSWER)}  # vcrpy with httpx: the compressed bytes
    (recorded,) = recordings.read_document(yaml.dump(document), "x.yaml")
    assert recorded.response_body == ANSWER


def test_a_har_body_in_base64_is_decoded() -> None:
    document = har()
    content = document["log"]["entries"][0]["response"]["content"]
    content.update(text=base64.b64encode(ANSWER).decode(), encoding="base64")
    assert recordings.read_document(json.dumps(document), "x.har")[0].response_body == ANSWER


def test_a_har_saved_without_bodies_says_so() -> None:
    document = har()
    del document["log"]["entries"][0]["response"]["content"]["text"]
    (recorded,) = recordings.read_document(json.dumps(document), "x.har")
    assert (recorded.body_missing, recorded.response_body) == (True, b"")


def test_a_playwright_har_body_is_read_from_the_file_beside_it(tmp_path: Path) -> None:
    document = har()
    content = document["log"]["entries"][0]["response"]["content"]
    del content["text"]
    content["_file"] = "answer.json"
    (tmp_path / "answer.json").write_bytes(ANSWER)
    (recorded,) = recordings.read_document(json.dumps(document), str(tmp_path / "x.har"))
    assert (recorded.response_body, recorded.body_missing) == (ANSWER, False)


def test_without_a_recorded_time_the_date_header_tells_when_and_without_either_it_is_unknown() -> None:
    document = har()
    del document["log"]["entries"][0]["startedDateTime"]
    assert recordings.read_document(json.dumps(document), "x.har")[0].started == WHEN.timestamp()
    document = vcr()
    del document["interactions"][0]["response"]["headers"]["Date"]
    assert recordings.read_document(dump(document), "x.yaml")[0].started == 0.0


@pytest.mark.parametrize(
    ("recorded_at", "known"),
    [
        ("2026-11-28T04:00:00Z", True),
        ("2026-11-28T05:00:00+01:00", True),
        ("Sat, 28 Nov 2026 04:00:00 GMT", True),  # Ruby VCR's form
        ("2026-11-28T04:00:00", False),  # no offset: whose zone? unknown, not UTC
        ("yesterday", False),
    ],
)
def test_the_forms_of_a_recorded_time(recorded_at: str, known: bool) -> None:
    cassette = {"http_interactions": [{"recorded_at": recorded_at, "request": {"uri": "x"}, "response": {}}]}
    [one] = recordings.read_document(json.dumps(cassette), "c.json")
    assert (one.started == 1795838400.0) if known else (one.started == 0.0)


def test_a_request_recorded_without_an_answer_has_no_status() -> None:
    document = vcr()
    document["interactions"][0]["response"] = None
    assert recordings.read_document(dump(document), "x.yaml")[0].status is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{not: [json, nor yaml", "neither JSON nor YAML"),
        ('{"something": "else"}', "not a recording this tool reads"),
        ('{"log": {"entries": "none"}}', "`log.entries` is not a list"),
        ('{"log": {"entries": [{"response": {"status": "two hundred"}}]}}', "HAR entry 1 is damaged"),
        ('{"interactions": [{"request": {}, "response": {"status": {"code": "x"}}}]}',
         "cassette interaction 1 is damaged"),
    ],
)  # fmt: skip
def test_a_file_that_is_no_recording_or_a_damaged_one_names_itself(text: str, said: str) -> None:
    with pytest.raises(RecordingError, match=said.replace("(", r"\(")) as error:
        recordings.read_document(text, "bad.json")
    assert str(error.value).startswith("bad.json: ")


def test_a_folder_is_searched_for_recordings_outside_hidden_folders_and_other_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes" / "one.yaml").write_text(FORMATS["vcrpy YAML"](), encoding="utf-8")
    (tmp_path / ".schemathesis").mkdir()
    (tmp_path / ".schemathesis" / "cache.json").write_text(FORMATS["HAR"](), encoding="utf-8")
    (tmp_path / "settings.json").write_text('{"theme": "dark"}', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not looked at", encoding="utf-8")
    recorded, skipped = recordings.read([tmp_path])
    assert len(recorded) == 1
    said = "not a recording (HAR 1.2, a vcrpy or pytest-recording cassette, or a schemathesis cassette)"
    assert skipped == [f"{tmp_path / 'settings.json'}: {said}"]


def test_a_file_named_itself_must_be_a_recording(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"theme": "dark"}', encoding="utf-8")
    with pytest.raises(RecordingError, match="not a recording this tool reads"):
        recordings.read([tmp_path / "settings.json"])
    with pytest.raises(RecordingError, match="no such file or folder"):
        recordings.read([tmp_path / "missing.har"])


def test_one_run_saved_in_two_formats_is_judged_once(tmp_path: Path) -> None:
    (tmp_path / "run.har").write_text(FORMATS["HAR"](), encoding="utf-8")
    (tmp_path / "run.yaml").write_text(FORMATS["vcrpy YAML"](), encoding="utf-8")
    recorded, skipped = recordings.read([tmp_path])
    assert len(recorded) == 1
    assert skipped == [f"{tmp_path / 'run.yaml'}: the same 1 exchange(s) as run.har, judged once"]


def test_a_folder_without_any_recording_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no recordings found"):
        recordings.read([tmp_path])
