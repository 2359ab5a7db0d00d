"""Which reading of each of the contract's choices the mock emulates.

Where Close is silent the contract chooses, and lists under `x-choices` the other readings a
server might follow (the first is the contract's own). The mock answers by the contract's
reading unless a scenario picks another one (`choices: {delete-success-body: no-content}`),
so a test can see how its code copes with a server that reads Close differently.

The readings come from the contract; what each one does is written once, here, in one of two
tables: `ANSWERS` (what a reading answers: a refusal's code, a body, a header) and `SETTINGS`
(a value the pipeline stage concerned reads: how JSON is read, the largest body, how a rented
number is written). A new choice is one entry in one of them; a choice the mock does not
emulate yet still loads (its contract reading is what the mock does anyway), but picking
another of its readings is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import phonenumbers

from conformance import numbers
from conformance.mock.replies import WWW_AUTHENTICATE, Refused, Reply, rate_limited, refusal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from conformance.contract import Contract

    Answer = Callable[..., Reply]
    KeepOne = Callable[[list[tuple[str, Any]]], dict[str, Any]]  # of a key given twice, the value kept


# -- answers: keyword arguments are the context the stage gives -------------------------------


def _empty_object(_choices: Choices, **_context: Any) -> Reply:
    return Reply(200, {})


def _no_content(_choices: Choices, **_context: Any) -> Reply:
    return Reply(204, None, payload=b"")


def _error_message(_choices: Choices, *, message: str, **_context: Any) -> Reply:
    return Reply(404, {"error": message})


def _detail_message(_choices: Choices, **_context: Any) -> Reply:
    return Reply(404, {"detail": "Not found."})


def _forbidden(_choices: Choices, *, message: str, **_context: Any) -> Reply:
    return refusal(403, message).reply


def _hidden(choices: Choices, *, hidden: str, **_context: Any) -> Reply:
    return choices.answer("not-found-body", message=hidden)


def _unauthorized(choices: Choices, *, message: str, **_context: Any) -> Reply:
    return choices.answer("www-authenticate", message=message)


def _bad_request(_choices: Choices, *, message: str, **_context: Any) -> Reply:
    return refusal(400, message).reply


def _business(codes: Mapping[str, int]) -> Answer:
    """A business refusal (`status`: has-voice-only, needs-more-info, billing-error) with 400, or its code here."""

    def answer(_choices: Choices, *, status: str, message: str, **_context: Any) -> Reply:
        return refusal(codes.get(status, 400), message, status=status).reply

    return answer


def _assignee(code: int) -> Answer:
    """An `assign_to` user who cannot be assigned (`problem`), named under `field-errors.assign_to`."""

    def answer(_choices: Choices, *, problem: str, **_context: Any) -> Reply:
        return refusal(code, f"Invalid request: assign_to: {problem}", field_errors={"assign_to": problem}).reply

    return answer


def _challenge(_choices: Choices, *, message: str, **_context: Any) -> Reply:
    return refusal(401, message, headers=(("www-authenticate", WWW_AUTHENTICATE),)).reply


def _no_challenge(_choices: Choices, *, message: str, **_context: Any) -> Reply:
    return refusal(401, message).reply


def _rate_limited(*, retry_after: bool) -> Answer:
    def answer(_choices: Choices, *, limit: int, window: float, reset: float, **_context: Any) -> Reply:
        return rate_limited(limit, window, reset, retry_after=retry_after)

    return answer


# choice id -> reading id -> the answer under that reading. Each choice lists the contract's reading
# first: the mock falls back to it for a contract without the choice (tests/mock/test_choices.py
# keeps the readings in step with today's contract).
ANSWERS: dict[str, dict[str, Answer]] = {
    # The answer to a release.
    "delete-success-body": {"empty-object": _empty_object, "no-content": _no_content},
    # 404 of GET/DELETE /phone_number/{id}/ (`message`: what was not found).
    "not-found-body": {"error-message": _error_message, "detail-message": _detail_message},
    # Deleting a number one may not delete (`message`: why; `hidden`: the not-found message).
    "forbidden-delete-code": {
        "forbidden": _forbidden,
        "not-found": _hidden,
        "unauthorized": _unauthorized,
        "bad-request": _bad_request,
    },
    # A business refusal of a rental (`status`, `message`); no matching number is 404 in every reading.
    "refusal-codes": {
        "contract": _business({}),
        "payment-required": _business({"billing-error": 402}),
        "unprocessable": _business({"has-voice-only": 422, "needs-more-info": 422}),
    },
    # A group number, or assigning to others, without the permission (`message`).
    "permission-code": {"forbidden": _forbidden, "bad-request": _bad_request},
    # An assign_to user who is not an active member allowed to call (`problem`).
    "assignee-code": {"bad-request": _assignee(400), "unprocessable": _assignee(422)},
    # Every 401 (`message`).
    "www-authenticate": {"present": _challenge, "absent": _no_challenge},
    # Every 429 (`limit`, `window`, `reset`).
    "retry-after": {"present": _rate_limited(retry_after=True), "absent": _rate_limited(retry_after=False)},
}


# -- settings: a value the stage concerned reads ----------------------------------------------

OMITTED = "omitted"  # a value the contract's rule refuses is read as if the field were omitted


def _keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)


def _keep_first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(reversed(pairs))


def _national(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


# choice id -> reading id -> the value; the contract's reading first, as in ANSWERS.
SETTINGS: dict[str, dict[str, Any]] = {
    # The JSON stage: of a key given twice, which value is kept (None: the body is refused).
    "duplicate-keys": {"refused": None, "last-wins": _keep_last, "first-wins": _keep_first},
    # The body stage: the largest body served, in bytes (larger: 413).
    "body-limit": {"64-kib": 64 * 1024, "16-kib": 16 * 1024},
    # The content-type stage: whether a body sent without a Content-Type is read as JSON.
    "content-type-missing": {"refused": False, "read-as-json": True},
    # The validation stage: the rule of the request schema marked with the choice is relaxed, and a
    # value it refuses reads as omitted (None: the rule holds). Which rule, the contract's
    # `x-choice` says (`assign_to`'s minItems, its type null).
    "assign-to-empty": {"refused": None, "requester": OMITTED},
    "assign-to-null": {"refused": None, "requester": OMITTED},
    # The rented number: whose id a personal number's user_id is, of (requester, assignees).
    "user-id-first-assignee": {
        "first-assignee": lambda _requester, assignees: assignees[0],
        "requester": lambda requester, _assignees: requester,
    },
    # The rented number: whether a personal number rented without assign_to lists the requester.
    "participants-requester": {"requester": True, "empty": False},
    # The rented number: how number_formatted is written.
    "number-formatted-international": {"international": numbers.international_format, "national": _national},
}


def emulated(choice_id: str) -> dict[str, Any]:
    """The readings of a choice the mock emulates (empty: only its contract reading, by doing nothing else)."""
    return ANSWERS.get(choice_id) or SETTINGS.get(choice_id) or {}


def catalogue(*contracts: Contract) -> dict[str, tuple[str, ...]]:
    """Choice id -> its readings (the contract's own first), from the `x-choices` of the contracts given."""
    found: dict[str, tuple[str, ...]] = {}
    for contract in contracts:
        for choice_id, raw in (contract.document.get("x-choices") or {}).items():
            readings = raw.get("readings") if isinstance(raw, dict) else None
            if isinstance(readings, dict) and readings:
                found[str(choice_id)] = tuple(str(reading) for reading in readings)
    return found


def pick(requested: Mapping[str, Any], known: Mapping[str, tuple[str, ...]]) -> tuple[dict[str, str], list[str]]:
    """Resolve a scenario's `choices`: every known choice with its reading (the contract's unless picked).

    Returns the readings and the problems (`at choices/<id>: ...`, naming what is allowed).
    """
    picked = {choice_id: readings[0] for choice_id, readings in known.items()}
    problems = [
        f"at choices/{choice_id}: the mock does not emulate the contract's reading {known[choice_id][0]!r}"
        for choice_id in [*ANSWERS, *SETTINGS]
        if choice_id in known and known[choice_id][0] not in emulated(choice_id)
    ]
    for choice_id, reading in requested.items():
        readings = known.get(choice_id)
        if readings is None:
            problems.append(f"at choices/{choice_id}: the contract has no such choice; it has {', '.join(known)}")
        elif reading not in readings:
            problems.append(f"at choices/{choice_id}: no reading {reading!r}; the readings are {', '.join(readings)}")
        elif reading != readings[0] and reading not in emulated(choice_id):
            can = [name for name in readings if name == readings[0] or name in emulated(choice_id)]
            problems.append(
                f"at choices/{choice_id}: the mock does not emulate {reading!r} yet; it emulates {', '.join(can)}"
            )
        else:
            picked[choice_id] = str(reading)
    return picked, problems


@dataclass(frozen=True)
class Choices:
    """The readings the mock answers by: choice id -> reading id, for every choice the contract lists."""

    picked: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)  # the contract's readings

    def reading(self, choice_id: str) -> str:
        """The reading of a choice the mock follows (for a choice the contract lacks: the first of its table)."""
        return self.picked.get(choice_id) or self.defaults.get(choice_id) or next(iter(emulated(choice_id)))

    def answer(self, choice_id: str, **context: Any) -> Reply:
        """The answer under the reading followed, for a choice of `ANSWERS`."""
        return ANSWERS[choice_id][self.reading(choice_id)](self, **context)

    def refused(self, choice_id: str, **context: Any) -> Refused:
        """`answer`, raised by a stage: the request is answered now and changes nothing."""
        return Refused(self.answer(choice_id, **context))

    def setting(self, choice_id: str) -> Any:
        """The value a stage reads under the reading followed, for a choice of `SETTINGS`."""
        return SETTINGS[choice_id][self.reading(choice_id)]

    def relaxes(self, choice_id: str) -> bool:
        """Whether the reading followed accepts what the rule marked with this choice refuses, as omitted."""
        readings = SETTINGS.get(choice_id, {})
        return readings.get(self.picked.get(choice_id) or self.defaults.get(choice_id) or "") == OMITTED

    def differing(self) -> dict[str, str]:
        """The choices whose reading is not the contract's (for the start-up line)."""
        return {key: value for key, value in self.picked.items() if self.defaults.get(key) != value}
