"""What a carrier type means for a phone number, by the `phonenumbers` library.

Shared by the mock (which rents numbers of the requested kind) and the suite (which checks
that a rented number is of the requested kind), so the two cannot disagree.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import PhoneNumberType, phonenumberutil

# Which phonenumbers kinds count as each Close carrier type. NANP numbers (US, CA, ...) do
# not say whether they are mobile, so FIXED_LINE_OR_MOBILE counts as local and as mobile.
KINDS_BY_CARRIER_TYPE: dict[str, frozenset[int]] = {
    "local": frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    "mobile": frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    "tollfree": frozenset({PhoneNumberType.TOLL_FREE}),
    "national": frozenset(
        {
            PhoneNumberType.UAN,
            PhoneNumberType.VOIP,
            PhoneNumberType.PERSONAL_NUMBER,
            PhoneNumberType.SHARED_COST,
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
        }
    ),
}

# The phonenumbers kind whose example number gives each carrier type's national length.
EXAMPLE_KIND = {
    "local": PhoneNumberType.FIXED_LINE,
    "mobile": PhoneNumberType.MOBILE,
    "tollfree": PhoneNumberType.TOLL_FREE,
    "national": PhoneNumberType.UAN,
}


def kind_in_country(national_number: str, country: str) -> int:
    """The phonenumbers kind of a national number in one country (UNKNOWN when invalid there).

    One pass over the country's metadata, where `is_valid_number_for_region` plus
    `number_type` make two and, for shared calling codes such as +1, first search which
    country the number belongs to. Uses phonenumbers' internal `_number_type_helper` (the
    version is pinned; tests/mock/test_inventory.py checks it agrees with the public API).
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None:
        return PhoneNumberType.UNKNOWN
    return int(phonenumberutil._number_type_helper(national_number, metadata))  # noqa: SLF001


def kind_matches(number: phonenumbers.PhoneNumber, carrier_type: str) -> bool:
    """Tell whether a parsed number is of the kind a Close carrier type names."""
    kinds = KINDS_BY_CARRIER_TYPE.get(carrier_type)
    return kinds is not None and phonenumbers.number_type(number) in kinds


def national_length(country: str, carrier_type: str) -> int | None:
    """Return the usual national length of numbers of this kind in this country, if known."""
    example = phonenumbers.example_number_for_type(country, EXAMPLE_KIND[carrier_type])
    if example is None:
        return None
    return len(phonenumbers.national_significant_number(example))


@functools.lru_cache(maxsize=64)
def parse_e164(number: str) -> phonenumbers.PhoneNumber | None:
    """Parse an E.164 string, or return None when it is not a phone number at all (cached: read-only)."""
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def is_valid_for_country(number: phonenumbers.PhoneNumber, country: str) -> bool:
    """Tell whether the number is a valid number of that country."""
    return phonenumbers.is_valid_number_for_region(number, country)


def international_format(number: phonenumbers.PhoneNumber) -> str:
    """Format for people, e.g. `+1 650-200-1234`.

    phonenumbers picks a format by the number's leading digits and length, then places the
    digits in order around fixed separators. So numbers that differ only in their last four
    digits share a layout: it is taken from the first such number and filled in for the next
    ones, which the mock's rental path needs (formatting was a quarter of its time). Where the
    formatted digits are not the number's own, in order, phonenumbers formats every time.
    """
    national, code = str(number.national_number), number.country_code or 0
    key = (code, national[:-4], len(national))
    layout = _LAYOUTS.get(key, "")
    if not layout:
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if len(_LAYOUTS) >= MAX_LAYOUTS:
            _LAYOUTS.clear()
        _LAYOUTS[key] = _layout_of(formatted, code, national)
        return formatted
    if layout == NO_LAYOUT:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = iter(national)
    return "".join(next(digits) if char == "#" else char for char in layout)


MAX_LAYOUTS = 4096
NO_LAYOUT = "-"
_LAYOUTS: dict[tuple[int, str, int], str] = {}  # (calling code, leading digits, length) -> layout


def _layout_of(formatted: str, country_code: int, national: str) -> str:
    """`formatted` with `#` for each national digit, or NO_LAYOUT when its digits are not the number's, in order."""
    head = f"+{country_code} "
    rest = formatted[len(head) :]
    if len(national) <= 4 or not formatted.startswith(head) or "".join(c for c in rest if c.isdigit()) != national:
        return NO_LAYOUT
    return head + "".join("#" if c.isdigit() else c for c in rest)
