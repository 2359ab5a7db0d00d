"""Recorded traffic, read from the files other tools write, as one kind of record.

Formats are detected from the content, not the file name:

* HAR 1.2 (`log.entries[]`): browser devtools, proxies, Redocly, our own `--report-dir`;
* vcrpy cassettes, YAML or JSON (`interactions[]`), bodies under `body.string` or, as older
  vcrpy wrote them for httpx, `body.content`; pytest-recording's folders of them;
* schemathesis cassettes (`http_interactions[]`, bodies as `base64_string`).

Nothing here opens a network connection.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.utils
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from conformance.errors import RecordingError
from conformance.suite.exchange import decoded

if TYPE_CHECKING:
    from collections.abc import Callable

SUFFIXES = (".har", ".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int | None  # None: the recording has no answer
    response_headers: list[tuple[str, str]]
    response_body: bytes
    started: float = 0.0  # epoch seconds, 0 when unknown (else the response's Date header)
    body_missing: bool = False  # the recorder kept no response body although there was one
    elapsed: float = 0.0  # seconds


def _bytes(value: Any, encoding: str | None = None) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    text = str(value)
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8", "surrogateescape")


def _pairs(headers: Any) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs from a list of {name, value} or a mapping of name to value(s)."""
    if isinstance(headers, list):
        return [(str(item["name"]), str(item["value"])) for item in headers if isinstance(item, dict)]
    if isinstance(headers, dict):
        return [
            (str(name), str(value))
            for name, values in headers.items()
            for value in (values if isinstance(values, list) else [values])
        ]
    return []


def _epoch(value: Any) -> float:
    """An ISO 8601 or HTTP-date time (Ruby VCR's `recorded_at`) in epoch seconds.

    0 (unknown) when odd or without a UTC offset (whose zone?).
    """
    if not isinstance(value, str):
        return 0.0
    try:
        moment = dt.datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
    return moment.timestamp() if moment.tzinfo is not None else 0.0


def _date_header(headers: list[tuple[str, str]]) -> float:
    """The response's `Date` header (when the server answered) in epoch seconds, 0 when absent or odd."""
    return _epoch(next((v for k, v in headers if k.lower() == "date"), None))


def _normalized(found: list[Recorded]) -> list[Recorded]:
    """Bodies decoded; exchanges without a recorded time (vcrpy keeps none) take the response's Date header."""
    return [
        dataclasses.replace(
            r,
            request_body=decoded(r.request_headers, r.request_body),
            response_body=decoded(r.response_headers, r.response_body),
            started=r.started or _date_header(r.response_headers),
        )
        for r in found
    ]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _har_body(part: dict[str, Any], text_key: str, source: str) -> bytes | None:
    """A HAR body: inline text, or Playwright's `_file` beside the HAR; None when not recorded."""
    if text_key in part:
        return _bytes(part.get(text_key), part.get("encoding"))
    attached = part.get("_file")
    if isinstance(attached, str) and attached and "/" not in attached and "\\" not in attached:
        try:
            return (Path(source).parent / attached).read_bytes()
        except OSError:
            return None
    return None


def _each(items: Any, source: str, what: tuple[str, str], read_one: Callable[[int, Any], Recorded]) -> list[Recorded]:
    """Read every item of a recording's list; a damaged one names itself (RecordingError).

    `what` is the list's key and the name of one item, for the message.
    """
    if items is None:
        return []
    key, what_one = what
    if not isinstance(items, list):
        raise RecordingError(f"{source}: `{key}` is not a list")
    found = []
    for index, item in enumerate(items):
        try:
            one = read_one(index, item)
        except (AttributeError, TypeError, ValueError, KeyError, OverflowError) as error:
            raise RecordingError(
                f"{source}: {what_one} {index + 1} is damaged ({type(error).__name__}: {error})"
            ) from None
        if not one.url:
            raise RecordingError(f"{source}: {what_one} {index + 1} is damaged (it has no request URL)")
        found.append(one)
    return found


def _from_har(document: dict[str, Any], source: str) -> list[Recorded]:
    def entry_of(_index: int, entry: Any) -> Recorded:
        request, response = entry.get("request", {}), entry.get("response", {})
        post = dict(request.get("postData") or {})
        content = response.get("content") or {}
        post["encoding"] = post.get("encoding") or ("base64" if post.get("comment") == "base64" else None)
        response_body = _har_body(content, "text", source)
        return Recorded(
            method=str(request.get("method", "GET")).upper(),
            url=str(request.get("url", "")),
            request_headers=_pairs(request.get("headers")),
            request_body=_har_body(post, "text", source) or b"",
            status=int(response.get("status") or 0) or None,
            response_headers=_pairs(response.get("headers")),
            response_body=response_body or b"",
            started=_epoch(entry.get("startedDateTime")),
            elapsed=max(_number(entry.get("time")), 0.0) / 1000,
            # Devtools' "Export HAR (sanitized)" and proxies with body capture off keep only the size.
            body_missing=response_body is None and _number(content.get("size")) > 0,
        )

    return _each(document["log"].get("entries"), source, ("log.entries", "HAR entry"), entry_of)


def _vcr_body(body: Any) -> bytes:
    if isinstance(body, dict):
        if "base64_string" in body:
            return _bytes(body["base64_string"], "base64")
        return _bytes(body.get("string", body.get("content")))
    return _bytes(body)


def _from_vcr(document: dict[str, Any], source: str) -> list[Recorded]:
    def interaction_of(_index: int, interaction: Any) -> Recorded:
        request, response = interaction.get("request", {}), interaction.get("response") or {}
        status = response.get("status", {})
        code = status.get("code") if isinstance(status, dict) else status
        return Recorded(
            method=str(request.get("method", "GET")).upper(),
            url=str(request.get("uri") or request.get("url") or ""),
            request_headers=_pairs(request.get("headers")),
            request_body=_vcr_body(request.get("body")),
            status=int(code) if code is not None else None,
            response_headers=_pairs(response.get("headers")),
            response_body=_vcr_body(response.get("body") if "body" in response else response.get("content")),
        )

    return _each(document.get("interactions"), source, ("interactions", "cassette interaction"), interaction_of)


def _from_schemathesis(document: dict[str, Any], source: str) -> list[Recorded]:
    def interaction_of(_index: int, interaction: Any) -> Recorded:
        request, response = interaction.get("request", {}), interaction.get("response") or {}
        code = (response.get("status") or {}).get("code")
        return Recorded(
            method=str(request.get("method", "GET")).upper(),
            url=str(request.get("uri", "")),
            request_headers=_pairs(request.get("headers")),
            request_body=_vcr_body(request.get("body")),
            status=int(code) if code is not None else None,
            response_headers=_pairs(response.get("headers")),
            response_body=_vcr_body(response.get("body")),
            started=_epoch(interaction.get("recorded_at")),
            elapsed=_number(response.get("elapsed")),
        )

    return _each(
        document.get("http_interactions"), source, ("http_interactions", "cassette interaction"), interaction_of
    )


def read_document(text: str, source: str) -> list[Recorded]:
    """The exchanges of one recording, whatever its format; RecordingError if it is none."""
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise RecordingError(f"{source}: neither JSON nor YAML ({str(error).splitlines()[0]})") from None
    if isinstance(document, dict) and isinstance(document.get("log"), dict) and "entries" in document["log"]:
        return _normalized(_from_har(document, source))
    if isinstance(document, dict) and "http_interactions" in document:
        return _normalized(_from_schemathesis(document, source))
    if isinstance(document, dict) and "interactions" in document:
        return _normalized(_from_vcr(document, source))
    raise RecordingError(
        f"{source}: not a recording this tool reads (HAR 1.2, a vcrpy or pytest-recording cassette, "
        "or a schemathesis cassette)"
    )


def files(paths: list[Path]) -> list[tuple[Path, bool]]:
    """The recording files the paths name, each with whether it was named itself (not found in a folder).

    Folders are searched for files with a recording's suffix, outside hidden folders (a tool's
    cache such as `.schemathesis/`).
    """
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            inside = (
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            found += [(p, False) for p in sorted(inside)]
        elif path.is_file():
            found.append((path, True))
        else:
            raise RecordingError(f"{path}: no such file or folder")
    if not found:
        raise RecordingError("no recordings found in " + ", ".join(map(str, paths)))
    return found


def read(paths: list[Path]) -> tuple[list[Recorded], list[str]]:
    """Every exchange recorded in the files and folders given, in order, and the files skipped.

    A file named itself must be a recording; one found in a folder that is not (another JSON or
    YAML file beside the cassettes) is skipped and listed, with the reason. A file that holds
    exactly the exchanges of another (one run saved in two formats) is judged once.
    """
    exchanges: list[Recorded] = []
    skipped: list[str] = []
    contents: dict[tuple[tuple[str, str, bytes, int | None, bytes], ...], Path] = {}  # exchanges -> first file
    for path, named in files(paths):
        try:
            found = read_document(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as error:
            if named:
                raise RecordingError(f"{path}: cannot read it ({error})") from None
            skipped.append(f"{path}: cannot read it ({error})")
            continue
        except RecordingError as error:
            if named:
                raise
            skipped.append(str(error).replace("not a recording this tool reads", "not a recording", 1))
            continue
        content = tuple((r.method, r.url, r.request_body, r.status, r.response_body) for r in found)
        first = contents.setdefault(content, path)
        if found and first != path:
            skipped.append(f"{path}: the same {len(found)} exchange(s) as {first.name}, judged once")
            continue
        exchanges += found
    if not exchanges and skipped:
        raise RecordingError(f"no recordings found in {', '.join(map(str, paths))}: " + "; ".join(skipped[:3]))
    return exchanges, skipped
