from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.phone_number import PhoneNumber
from ...models.phone_number_request import PhoneNumberRequest
from ...models.rate_limited import RateLimited
from ...models.refusal import Refusal
from ...types import Response


def _get_kwargs(
    *,
    body: PhoneNumberRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/phone_number/request/internal/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PhoneNumber | RateLimited | Refusal | None:
    if response.status_code == 201:
        response_201 = PhoneNumber.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Refusal.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Refusal.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Refusal.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Refusal.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Refusal.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Refusal.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = RateLimited.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PhoneNumber | RateLimited | Refusal]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> Response[PhoneNumber | RateLimited | Refusal]:
    """Rent a new internal phone number (costs money)

     Rents one phone number in the requested country and, if given, with the requested
    prefix and carrier type. **This costs money**: the number's monthly price is billed
    to the organization when the call succeeds.

    If a number was rented the answer is `201` with the new Phone Number object.
    If no number was rented the answer is a `4xx` whose body carries a `status` field:

    * `has-voice-only`: this country/prefix combination only has numbers that cannot
      send or receive SMS. Retry with `with_sms` set to `false` to rent one of them.
    * `needs-more-info`: more information (such as a proof of address, through a
      regulatory bundle) is needed to rent this number; only Close support can rent it.
    * `billing-error`: an error related to billing, for example the telephony budget
      has been reached, or funds ran out and recharging failed.
    * `error`: any other refusal; the human-readable reason is in the `error` field.

    Close may add new `status` values at any time: clients must treat an unknown value
    as a refusal, not as a crash.

    Renting a *group* number (`sharing: group`) needs the "Manage Group Phone Numbers"
    permission; without it the answer is `403`.

    Args:
        body (PhoneNumberRequest): What kind of number to rent. Unknown properties are refused.
            `with_mms: true` needs
            `with_sms: true` as well (an MMS-capable number is always SMS-capable).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PhoneNumber | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> PhoneNumber | RateLimited | Refusal | None:
    """Rent a new internal phone number (costs money)

     Rents one phone number in the requested country and, if given, with the requested
    prefix and carrier type. **This costs money**: the number's monthly price is billed
    to the organization when the call succeeds.

    If a number was rented the answer is `201` with the new Phone Number object.
    If no number was rented the answer is a `4xx` whose body carries a `status` field:

    * `has-voice-only`: this country/prefix combination only has numbers that cannot
      send or receive SMS. Retry with `with_sms` set to `false` to rent one of them.
    * `needs-more-info`: more information (such as a proof of address, through a
      regulatory bundle) is needed to rent this number; only Close support can rent it.
    * `billing-error`: an error related to billing, for example the telephony budget
      has been reached, or funds ran out and recharging failed.
    * `error`: any other refusal; the human-readable reason is in the `error` field.

    Close may add new `status` values at any time: clients must treat an unknown value
    as a refusal, not as a crash.

    Renting a *group* number (`sharing: group`) needs the "Manage Group Phone Numbers"
    permission; without it the answer is `403`.

    Args:
        body (PhoneNumberRequest): What kind of number to rent. Unknown properties are refused.
            `with_mms: true` needs
            `with_sms: true` as well (an MMS-capable number is always SMS-capable).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PhoneNumber | RateLimited | Refusal
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> Response[PhoneNumber | RateLimited | Refusal]:
    """Rent a new internal phone number (costs money)

     Rents one phone number in the requested country and, if given, with the requested
    prefix and carrier type. **This costs money**: the number's monthly price is billed
    to the organization when the call succeeds.

    If a number was rented the answer is `201` with the new Phone Number object.
    If no number was rented the answer is a `4xx` whose body carries a `status` field:

    * `has-voice-only`: this country/prefix combination only has numbers that cannot
      send or receive SMS. Retry with `with_sms` set to `false` to rent one of them.
    * `needs-more-info`: more information (such as a proof of address, through a
      regulatory bundle) is needed to rent this number; only Close support can rent it.
    * `billing-error`: an error related to billing, for example the telephony budget
      has been reached, or funds ran out and recharging failed.
    * `error`: any other refusal; the human-readable reason is in the `error` field.

    Close may add new `status` values at any time: clients must treat an unknown value
    as a refusal, not as a crash.

    Renting a *group* number (`sharing: group`) needs the "Manage Group Phone Numbers"
    permission; without it the answer is `403`.

    Args:
        body (PhoneNumberRequest): What kind of number to rent. Unknown properties are refused.
            `with_mms: true` needs
            `with_sms: true` as well (an MMS-capable number is always SMS-capable).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PhoneNumber | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> PhoneNumber | RateLimited | Refusal | None:
    """Rent a new internal phone number (costs money)

     Rents one phone number in the requested country and, if given, with the requested
    prefix and carrier type. **This costs money**: the number's monthly price is billed
    to the organization when the call succeeds.

    If a number was rented the answer is `201` with the new Phone Number object.
    If no number was rented the answer is a `4xx` whose body carries a `status` field:

    * `has-voice-only`: this country/prefix combination only has numbers that cannot
      send or receive SMS. Retry with `with_sms` set to `false` to rent one of them.
    * `needs-more-info`: more information (such as a proof of address, through a
      regulatory bundle) is needed to rent this number; only Close support can rent it.
    * `billing-error`: an error related to billing, for example the telephony budget
      has been reached, or funds ran out and recharging failed.
    * `error`: any other refusal; the human-readable reason is in the `error` field.

    Close may add new `status` values at any time: clients must treat an unknown value
    as a refusal, not as a crash.

    Renting a *group* number (`sharing: group`) needs the "Manage Group Phone Numbers"
    permission; without it the answer is `403`.

    Args:
        body (PhoneNumberRequest): What kind of number to rent. Unknown properties are refused.
            `with_mms: true` needs
            `with_sms: true` as well (an MMS-capable number is always SMS-capable).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PhoneNumber | RateLimited | Refusal
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
