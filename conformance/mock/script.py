"""Odd answers on demand: the next requests to the endpoint get a scripted answer.

Integrations with Close must handle rate limits, refusals and outages, which the live API
cannot produce on demand. A test queues answers (`MockApp.script`, the pytest plugin's
`close_mock.next_answers(...)`, or `POST /__mock__/script`); each request to the endpoint
takes the next one instead of the normal pipeline. Nothing is rented for a scripted answer,
except `slow`, which answers normally after a pause. A scripted answer follows the readings of
the contract's choices the mock follows, as the normal one would (a billing-error's code, the
429's Retry-After).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from conformance.errors import ScriptError as ScriptError  # noqa: PLC0414 - still importable from here
from conformance.mock.choices import Choices
from conformance.mock.replies import Reply, refusal

KINDS = {
    "rate-limited": "429 with Close's rate-limit body, RateLimit and Retry-After (`reset`: seconds, default 1)",
    "server-error": "a 5xx (`status`: 500-599, default 503) with a JSON body",
    "drop": "the connection is closed in the middle of the answer",
    "slow": "the normal answer after a pause (`delay`: seconds, default 2), for client timeouts",
    "sold-out": "404: no number is left",
    "has-voice-only": "400 has-voice-only (or the code of the refusal-codes reading in force)",
    "needs-more-info": "400 needs-more-info (likewise)",
    "billing-error": "400 billing-error (likewise)",
}


@dataclass(frozen=True)
class OddAnswer:
    """One scripted answer."""

    kind: str
    options: tuple[tuple[str, float], ...] = ()

    def option(self, name: str, default: float) -> float:
        """A numeric option of this answer."""
        return dict(self.options).get(name, default)

    def reply(self, choices: Choices | None = None) -> Reply | None:
        """The answer to send under the readings in force, or None for `drop` and `slow` (handled by the server)."""
        kind = self.kind
        choices = choices or Choices()
        if kind == "rate-limited":
            return choices.answer("retry-after", limit=20, window=1.0, reset=self.option("reset", 1.0))
        if kind == "server-error":
            status = int(self.option("status", 503))
            return Reply(status, {"status": "error", "error": "The service is unavailable (scripted by the test)."})
        if kind == "sold-out":
            return refusal(404, "No number is left for this request (scripted by the test).").reply
        if kind in ("has-voice-only", "needs-more-info", "billing-error"):
            return choices.answer("refusal-codes", status=kind, message=f"Refused with {kind} (scripted by the test).")
        return None


def odd_answer(kind: str, **options: Any) -> OddAnswer:
    """Check and build one odd answer."""
    if kind not in KINDS:
        known = "; ".join(f"{name}: {what}" for name, what in KINDS.items())
        raise ScriptError(f"unknown odd answer {kind!r}; known: {known}")
    numbers: list[tuple[str, float]] = []
    for name, value in options.items():
        if name not in ("reset", "status", "delay") or isinstance(value, bool) or not isinstance(value, int | float):
            raise ScriptError(f"{kind}: option {name}={value!r} is not one of reset, status, delay (numbers)")
        numbers.append((name, float(value)))
    if kind == "server-error" and not 500 <= dict(numbers).get("status", 503) <= 599:
        raise ScriptError(f"server-error: status must be 500-599, not {dict(numbers)['status']:g}")
    if any(value < 0 for _, value in numbers):
        raise ScriptError(f"{kind}: options must not be negative")
    return OddAnswer(kind, tuple(numbers))


class Script:
    """The queue of odd answers, shared by every request of the server (thread-safe)."""

    def __init__(self) -> None:
        self.queue: deque[OddAnswer] = deque()
        self.lock = threading.Lock()

    def push(self, *answers: OddAnswer) -> None:
        """Queue answers for the next requests, in order."""
        with self.lock:
            self.queue.extend(answers)

    def next(self) -> OddAnswer | None:
        """The answer for this request, or None to answer normally."""
        if not self.queue:
            return None  # the common case, without the lock (a deque's length is read atomically)
        with self.lock:
            return self.queue.popleft() if self.queue else None

    def clear(self) -> None:
        """Forget every queued answer."""
        with self.lock:
            self.queue.clear()

    def pending(self) -> list[str]:
        """The kinds still queued."""
        with self.lock:
            return [answer.kind for answer in self.queue]
