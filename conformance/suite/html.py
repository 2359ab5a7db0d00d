"""The HTML report: one self-contained page a person reads, rendered from the JSON record."""

from __future__ import annotations

import html
from typing import Any


def render(record: dict[str, Any]) -> str:
    """The page for one report record (see `report.record`)."""
    rows = "".join(
        f"<li><b>{html.escape(v['key'])}</b> ({v['cases']} cases, {html.escape(v['basis']['label'])}): "
        f"{html.escape(v['message'])}</li>"
        for v in record["violations"]
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>close-conformance</title>"
        f"<h1>{html.escape(str(record['result']))}</h1><ol>{rows}</ol></html>"
    )
