"""The inventory enumerates real numbers of each block's kind, each once."""

from __future__ import annotations

import phonenumbers
import pytest

from conformance import numbers
from conformance.mock import inventory, scenario

BLOCKS = scenario.load().blocks()


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_the_one_pass_kind_check_agrees_with_phonenumbers_public_api(block: scenario.Block) -> None:
    seen = 0
    size = inventory.capacity(block, block.prefix)
    for k in range(min(inventory.MAX_PROBES, size)):
        suffix = (k * inventory.MULTIPLIER + inventory.OFFSET) % size
        national = block.prefix + str(suffix).zfill(block.length - len(block.prefix))
        if national.startswith("0"):
            continue
        parsed = phonenumbers.parse(f"+{phonenumbers.country_code_for_region(block.country)}{national}", None)
        public_valid = phonenumbers.is_valid_number_for_region(parsed, block.country)
        kind = numbers.kind_in_country(national, block.country)
        assert (kind != phonenumbers.PhoneNumberType.UNKNOWN) == public_valid, national
        if public_valid:
            assert kind == phonenumbers.number_type(parsed) or block.country in ("US", "CA", "PR"), national
            seen += 1
    assert seen > 0, f"no valid number among the first {inventory.MAX_PROBES} candidates"


@pytest.mark.parametrize("block", BLOCKS[:12], ids=[block.id for block in BLOCKS[:12]])
def test_a_blocks_numbers_are_valid_distinct_and_of_its_kind(block: scenario.Block) -> None:
    rented: list[str] = []
    position = 0
    while len(rented) < 40 and (found := inventory.next_number(block, block.prefix, position)) is not None:
        rented.append(found.e164)
        position = found.next_position
    assert len(rented) == 40
    assert len(set(rented)) == 40
    for e164 in rented:
        parsed = phonenumbers.parse(e164, None)
        assert numbers.is_valid_for_country(parsed, block.country), e164
        assert numbers.kind_matches(parsed, block.carrier_type), e164
        assert str(parsed.national_number).startswith(block.prefix)


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_the_layout_cache_formats_as_phonenumbers_does(block: scenario.Block) -> None:
    # `international_format` reuses the layout of numbers sharing all but their last four digits:
    # each rentable number is formatted first (a miss), then siblings that differ only there (hits).
    numbers._LAYOUTS.clear()
    position, compared = 0, 0
    while compared < 100 and (found := inventory.next_number(block, block.prefix, position)) is not None:
        national = str(found.parsed.national_number)
        for last in ("", "0000", "5555", "9999"):
            number = phonenumbers.PhoneNumber(
                country_code=found.parsed.country_code, national_number=int(national[: -len(last) or None] + last)
            )
            expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            assert numbers.international_format(number) == expected, (found.e164, last)
        position, compared = found.next_position, compared + 1
    assert compared == 100
