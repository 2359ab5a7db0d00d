"""Report files are valid for their formats, whatever bytes the fuzzer sent; writers only read the conclusion."""

from __future__ import annotations

import json
import subprocess
from xml.dom import minidom

from conformance import contract
from conformance.suite import report
from conformance.suite.conclusion import Evidence, Source, cannot_test, conclude
from conformance.suite.exchange import Exchange
from conformance.suite.judge import Judge, Verdicts
from conformance.suite.report import curl, shell_quote, xml_text

SOURCE = Source("replay", "recordings x.har", "http://127.0.0.1:9", contract.today(), "recorded")


def exchange(body: bytes, number: int = 1) -> Exchange:
    headers = [("content-type", "application/json")]
    return Exchange(number, "POST", "/api/v1/x/", headers, body)


def test_control_characters_become_escapes_that_xml_accepts() -> None:
    text = xml_text("nul\x00 bell\x07 tab\t ok")
    assert text == "nul\\x00 bell\\x07 tab\t ok"
    minidom.parseString(report.junit(cannot_test(SOURCE, "reason with \x00 and \x1b[31m", Verdicts())))


def test_an_untypable_body_is_quoted_so_the_shell_gives_back_the_same_bytes() -> None:
    body = b'{"country": "A\x1bQ"}\n\xff\\\''
    quoted = shell_quote(body)
    assert quoted.startswith("$'")
    echoed = subprocess.run(["bash", "-c", f"printf %s {quoted}"], capture_output=True, check=True).stdout
    assert echoed == body


def test_a_curl_is_complete_with_the_host() -> None:
    command = curl(exchange(b'{"country": "AQ"}'), "http://127.0.0.1:9")
    assert command.startswith("curl -X POST http://127.0.0.1:9/api/v1/x/ -H 'content-type: application/json' ")


def test_a_body_with_a_nul_byte_is_given_as_a_file_when_a_report_directory_holds_it() -> None:
    assert "--data-binary @bodies/exchange-1.body" in curl(exchange(b'{"a": "\x00"}'), "http://h")
    without = curl(exchange(b'{"a": "\x00"}'), "http://h", files=False)
    assert "@bodies/" not in without
    assert "--report-dir" in without


def test_a_long_body_is_given_as_a_file() -> None:
    assert "--data-binary @bodies/exchange-1.body" in curl(exchange(b"x" * 5000), "http://h")


def test_printable_bodies_are_quoted_plainly() -> None:
    assert shell_quote(b'{"a": "it\'s"}') == '\'{"a": "it\'"\'"\'s"}\''


def _judged(*exchanges: Exchange) -> Evidence:
    judge = Judge(contract.today())
    for one in exchanges:
        judge.judge(one)
    return Evidence(SOURCE, list(exchanges), judge.verdicts)


def _rental_answer(**changes: object) -> bytes:
    rented = dict(contract.today().document["components"]["examples"]["RentedPhoneNumber"]["value"])
    return json.dumps({**rented, **changes}).encode()


def _answered(number: int, body: bytes, status: int, answer: bytes) -> Exchange:
    made = exchange(body, number)
    made.path = "/api/v1/phone_number/request/internal/"
    made.auth, made.scheme, made.allowed_body = "present", "basic", True
    made.headers.append(("Authorization", "Basic [REDACTED]"))
    made.status, made.response_headers, made.response_body = status, [("content-type", "application/json")], answer
    return made


def test_every_report_reads_the_same_conclusion_and_parses() -> None:
    good = _answered(1, b'{"country": "US", "prefix": "650"}', 201, _rental_answer(id="phon_a1", number="+16505550100"))
    bad = _answered(2, b'{"country": "US", "prefix": "650"}', 201, _rental_answer(id="phon_a2", sms_enabled="true"))
    worse = _answered(3, b'{"country": "US", "prefix": "650"}', 201, _rental_answer(id="phon_a3", sms_enabled="no\x00"))
    conclusion = conclude(_judged(good, bad, worse))
    record = report.record(conclusion)
    violation = next(v for v in record["violations"] if v["check"] == "response_schema_conformance")
    assert violation["cases"] == 2  # "true" and "no\x00": one cause, two cases
    assert violation["key"] == "response_schema_conformance: 201 PhoneNumber sms_enabled: type"
    assert violation["examples"][0]["har_entry"] in (1, 2)
    assert violation["examples"][0]["response"]["status"] == 201
    assert violation["basis"]["kind"] == "documented"
    assert record["tool"]["name"] == "close-conformance"
    assert record["started"].endswith("Z")
    assert record["seed"] is None  # replay has no seed
    junit = minidom.parseString(report.junit(conclusion))
    suite = junit.documentElement
    assert suite is not None
    assert suite.getAttribute("time")
    assert int(suite.getAttribute("failures")) >= 1
    skipped = [case for case in junit.getElementsByTagName("testcase") if case.getElementsByTagName("skipped")]
    assert any(case.getAttribute("name") == "rate_limit_answer" for case in skipped)  # nothing to judge: skipped
    names = {p.getAttribute("name") for p in junit.getElementsByTagName("property")}
    assert {"coverage.exercised", "coverage.items", "contract.version"} <= names
    summary = report.summary(conclusion)
    assert "Custom check failed" not in summary
    assert "Coverage of the contract:" in summary
    assert ":///" not in summary
    assert ":///" not in json.dumps(record)


def test_a_reproduction_carries_no_hop_by_hop_or_framing_header() -> None:
    from conformance.suite import wire

    headers = [
        ("Host", "127.0.0.1:8010"), ("Connection", "keep-alive"), ("Content-Length", "17"),
        ("Content-Type", "application/json"), ("Accept-Encoding", "gzip"), ("Keep-Alive", "timeout=5"),
    ]  # fmt: skip
    made, _ = wire.exchange(1, contract.today(), "POST", "http://127.0.0.1:9/x/", headers=headers, body=b"{}")
    command = curl(made, "http://127.0.0.1:9")
    for name in ("Host", "Connection", "Content-Length", "Keep-Alive"):
        assert f"{name}:" not in command
    assert "Content-Type: application/json" in command


def test_a_long_message_is_cut_at_a_word_never_mid_word() -> None:
    message = "A rental of a group number needs the Manage Team Phone Numbers permission, which it must have had"
    clipped = report._clip(message + "\nsecond line", 60)
    assert clipped == "A rental of a group number needs the Manage Team Phone ..."
    assert len(clipped) <= 60
    assert report._clip("short", 60) == "short"
    assert report._clip("   ", 60) == ""
