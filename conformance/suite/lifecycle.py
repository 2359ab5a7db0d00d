"""The rest of a rented number's life: what a full run rents, it reads back and releases.

Every rented number bills its monthly price until it is released, so a full run ends, whatever
ends it (success, violations, the deadline, a server that stopped answering, SIGINT, SIGTERM),
by reading back each number it rented (`GET /phone_number/{id}/`: the strongest check of a
rental, the number Close stores) and releasing it (`DELETE`), then reading it once more (it
must be gone). A ledger file records each rental before it is sent and each release after it
succeeded, so `close-conformance release --ledger PATH` finishes the job after a crash or a
`kill -9`. Safe mode reads and releases only ids no number can have.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import contract as contracts
from conformance.errors import LedgerError
from conformance.suite import safety
from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, basic
from conformance.suite.exchange import Exchange

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract
    from conformance.suite.guard import Guard

LEDGER_NAME = "ledger.jsonl"


def default_ledger_dir() -> Path:
    """Where ledgers go without --ledger or --report-dir: $XDG_STATE_HOME/close-conformance (~/.local/state/...)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "close-conformance"


def default_ledger(report_dir: Path | None) -> Path:
    """The ledger of a run: in the report directory, else a new file in the per-user place."""
    if report_dir is not None:
        return report_dir / LEDGER_NAME
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return default_ledger_dir() / f"ledger-{stamp}.jsonl"


@dataclass
class Book:
    """The ledger file: one JSON line per event, flushed to disk before the request it announces."""

    path: Path
    base_url: str
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path | None, base_url: str) -> Book:
        """Start a ledger for a run against `base_url` (appending: one file may hold several runs)."""
        book = cls(path or default_ledger(None), base_url)
        try:
            book.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerError(f"--ledger {book.path}: {error.strerror}") from None
        book.write({"event": "run", "base_url": base_url})
        return book

    def write(self, event: dict[str, Any]) -> None:
        """Append one event and make sure it is on disk."""
        line = json.dumps({**event, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}) + "\n"
        with self.lock:
            try:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as error:
                raise LedgerError(f"cannot write the ledger {self.path}: {error.strerror}") from None

    def renting(self, exchange: Exchange) -> None:
        """Before a POST that could rent goes out."""
        self.write({"event": "renting", "request": hashlib.sha256(exchange.body).hexdigest()[:16]})

    def rented(self, rental_id: str) -> None:
        """After a 2xx to a POST: the id to release."""
        self.write({"event": "rented", "id": rental_id})

    def answered(self, _exchange: Exchange) -> None:
        """After a POST that could rent was answered without renting: it is no longer one that may have."""
        self.write({"event": "answered"})

    def released(self, rental_id: str) -> None:
        """After a release was answered 2xx."""
        self.write({"event": "released", "id": rental_id})

    def unreleased(self, rental_id: str) -> None:
        """After a number answered released was read back as still there: it is held (and billed) still."""
        self.write({"event": "still-held", "id": rental_id})


@dataclass
class Held:
    """What a ledger says is still held, per base URL, and POSTs whose outcome it does not know."""

    by_base: dict[str, list[str]] = field(default_factory=dict)  # base URL -> ids rented and not released
    unknown: int = 0  # POSTs that went out with no answer recorded: they may have rented


def read(path: Path) -> Held:
    """What a ledger file says is still held."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise LedgerError(f"cannot read the ledger {path}: {error.strerror}") from None
    held = Held()
    base = ""
    for number, line in enumerate(lines, 1):
        try:  # a line without what its event needs (a base URL, an id) is as damaged as one that is no JSON
            event = json.loads(line)
            base = _apply(held, event, base)
        except (ValueError, KeyError, TypeError):
            raise LedgerError(f"{path}:{number}: not a ledger line") from None
    return held


def _apply(held: Held, event: dict[str, Any], base: str) -> str:
    """One ledger event applied to what is held; the base URL of the run it belongs to."""
    kind = event["event"]
    if kind == "run":
        base = str(event["base_url"])
        held.by_base.setdefault(base, [])
        return base
    ids = held.by_base.setdefault(base, [])
    if kind == "renting":
        held.unknown += 1
    elif kind in ("rented", "answered"):
        held.unknown = max(held.unknown - 1, 0)
        if kind == "rented":
            ids.append(str(event["id"]))
    elif kind == "released" and event["id"] in ids:
        ids.remove(event["id"])
    elif kind == "still-held" and event["id"] not in ids:
        ids.append(str(event["id"]))
    return base


SCHEME_PLACEHOLDERS = {"basic": basic(PLACEHOLDER_KEY), "bearer": f"Bearer {PLACEHOLDER_TOKEN}"}


def _send(
    guard: Guard, method: str, rental_id: str, probe: str, *, releasing: bool = True, scheme: str | None = None
) -> Exchange | None:
    """One read or release of a number, with the credentials that rented it (others for an id no number has)."""
    operation = guard.contract.operations[contracts.READ if method == "GET" else contracts.RELEASE]
    path = guard.upstream_prefix + operation.path.replace("{phone_number_id}", rental_id)
    scheme = scheme or guard.ledger.rented_with.get(rental_id)
    authorization = SCHEME_PLACEHOLDERS.get(scheme or "", basic(PLACEHOLDER_ANY))
    outcome = guard.forward(
        method, path, [("authorization", authorization)], b"", probe=probe, releasing=releasing, follow_up=releasing
    )
    return outcome if isinstance(outcome, Exchange) else None


def _release(guard: Guard, rental_id: str) -> None:
    """Release with the credentials that rented the number; when they may not (403), with the others."""
    answer = _send(guard, "DELETE", rental_id, "release the rental")
    if answer is not None and answer.status == 403 and guard.secrets.api_key and guard.secrets.bearer_token:
        other = "bearer" if guard.ledger.rented_with.get(rental_id) == "basic" else "basic"
        _send(guard, "DELETE", rental_id, "release the rental with the other credentials", scheme=other)


def has_lifecycle(contract: Contract) -> bool:
    """Whether the contract documents reading and releasing a number."""
    return {contracts.READ, contracts.RELEASE} <= set(contract.operations)


def probe(guard: Guard, contract: Contract) -> list[str]:
    """Read and release an id no number can have (safe in every mode); what could not be probed."""
    if not has_lifecycle(contract):
        return ["reading and releasing a number: the contract documents neither"]
    no_such = safety.UNRENTABLE_ID
    _send(guard, "GET", no_such, "read a number that cannot exist", releasing=False)
    _send(guard, "DELETE", no_such, "release a number that cannot exist", releasing=False)
    for method, operation in (("GET", contracts.READ), ("DELETE", contracts.RELEASE)):
        path = guard.upstream_prefix + contract.operations[operation].path.replace("{phone_number_id}", no_such)
        guard.forward(method, path, [], b"", probe=f"{'read' if method == 'GET' else 'release'} without credentials")
    return []


def release_all(guard: Guard, book: Book | None, progress: Callable[[str], None]) -> dict[str, Any]:
    """Read back and release every number this run rented and still holds; say what is still held after."""
    ledger = guard.ledger
    if has_lifecycle(guard.contract):
        held = sorted(ledger.rented_ids - ledger.released_ids)
        if held:
            why = "interrupted: " if guard.policy.stop.is_set() else ""
            already = len(ledger.rented_ids) - len(held)
            of = f" ({already} more released already)" if already else ""
            progress(f"{why}releasing the {len(held)} number(s) this run still holds{of}, each read back first")
        for index, rental_id in enumerate(held):
            _send(guard, "GET", rental_id, "read back the rental")
            _release(guard, rental_id)
            if rental_id in ledger.released_ids:  # a 2xx is not proof: the number must be gone (reads are free)
                _send(guard, "GET", rental_id, "read after release")
                if index == 0 and rental_id in ledger.released_ids:  # gone: a second release must not fail
                    _send(guard, "DELETE", rental_id, "release again")
    exchanges = guard.exchanges
    rentals = [exchange for exchange in exchanges if exchange.rented]
    no_id = [f"(exchange {e.number}: the answer gave no id)" for e in rentals if e.rental_id() not in ledger.rented_ids]
    still = sorted(ledger.rented_ids - ledger.released_ids) + no_id
    return {
        "rented": len(rentals),
        "read_back": len(ledger.read_ids),  # the guard keeps them: rented ids a read answered 2xx
        "released": len(ledger.released_ids),
        "held": still,
        "ledger": str(book.path) if book is not None else None,
        "release_command": f"close-conformance release --ledger {book.path}" if book is not None and still else None,
    }


def release(path: Path, base_url: str | None, guard_for: Callable[[str], Guard], say: Callable[[str], None]) -> int:
    """`close-conformance release --ledger PATH`: release what the ledger says is held; 0 when nothing is left."""
    held = read(path)
    left = 0
    for base, ids in held.by_base.items():
        if base_url is not None and base.rstrip("/") != base_url.rstrip("/"):
            continue
        if not ids:
            continue
        with guard_for(base) as guard:
            guard.ledger.rented_ids |= set(ids)
            book = Book(path, base)
            for rental_id in ids:
                answer = _send(guard, "DELETE", rental_id, "release from the ledger")
                status = answer.status if answer is not None else None
                gone = status is not None and (200 <= status < 300 or status == 404)
                why = answer.error if answer is not None and answer.error else f"answered {status}"
                if gone and status != 404 and has_lifecycle(guard.contract):  # a 2xx is not proof: read it again
                    after = _send(guard, "GET", rental_id, "read after release from the ledger")
                    if after is not None and after.status is not None and 200 <= after.status < 300:
                        gone, why = False, f"the release was answered {status}, but reading it answered {after.status}"
                if gone:
                    book.released(rental_id)
                    say(f"released {rental_id} ({status})")
                else:
                    left += 1
                    say(f"NOT released {rental_id}: {why}")
    if held.unknown:
        say(
            f"{held.unknown} rental request(s) went out with no answer recorded: they may have rented a number; "
            "check the organization's phone numbers in Close"
        )
    say(f"still held: {left}")
    return 0 if left == 0 else 1
