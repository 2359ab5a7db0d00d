"""Credentials: the placeholders schemathesis holds, the real secrets, and their redaction.

The suite's tools never see a secret: they send placeholders, which the guard swaps for the
real credentials on the way out, and every text that leaves the guard is redacted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

PLACEHOLDER_ANY = "conformance-placeholder-any"  # the guard picks the scheme (--auth)
PLACEHOLDER_KEY = "conformance-placeholder-key"  # always Basic with the real API key
PLACEHOLDER_TOKEN = "conformance-placeholder-token"  # noqa: S105 - a placeholder; always Bearer with the real token
REDACTED = "[REDACTED]"


def basic(user: str) -> str:
    """The Authorization value for HTTP Basic with `user` and an empty password."""
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode("ascii")


@dataclass(frozen=True)
class Secrets:
    """The real credentials; never printed (repr hides them)."""

    api_key: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    auth: str = "basic"  # basic | bearer | both: how PLACEHOLDER_ANY is sent

    def values(self) -> list[str]:
        """Every secret, for redaction."""
        return [value for value in (self.api_key, self.bearer_token) if value]

    def redact(self, text: str) -> str:
        """Replace every secret (and its Basic encoding) in `text`."""
        for secret in self.values():
            text = text.replace(basic(secret).split(" ", 1)[1], REDACTED).replace(secret, REDACTED)
        return text
