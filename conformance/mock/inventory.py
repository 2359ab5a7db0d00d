"""Which numbers an inventory block holds, in the order the mock rents them.

A block is "numbers of kind K whose national number starts with P". Its numbers are
enumerated by a bijection k -> suffix (multiplying by a constant coprime with 10), so they
look scattered like real numbers, and each candidate is kept only if `phonenumbers` says it
is a valid number of the block's country and kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import phonenumbers

from conformance import numbers

if TYPE_CHECKING:
    from conformance.mock.scenario import Block

# Odd and not a multiple of 5, so k -> k * MULTIPLIER mod 10**m visits every suffix once.
MULTIPLIER = 7_654_321
OFFSET = 2_345_678
# How many invalid candidates in a row mean "this prefix has no (more) valid numbers".
MAX_PROBES = 300


class Candidate(NamedTuple):
    """A number the block can rent, and the position after it in the enumeration."""

    e164: str
    next_position: int
    parsed: phonenumbers.PhoneNumber


def effective_prefix(block: Block, requested: str) -> str | None:
    """Return the prefix numbers must start with to satisfy both block and request, if any."""
    if block.prefix.startswith(requested):
        return block.prefix
    if requested.startswith(block.prefix) and requested.isdigit() and len(requested) < block.length:
        return requested
    return None


def capacity(block: Block, prefix: str) -> int:
    """Return how many suffixes the enumeration for this prefix has."""
    return int(10 ** max(block.length - len(prefix), 0))


def next_number(block: Block, prefix: str, position: int) -> Candidate | None:
    """Return the first valid number at or after `position`, or None if there is none nearby."""
    width = block.length - len(prefix)
    size = capacity(block, prefix)
    calling_code = phonenumbers.country_code_for_region(block.country)
    kinds = numbers.KINDS_BY_CARRIER_TYPE[block.carrier_type]
    for k in range(position, min(position + MAX_PROBES, size)):
        suffix = (k * MULTIPLIER + OFFSET) % size
        national = prefix + str(suffix).zfill(width) if width > 0 else prefix
        if national.startswith("0"):
            # A leading zero is a trunk prefix, never part of a national significant number.
            continue
        if numbers.kind_in_country(national, block.country) in kinds:
            parsed = phonenumbers.PhoneNumber(country_code=calling_code, national_number=int(national))
            return Candidate(f"+{calling_code}{national}", k + 1, parsed)
    return None


def first_number(block: Block, prefix: str) -> str | None:
    """Return the first number the block would rent under this prefix, if any."""
    found = next_number(block, prefix, 0)
    return found.e164 if found else None
