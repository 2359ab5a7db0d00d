"""How request bodies are read: one strict reader for validity, one lenient reader for money.

The mock refuses a body unless `read_strict` accepts it, and the suite's guard decides what a
body means with the same function, so "is this request valid?" has one answer in the
project. `read_lenient` is the other side: what a careless server might make of the same
bytes (trailing garbage ignored, NaN accepted, the last of duplicate keys kept); safe mode
uses it to decide whether a request could rent anywhere.
"""

from __future__ import annotations

import json
from typing import Any

MAX_REASON = 200


class NotJSON(ValueError):  # noqa: N818 - reads as a verdict: NotJSON("trailing data")
    """The bytes are not a strict JSON document; the message says why, in one line."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("an object has the same key twice")
    return result


def read_strict(raw: bytes) -> Any:
    """Strict JSON: UTF-8, one document, no NaN/Infinity, no duplicate keys, no lone surrogates."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
        if "\\u" in text:
            # Only a \u escape can smuggle in an unpaired surrogate; encoding then fails.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise NotJSON("nested too deeply") from None
    except (ValueError, UnicodeError) as error:
        raise NotJSON(str(error).splitlines()[0][:MAX_REASON]) from None
    return value


def read_lenient(raw: bytes) -> Any | None:
    """What a careless server might read: the first JSON value, with whatever is around it; else None.

    A BOM or blanks before it and anything after it are ignored. Of a key given twice, every
    value is kept, in order, under `DUPLICATES` of its object (servers differ in which one they
    take); the object itself holds the last, as Python does.
    """
    text = raw.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    try:
        value, _end = json.JSONDecoder(object_pairs_hook=_keep_duplicates).raw_decode(text)
    except (ValueError, RecursionError):
        return None
    return value


DUPLICATES = "\x00duplicates"  # no JSON key a client sends: the key of `read_lenient`'s record


def _keep_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    repeated: dict[str, list[Any]] = {}
    for key, value in pairs:
        if key in found:
            repeated.setdefault(key, [found[key]]).append(value)
        found[key] = value
    if repeated:
        found[DUPLICATES] = repeated
    return found
