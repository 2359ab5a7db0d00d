"""A small typed consumer of the generated client, checked with `mypy --strict` and run by the tests.

Usage: python examples/typed_consumer.py BASE_URL API_KEY
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from close_phone_numbers_client import AuthenticatedClient, RequestRefused, RetryPolicy
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import (
    PhoneNumber,
    PhoneNumberRequest,
    RateLimited,
    Refusal,
    RefusalStatus,
)

if TYPE_CHECKING:
    from close_phone_numbers_client.types import Response


def rent_voice_or_sms(client: AuthenticatedClient, country: str, prefix: str) -> PhoneNumber:
    """Rent a number, accepting one without SMS when that is all there is."""
    request = PhoneNumberRequest(country=country, prefix=prefix)
    try:
        rented = request_internal_phone_number.sync(client=client, body=request)
    except RequestRefused as refused:
        if refused.status is not RefusalStatus.HAS_VOICE_ONLY:
            raise
        request.with_sms = False
        rented = request_internal_phone_number.sync(client=client, body=request)
    assert isinstance(rented, PhoneNumber)
    return rented


def main(base_url: str, api_key: str) -> int:
    """Rent one SMS number and one voice-only number and print them."""
    policy = RetryPolicy(max_retries=2, max_wait=5.0)
    with AuthenticatedClient.from_api_key(base_url, api_key, raise_errors=True, retry=policy) as client:
        numbers = [rent_voice_or_sms(client, "US", "415"), rent_voice_or_sms(client, "GB", "20")]
        detailed: Response[PhoneNumber | RateLimited | Refusal] = request_internal_phone_number.sync_detailed(
            client=client, body=PhoneNumberRequest(country="XX")
        )
    for number in numbers:
        print(number.number, "sms" if number.sms_enabled else "voice only")
    print("XX answered", int(detailed.status_code))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
