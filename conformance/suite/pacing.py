"""Pacing: how long the server asks us to wait, and an optional steady request rate.

Close limits each key (about 20 requests a second). A case answered 429 tells nothing about
the contract, so the guard waits as the server asks (the `RateLimit` header's `reset`, in its
comma or semicolon form, `Retry-After` in seconds or as an HTTP-date, or the body's
`error.rate_reset`, the longest of them) and sends it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import math
import re
import threading
import time

_RESET = re.compile(r"reset=(\d+(?:\.\d+)?)")
DEFAULT_WAIT = 1.0


def _seconds(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _until(http_date: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp() - time.time()


def requested_wait(headers: list[tuple[str, str]], body: bytes) -> float | None:
    """Seconds the answer asks to wait (never negative), or None when it does not say."""
    waits: list[float | None] = []
    lowered = {key.lower(): value for key, value in headers}
    match = _RESET.search(lowered.get("ratelimit", ""))
    if match:
        waits.append(_seconds(match.group(1)))
    retry_after = lowered.get("retry-after", "").strip()
    if retry_after:
        seconds = _seconds(retry_after)
        waits.append(seconds if seconds is not None else _until(retry_after))
    with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
        waits.append(_seconds(json.loads(body)["error"]["rate_reset"]))
    known = [wait for wait in waits if wait is not None]
    return max(0.0, *known) if known else None


class Pacer:
    """At most `rate` requests a second (None: no limit), shared by every thread of a run."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait_turn(self) -> None:
        """Sleep until this request's slot."""
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        time.sleep(max(0.0, slot - now))
