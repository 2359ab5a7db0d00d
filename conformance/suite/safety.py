"""Safe mode's rule: which requests cannot rent a number on any server, however lenient.

A request may go out in safe mode only when no reasonable reading of its body names
something rentable. A strict server refuses an invalid body before renting; a lenient one
may drop an unknown field, upper-case a country, cut an over-long prefix, default a missing
`sharing`, ignore the content type or the credentials, or read JSON followed by garbage.
So the body is read as the most lenient server would (`jsonbody.read_lenient`), and it is
safe only when, read that way, it is no object, names no country, or names the country
where nobody can rent a number (`UNRENTABLE_COUNTRY`). Safe mode aims every request whose
only fault a server might tolerate at that country: a lenient server then answers with a
business refusal instead of renting, and the suite reports the leniency.
"""

from __future__ import annotations

import re
from typing import Any

from conformance import jsonbody

# Antarctica has no numbering plan of its own: no carrier, Close included, rents numbers there.
UNRENTABLE_COUNTRY = "AQ"
_LETTERS = re.compile(r"[^A-Za-z]")


def lenient_country(body: Any) -> str | None:
    """The country a lenient server could read from a parsed body (letters only, upper case)."""
    if not isinstance(body, dict):
        return None
    country = body.get("country")
    if not isinstance(country, str):
        return None
    letters = _LETTERS.sub("", country).upper()
    return letters or None


def could_rent(raw: bytes) -> bool:
    """Whether some server could rent a number on this body (see the module docstring).

    A country whose letters start with the unrentable one (`AQ`, `aq`, `AQA`) counts as
    unrentable: cutting, padding or upper-casing it never names a country with numbers.
    """
    country = lenient_country(jsonbody.read_lenient(raw)) if raw else None
    return country is not None and country[:2] != UNRENTABLE_COUNTRY


def aim_at_unrentable(body: Any) -> Any:
    """The same body aimed at the unrentable country, keeping the country's form (case, length).

    Only a country that could name a real one is replaced, so an invalid form stays invalid
    in the same way (`us` becomes `aq`, `USA` becomes `AQA`) and a valid one stays valid.
    """
    if not isinstance(body, dict) or not isinstance(body.get("country"), str):
        return body
    country: str = body["country"]
    letters = lenient_country(body)
    if letters is None or letters[:2] == UNRENTABLE_COUNTRY:
        return body
    sink = iter(UNRENTABLE_COUNTRY * len(country))
    replaced = "".join(
        (next(sink).lower() if char.islower() else next(sink)) if char.isalpha() else char for char in country
    )
    return {**body, "country": replaced}
