"""Credentials: the placeholders request makers hold, the Basic encoding, and redaction of the real secrets."""

from __future__ import annotations

import base64

from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, REDACTED, Secrets, basic


def test_basic_carries_the_key_as_user_with_an_empty_password() -> None:
    scheme, encoded = basic("key_live_1").split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded) == b"key_live_1:"


def test_the_placeholders_are_made_up_credentials_no_server_knows() -> None:
    placeholders = {PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN}
    assert len(placeholders) == 3
    assert all(placeholder.startswith("conformance-placeholder-") for placeholder in placeholders)


def test_secrets_never_show_in_their_repr() -> None:
    secrets = Secrets("key_live_1", "tok_live_1", "both")
    assert "key_live_1" not in repr(secrets)
    assert "tok_live_1" not in repr(secrets)
    assert "both" in repr(secrets)


def test_redaction_hides_each_secret_and_its_basic_encoding() -> None:
    secrets = Secrets("key_live_1", "tok_live_1")
    text = f"sent {basic('key_live_1')} and Bearer tok_live_1; the key key_live_1 again"
    hidden = secrets.redact(text)
    assert hidden == f"sent Basic {REDACTED} and Bearer {REDACTED}; the key {REDACTED} again"


def test_without_secrets_nothing_is_redacted() -> None:
    assert Secrets().values() == []
    assert Secrets(None, "tok").values() == ["tok"]
    assert Secrets().redact("Basic abc") == "Basic abc"
