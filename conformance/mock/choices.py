"""Which reading of each of the contract's choices the mock emulates.

Where Close is silent the contract chooses, and lists under `x-choices` the other readings a
server might follow (the first is the contract's own). The mock answers by the contract's
reading unless a scenario picks another one (`choices: {delete-success-body: success-flag}`),
so a test can see how its code copes with a server that reads Close differently.

The readings come from the contract; what each one answers is written once, in `ANSWERS`.
A new choice is one entry there; a choice the mock does not emulate yet still loads (its
contract reading is what the mock does anyway), but picking another of its readings is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.mock.replies import WWW_AUTHENTICATE, Reply, refusal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from conformance.contract import Contract

    Answer = Callable[..., Reply]


def _empty_object(_choices: Choices, **_context: str) -> Reply:
    return Reply(200, {})


def _success_flag(_choices: Choices, **_context: str) -> Reply:
    return Reply(200, {"success": True})


def _no_content(_choices: Choices, **_context: str) -> Reply:
    return Reply(204, None, payload=b"")


def _error_message(_choices: Choices, *, message: str, **_context: str) -> Reply:
    return Reply(404, {"error": message})


def _refusal_shape(_choices: Choices, *, message: str, **_context: str) -> Reply:
    return refusal(404, message).reply


def _forbidden(_choices: Choices, *, message: str, **_context: str) -> Reply:
    return refusal(403, message).reply


def _hidden(choices: Choices, *, hidden: str, **_context: str) -> Reply:
    return choices.answer("not-found-body", message=hidden)


def _unauthorized(_choices: Choices, *, message: str, **_context: str) -> Reply:
    return refusal(401, message, headers=(("www-authenticate", WWW_AUTHENTICATE),)).reply


def _bad_request(_choices: Choices, *, message: str, **_context: str) -> Reply:
    return refusal(400, message).reply


# choice id -> reading id -> the answer under that reading (keyword arguments: the answer's context).
# Each choice lists the contract's reading first: the mock falls back to it for a contract without
# the choice (tests/mock/test_choices.py keeps the order in step with today's contract).
ANSWERS: dict[str, dict[str, Answer]] = {
    # The answer to a release.
    "delete-success-body": {"empty-object": _empty_object, "success-flag": _success_flag, "no-content": _no_content},
    # 404 of GET/DELETE /phone_number/{id}/ (`message`: what was not found).
    "not-found-body": {"error-message": _error_message, "refusal-shape": _refusal_shape},
    # Deleting a number one may not delete (`message`: why; `hidden`: the not-found message).
    "forbidden-delete-code": {
        "forbidden": _forbidden,
        "not-found": _hidden,
        "unauthorized": _unauthorized,
        "bad-request": _bad_request,
    },
}


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
    problems: list[str] = []
    picked = {choice_id: readings[0] for choice_id, readings in known.items()}
    for choice_id, answers in ANSWERS.items():
        if choice_id in known and known[choice_id][0] not in answers:
            problems.append(
                f"at choices/{choice_id}: the mock does not emulate the contract's reading {known[choice_id][0]!r}"
            )
    for choice_id, reading in requested.items():
        readings = known.get(choice_id)
        if readings is None:
            problems.append(f"at choices/{choice_id}: the contract has no such choice; it has {', '.join(known)}")
        elif reading not in readings:
            problems.append(f"at choices/{choice_id}: no reading {reading!r}; the readings are {', '.join(readings)}")
        elif reading != readings[0] and reading not in ANSWERS.get(choice_id, {}):
            emulated = [name for name in readings if name == readings[0] or name in ANSWERS.get(choice_id, {})]
            problems.append(
                f"at choices/{choice_id}: the mock does not emulate {reading!r} yet; it emulates {', '.join(emulated)}"
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
        """The reading of a choice the mock follows (for a choice the contract lacks: the first of `ANSWERS`)."""
        return self.picked.get(choice_id) or self.defaults.get(choice_id) or next(iter(ANSWERS[choice_id]))

    def answer(self, choice_id: str, **context: str) -> Reply:
        """The answer under the reading followed, for a choice the mock emulates (see `ANSWERS`)."""
        return ANSWERS[choice_id][self.reading(choice_id)](self, **context)

    def differing(self) -> dict[str, str]:
        """The choices whose reading is not the contract's (for the start-up line)."""
        return {key: value for key, value in self.picked.items() if self.defaults.get(key) != value}
