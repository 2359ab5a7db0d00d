"""HAR 1.2, as a JSON Schema of what the specification requires, to validate the suite's files."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

_RECORDS = {"type": "array", "items": {"type": "object", "required": ["name", "value"]}}
HAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                        "properties": {
                            "startedDateTime": {"type": "string", "format": "date-time"},
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "type": "object",
                                "required": ["method", "url", "httpVersion", "cookies", "headers", "queryString",
                                             "headersSize", "bodySize"],
                                "properties": {"headers": _RECORDS},
                            },
                            "response": {
                                "type": "object",
                                "required": ["status", "statusText", "httpVersion", "cookies", "headers", "content",
                                             "redirectURL", "headersSize", "bodySize"],
                                "properties": {
                                    "status": {"type": "integer"},
                                    "statusText": {"type": "string"},
                                    "headers": _RECORDS,
                                    "content": {"type": "object", "required": ["size", "mimeType"]},
                                },
                            },
                            "timings": {"type": "object", "required": ["send", "wait", "receive"]},
                        },
                    },
                },
            },
        }
    },
}  # fmt: skip


def har_errors(document: Any) -> list[str]:
    """Every way the document breaks HAR 1.2 (empty when it is valid)."""
    validator = jsonschema_rs.Draft202012Validator(HAR_SCHEMA, validate_formats=True)
    return [f"{list(error.instance_path)}: {error.message}" for error in validator.iter_errors(document)]
