"""Report files are valid for their formats, whatever bytes the fuzzer sent."""

from __future__ import annotations

import subprocess
from xml.dom import minidom

from conformance.suite.exchange import Exchange
from conformance.suite.report import curl, junit_cannot_test, shell_quote, xml_text


def exchange(body: bytes) -> Exchange:
    headers = [("content-type", "application/json")]
    return Exchange(1, None, "POST", "/api/v1/x/", headers, body, scheme=None, allowed_body=False)


def test_control_characters_become_escapes_that_xml_accepts() -> None:
    text = xml_text("nul\x00 bell\x07 tab\t ok")
    assert text == "nul\\x00 bell\\x07 tab\t ok"
    minidom.parseString(junit_cannot_test("reason with \x00 and \x1b[31m"))


def test_an_untypable_body_is_quoted_so_the_shell_gives_back_the_same_bytes() -> None:
    body = b'{"country": "A\x1bQ"}\n\xff\\\''
    quoted = shell_quote(body)
    assert quoted.startswith("$'")
    echoed = subprocess.run(["bash", "-c", f"printf %s {quoted}"], capture_output=True, check=True).stdout
    assert echoed == body


def test_a_curl_is_complete_with_the_host() -> None:
    command = curl(exchange(b'{"country": "AQ"}'), "http://127.0.0.1:9")
    assert command.startswith("curl -X POST http://127.0.0.1:9/api/v1/x/ -H 'content-type: application/json' ")


def test_a_body_with_a_nul_byte_is_given_as_a_file() -> None:
    assert "--data-binary @bodies/exchange-1.body" in curl(exchange(b'{"a": "\x00"}'), "http://h")


def test_a_long_body_is_given_as_a_file() -> None:
    assert "--data-binary @bodies/exchange-1.body" in curl(exchange(b"x" * 5000), "http://h")


def test_printable_bodies_are_quoted_plainly() -> None:
    assert shell_quote(b'{"a": "it\'s"}') == '\'{"a": "it\'"\'"\'s"}\''
