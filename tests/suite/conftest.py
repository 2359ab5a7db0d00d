"""Fixtures shared by the suite's self-tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default scenario's published admin key and token, as a user would export them."""
    monkeypatch.setenv("CLOSE_API_KEY", "mock_admin_key")
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", "mock_oauth_token")
