"""Coverage: what of the contract a run exercised, item by item, and the gate a user sets.

The judge notes what every exchange exercised (`Observed.see`); `build` turns that into items
of the contract, each exercised or not, in groups a person scans at a glance:

* `status:<operation>:<code>`: every status code the contract documents, per operation
  (`rent`, `read`, `release`), answered or never;
* `refusal:<status>`: every refusal status the contract knows, seen in an answer or never;
* `field:<name>` / `field:<name>:invalid`: every request field, sent in a valid body, and in an invalid form;
* `enum:<field>=<value>`: every value of a request enum (and each boolean), sent in a valid body;
* `response-field:<name>`: every field of a rented (or read) number, seen with a value
  (the counts of null and absent are shown beside it);
* `auth:basic`, `auth:bearer`, `auth:none`: each scheme accepted, and a request without credentials judged;
* `check:<name>`: every check, judged at least once.

`gate` applies `--require-coverage`: item names (shell-style patterns allowed: `refusal:*`)
that must be exercised, or a fraction (`0.8`, `80%`) of all items.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance import contract as contracts
from conformance.errors import UsageError
from conformance.suite.exchange import AUTHENTICATED, INVALID, NONE

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.suite.checks import View

ROLES = {contracts.RENT: "rent", contracts.READ: "read", contracts.RELEASE: "release"}
GROUPS = {
    "status": "documented status codes",
    "refusal": "refusal statuses",
    "field": "request fields sent",
    "enum": "request values sent",
    "response-field": "fields of a rented number seen with a value",
    "auth": "authentication",
    "check": "checks",
}


@dataclass
class Observed:
    """Counters the judge keeps as exchanges pass (thread-safe)."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation id, status)
    refusals: Counter[str] = field(default_factory=Counter)
    fields_valid: Counter[str] = field(default_factory=Counter)
    fields_invalid: Counter[str] = field(default_factory=Counter)
    values: Counter[tuple[str, str]] = field(default_factory=Counter)  # (field, value) in valid bodies
    response_present: Counter[str] = field(default_factory=Counter)
    response_null: Counter[str] = field(default_factory=Counter)
    numbers_seen: int = 0  # rented or read numbers whose fields were counted
    auth: Counter[str] = field(default_factory=Counter)  # "basic"/"bearer" accepted, "none" judged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def see(self, seen: View) -> None:
        """Count what one answered exchange exercised."""
        operation = seen.operation
        if operation is None:
            return
        with self.lock:
            self.statuses[(operation.id, seen.status)] += 1
            if isinstance(seen.answer, dict) and isinstance(seen.answer.get("status"), str) and seen.status >= 400:
                self.refusals[seen.answer["status"]] += 1
            self._request(seen)
            self._auth(seen)
            number = seen.answer if seen.status in (200, 201) and operation.id != contracts.RELEASE else None
            if isinstance(number, dict) and "id" in number:
                self.numbers_seen += 1
                for name, value in number.items():
                    (self.response_null if value is None else self.response_present)[name] += 1

    def refusals_unknown(self, contract: Contract) -> dict[str, int]:
        """Refusal statuses the contract does not know yet (drift), with how often each was seen."""
        return {status: n for status, n in sorted(self.refusals.items()) if status not in contract.refusal_statuses}

    def _request(self, seen: View) -> None:
        if not seen.renting or not isinstance(seen.request, dict):
            return
        target = self.fields_valid if seen.allowed else self.fields_invalid
        for name, value in seen.request.items():
            target[name] += 1
            if seen.allowed and (isinstance(value, str | bool) or value is None):
                self.values[(name, _value(value))] += 1

    def _auth(self, seen: View) -> None:
        auth = seen.exchange.auth
        if auth in AUTHENTICATED and seen.exchange.scheme and seen.status != 401:
            self.auth[seen.exchange.scheme] += 1
        elif auth in (NONE, INVALID):
            self.auth["none"] += 1


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Item:
    """One thing of the contract a run can exercise."""

    id: str
    count: int
    detail: str = ""

    @property
    def group(self) -> str:
        """The group (`status`, `field`, ...)."""
        return self.id.split(":", 1)[0]

    @property
    def exercised(self) -> bool:
        """Whether the run exercised it at least once."""
        return self.count > 0


@dataclass
class Coverage:
    """Every item, exercised or not."""

    items: list[Item]

    @property
    def exercised(self) -> int:
        """How many items were exercised."""
        return sum(item.exercised for item in self.items)

    @property
    def fraction(self) -> float:
        """The share of items exercised (1.0 for no items)."""
        return self.exercised / len(self.items) if self.items else 1.0

    def groups(self) -> dict[str, list[Item]]:
        """The items by group, in GROUPS order."""
        found: dict[str, list[Item]] = {name: [] for name in GROUPS}
        for item in self.items:
            found.setdefault(item.group, []).append(item)
        return {name: items for name, items in found.items() if items}

    def record(self) -> dict[str, Any]:
        """A JSON-ready record: totals, then each group's items with counts."""
        return {
            "exercised": self.exercised,
            "items": len(self.items),
            "fraction": round(self.fraction, 4),
            "groups": {
                name: {
                    "title": GROUPS.get(name, name),
                    "exercised": sum(item.exercised for item in items),
                    "items": {
                        item.id: {"count": item.count, **({"detail": item.detail} if item.detail else {})}
                        for item in items
                    },
                }
                for name, items in self.groups().items()
            },
        }


def _enum_values(contract: Contract, spec: dict[str, Any]) -> list[str]:
    """The values a request property may take, for enums and booleans (null too where allowed)."""
    target = spec
    for option in [spec, *spec.get("anyOf", []), *spec.get("oneOf", [])]:
        if isinstance(option, dict) and "$ref" in option:
            target = contract.schemas.get(option["$ref"].rsplit("/", 1)[-1], {})
    if "$ref" in spec:
        target = contract.schemas.get(spec["$ref"].rsplit("/", 1)[-1], {})
    types = spec.get("type", target.get("type", []))
    types = [types] if isinstance(types, str) else list(types)
    nullable = "null" in types or any(option.get("type") == "null" for option in spec.get("anyOf", []))
    values = [_value(value) for value in target.get("enum", [])]
    if "boolean" in types:
        values += ["true", "false"]
    return [*values, "null"] if values and nullable else values


def build(contract: Contract, observed: Observed, judged: dict[str, int]) -> Coverage:
    """Every item of the contract, with how often the run exercised it."""
    items: list[Item] = []
    for operation in contract.operations.values():
        role = ROLES.get(operation.id, operation.id)
        codes = [str(code) for code in operation.document.get("responses", {}) if str(code).isdigit()]
        items += [Item(f"status:{role}:{code}", observed.statuses[(operation.id, int(code))]) for code in codes]
    unknown = sorted(set(observed.refusals) - contract.refusal_statuses)
    items += [Item(f"refusal:{status}", observed.refusals[status]) for status in sorted(contract.refusal_statuses)]
    items += [Item(f"refusal:{status}", observed.refusals[status], "not in the contract: drift") for status in unknown]
    properties = contract.request_schema().get("properties", {})
    for name in properties:
        items.append(Item(f"field:{name}", observed.fields_valid[name]))
        items.append(Item(f"field:{name}:invalid", observed.fields_invalid[name]))
    for name, spec in properties.items():
        items += [
            Item(f"enum:{name}={value}", observed.values[(name, value)]) for value in _enum_values(contract, spec)
        ]
    for name in contract.schemas.get("PhoneNumber", {}).get("properties", {}):
        present, null = observed.response_present[name], observed.response_null[name]
        absent = observed.numbers_seen - present - null
        detail = f"present {present}, null {null}, absent {absent}" if observed.numbers_seen else ""
        items.append(Item(f"response-field:{name}", present, detail))
    schemes = {
        spec.get("scheme") for spec in contract.document.get("components", {}).get("securitySchemes", {}).values()
    }
    items += [Item(f"auth:{scheme}", observed.auth[str(scheme)]) for scheme in sorted(str(s) for s in schemes if s)]
    items.append(Item("auth:none", observed.auth["none"], "requests without valid credentials judged"))
    items += [Item(f"check:{name}", count) for name, count in judged.items()]
    return Coverage(items)


@dataclass(frozen=True)
class Requirement:
    """What `--require-coverage` asks: item patterns that must be exercised, or a minimum fraction."""

    patterns: tuple[str, ...] = ()
    fraction: float | None = None


def requirement(values: list[str]) -> Requirement:
    """Read `--require-coverage` values: `0.8`, `80%`, or item names (patterns allowed), comma-separated."""
    patterns: list[str] = []
    fraction: float | None = None
    for value in values:
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            number = part.removesuffix("%")
            try:
                share = float(number) / (100 if part.endswith("%") else 1)
            except ValueError:
                if ":" not in part:
                    raise UsageError(
                        f"--require-coverage {part!r}: give a fraction (0.8, 80%) or item names such as "
                        "status:rent:429, refusal:*, field:assign_to, enum:carrier_type=tollfree, auth:bearer"
                    ) from None
                patterns.append(part)
                continue
            if not 0 <= share <= 1:
                raise UsageError(f"--require-coverage {part}: a fraction must be between 0 and 1 (or 0% and 100%)")
            fraction = share if fraction is None else max(fraction, share)
    return Requirement(tuple(patterns), fraction)


def gate(coverage: Coverage, wanted: Requirement) -> list[str]:
    """What the run is short of (empty: the gate is met); a pattern no item has is a usage mistake."""
    gaps = []
    for pattern in wanted.patterns:
        matching = [item for item in coverage.items if fnmatch.fnmatchcase(item.id, pattern)]
        if not matching:
            raise UsageError(f"--require-coverage {pattern}: no coverage item is called that (see the coverage report)")
        gaps += [f"{item.id} was never exercised" for item in matching if not item.exercised]
    if wanted.fraction is not None and coverage.fraction < wanted.fraction:
        gaps.append(
            f"{coverage.exercised} of {len(coverage.items)} items exercised ({coverage.fraction:.0%}), "
            f"below the {wanted.fraction:.0%} required"
        )
    return gaps
