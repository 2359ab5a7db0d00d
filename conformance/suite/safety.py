"""Safe mode's rule: which requests cannot rent a number on any server, however lenient.

A request may go out in safe mode only when no reasonable reading of its body names
something rentable. A strict server refuses an invalid body before renting; a lenient one
may drop an unknown field, upper-case a country, cut an over-long prefix, default a missing
`sharing`, ignore the content type or the credentials, or read JSON followed by garbage.
So the body is read as the most lenient server would (`jsonbody.read_lenient`, or as a form
when it is no JSON), and it is safe only when, read that way, it is no object, or names a
country no server could rent in: the country where nobody can rent a number
(`UNRENTABLE_COUNTRY`) or a value with no country's letters in it (`12345`). An object with
no country at all (missing, null, empty) is not safe: a server may default it, as Close
defaults `sharing`. Safe mode aims every request whose only fault a server might tolerate at
the unrentable country: a lenient server then answers with a business refusal instead of
renting, and the suite reports the leniency.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from conformance import jsonbody

if TYPE_CHECKING:
    from conformance.suite.guard import Ledger

# Antarctica has no numbering plan of its own: no carrier, Close included, rents numbers there.
UNRENTABLE_COUNTRY = "AQ"
_LETTERS = re.compile(r"[^A-Za-z]")
# Close's ids are a prefix, `_` and letters and digits: an id with any other character is no number's.
_AN_ID = re.compile(r"^[A-Za-z0-9_]*$")
UNRENTABLE_ID = "phon_conformance-no-such-number"


def lenient_country(body: Any) -> str | None:
    """The country a lenient server could read from a parsed body (letters only, upper case).

    A list counts by its first item, as a careless server may take it.
    """
    if not isinstance(body, dict):
        return None
    country = body.get("country")
    if isinstance(country, list) and country:
        country = country[0]
    if not isinstance(country, str):
        return None
    letters = _LETTERS.sub("", country).upper()
    return letters or None


def _lenient_body(raw: bytes) -> Any:
    """The body as a careless server could read it: the first JSON value, else form fields."""
    value = jsonbody.read_lenient(raw)
    if value is not None:
        return value
    try:
        fields = urllib.parse.parse_qs(raw.decode("utf-8", "replace").lstrip("\ufeff"), strict_parsing=True)
    except ValueError:
        return None
    return {name: values[0] for name, values in fields.items()}


def could_rent(raw: bytes) -> bool:
    """Whether some server could rent a number on this body (see the module docstring).

    A country whose letters start with the unrentable one (`AQ`, `aq`, `AQA`) counts as
    unrentable: cutting, padding or upper-casing it never names a country with numbers.
    """
    body = _lenient_body(raw) if raw else None
    if not isinstance(body, dict):
        return False
    readings = body.get(jsonbody.DUPLICATES, {}).get("country") or [body.get("country")]  # a key given twice
    for country in readings:
        if country in (None, "", []):
            return True  # a server may default the country it was not given
        letters = lenient_country({"country": country})
        if letters is not None and letters[:2] != UNRENTABLE_COUNTRY:
            return True
    return False


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


def no_number_has(phone_number_id: str) -> bool:
    """Whether no phone number can have this id (it holds a character no Close id has)."""
    return not _AN_ID.match(phone_number_id)


def may_touch(mode: str, method: str, phone_number_id: str, ledger: Ledger) -> str | None:
    """Why a request for one phone number must not go out (None: it may).

    A run reads, updates or releases only numbers it rented itself, or ids no number can have:
    never a number the organization already had, in either mode.
    """
    if phone_number_id in ledger.rented_ids or no_number_has(phone_number_id):
        return None
    return (
        f"{mode} mode: this run did not rent {phone_number_id[:40]}; a {method} of it could touch a number "
        "your organization already has"
    )
