import asyncio as _asyncio
import time
from http import HTTPStatus
from typing import Any

import httpx

from ... import client as client_module
from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.phone_number import PhoneNumber
from ...models.phone_number_request import PhoneNumberRequest
from ...models.rate_limited import RateLimited
from ...models.refusal import Refusal
from ...models.refusal_status import RefusalStatus
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


def _status(code: int) -> HTTPStatus | int:
    try:
        return HTTPStatus(code)
    except ValueError:
        return code  # a non-standard code (499, 520, ...) is kept as it is


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response, attempts: int = 1
) -> Response[PhoneNumber | RateLimited | Refusal]:
    parsed: Any = None
    problem: str | None = None
    try:
        parsed = _parse_response(client=client, response=response)
        if parsed is None:
            problem = f"status {response.status_code} is not documented"
    except errors.UnexpectedStatus:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # Not JSON, or JSON of another shape than the contract's: keep the raw answer.
        problem = f"the {response.status_code} body does not match the contract ({type(error).__name__}: {error})"
    return Response(
        status_code=_status(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=parsed,
        parse_error=problem,
        attempts=attempts,
    )


def _transport_failure(error: httpx.RequestError, attempts: int = 1) -> errors.TransportFailed:
    # Nothing went out: no connection, or a request that could not even be written (a base URL
    # without http:// or https://, an invalid header). Only then is it certain the server did nothing.
    # Any other failure (a timeout, a dropped connection, a body that cannot be decoded) came after sending.
    unsent = isinstance(
        error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.LocalProtocolError)
    )
    detail = "nothing was sent" if unsent else "no complete answer; the server may have acted on the request"
    tries = f", after {attempts} attempts" if attempts > 1 else ""
    return errors.TransportFailed(
        f"{detail} ({type(error).__name__}: {error}{tries})", may_have_reached_server=not unsent
    )


def _success(response: Response[Any]) -> PhoneNumber:
    _raise_for(response)
    if isinstance(response.parsed, PhoneNumber):
        return response.parsed
    raise errors.UnexpectedResponse(int(response.status_code), response.content, "a success without a PhoneNumber")


def _raise_for(response: Response[Any]) -> None:
    """Raise the documented exception for an answer that is not a success (`raise_errors` mode)."""
    code, parsed = int(response.status_code), response.parsed
    if 200 <= code < 300 and parsed is not None:
        return
    if parsed is None:
        raise errors.UnexpectedResponse(code, response.content, response.parse_error or "")
    if code == 429:
        details = getattr(parsed, "error", None)
        message = getattr(details, "message", None)
        wait = client_module.requested_wait(httpx.Response(code, headers=response.headers, content=response.content))
        raise errors.RateLimitExceeded(code, message, wait)
    status: RefusalStatus | str | None = getattr(parsed, "status", None)
    if status is None:
        # A body of Close's general error shape (`NotFound`) may still carry a refusal `status`.
        extra = getattr(parsed, "additional_properties", None)
        found = extra.get("status") if isinstance(extra, dict) else None
        if isinstance(found, str):
            status = RefusalStatus(found) if found in RefusalStatus._value2member_map_ else found
    message = getattr(parsed, "error", None)
    fields = getattr(getattr(parsed, "field_errors", None), "additional_properties", None)
    listed = getattr(parsed, "errors", None)
    refused = errors.AuthenticationFailed if code == 401 else errors.RequestRefused
    raise refused(
        code,
        status,
        message if isinstance(message, str) else None,
        field_errors=dict(fields) if isinstance(fields, dict) else None,
        errors=list(listed) if isinstance(listed, list) else None,
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

    **Who gets the number.** `assign_to` lists the users the new number is assigned to;
    omitted, it is the requesting user, as before. Assigning to anyone other than the
    requester, and renting a *group* number (`sharing: group`), need the "Manage Team
    Phone Numbers" permission (formerly "Manage Group Phone Numbers"); without it the
    answer is `403`. Every listed user must be an active member of the organization who is
    allowed to make calls; otherwise the answer is `400` with `status: error` and the
    reason under `field-errors.assign_to` (Close does not document the code; this contract
    chooses 400, a request that cannot be served as written). The permission is checked
    before the users.

    `sharing` is deprecated and optional: omitted, it means `personal`. A personal number's
    deprecated `user_id` is its first assignee; a group number has `user_id: null`.

    Retries: only a 429 is waited for and sent again (`RetryPolicy.max_retries`). A timeout, a
    dropped connection or a 5xx is never retried: the server may have rented a number already.

    Args:
        body (PhoneNumberRequest): What kind of number to rent, and for whom. Unknown properties
            are refused.
            `with_mms: true` needs `with_sms: true` as well (an MMS-capable number is always
            SMS-capable).

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether a number may have been rented.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        Response[PhoneNumber | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        body=body,
    )
    attempts = 0
    limited = 0
    while True:
        attempts += 1
        try:
            response = client.get_httpx_client().request(**kwargs)
        except httpx.RequestError as error:
            raise _transport_failure(error, attempts) from error
        if response.status_code == 429:
            limited += 1
            wait = client.retry.wait_for(response) if limited <= client.retry.max_retries else None
        else:
            wait = None
        if wait is None:
            return _build_response(client=client, response=response, attempts=attempts)
        time.sleep(wait)


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

    **Who gets the number.** `assign_to` lists the users the new number is assigned to;
    omitted, it is the requesting user, as before. Assigning to anyone other than the
    requester, and renting a *group* number (`sharing: group`), need the "Manage Team
    Phone Numbers" permission (formerly "Manage Group Phone Numbers"); without it the
    answer is `403`. Every listed user must be an active member of the organization who is
    allowed to make calls; otherwise the answer is `400` with `status: error` and the
    reason under `field-errors.assign_to` (Close does not document the code; this contract
    chooses 400, a request that cannot be served as written). The permission is checked
    before the users.

    `sharing` is deprecated and optional: omitted, it means `personal`. A personal number's
    deprecated `user_id` is its first assignee; a group number has `user_id: null`.

    Retries: only a 429 is waited for and sent again (`RetryPolicy.max_retries`). A timeout, a
    dropped connection or a 5xx is never retried: the server may have rented a number already.

    Args:
        body (PhoneNumberRequest): What kind of number to rent, and for whom. Unknown properties
            are refused.
            `with_mms: true` needs `with_sms: true` as well (an MMS-capable number is always
            SMS-capable).

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether a number may have been rented.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        PhoneNumber | RateLimited | Refusal
    """

    response = sync_detailed(
        client=client,
        body=body,
    )
    if client.raise_errors:
        return _success(response)
    return response.parsed


def sync_or_raise(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> PhoneNumber:
    """The rented number, or an exception: typed for code that wants no other outcome.

    Raises, whatever the client's `raise_errors` says: `errors.RequestRefused` (nothing was
    rented; `AuthenticationFailed`, `RateLimitExceeded`), `errors.UnexpectedResponse`,
    `errors.TransportFailed`.
    """
    response = sync_detailed(
        client=client,
        body=body,
    )
    return _success(response)


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

    **Who gets the number.** `assign_to` lists the users the new number is assigned to;
    omitted, it is the requesting user, as before. Assigning to anyone other than the
    requester, and renting a *group* number (`sharing: group`), need the "Manage Team
    Phone Numbers" permission (formerly "Manage Group Phone Numbers"); without it the
    answer is `403`. Every listed user must be an active member of the organization who is
    allowed to make calls; otherwise the answer is `400` with `status: error` and the
    reason under `field-errors.assign_to` (Close does not document the code; this contract
    chooses 400, a request that cannot be served as written). The permission is checked
    before the users.

    `sharing` is deprecated and optional: omitted, it means `personal`. A personal number's
    deprecated `user_id` is its first assignee; a group number has `user_id: null`.

    Retries: only a 429 is waited for and sent again (`RetryPolicy.max_retries`). A timeout, a
    dropped connection or a 5xx is never retried: the server may have rented a number already.

    Args:
        body (PhoneNumberRequest): What kind of number to rent, and for whom. Unknown properties
            are refused.
            `with_mms: true` needs `with_sms: true` as well (an MMS-capable number is always
            SMS-capable).

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether a number may have been rented.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        Response[PhoneNumber | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        body=body,
    )
    attempts = 0
    limited = 0
    while True:
        attempts += 1
        try:
            response = await client.get_async_httpx_client().request(**kwargs)
        except httpx.RequestError as error:
            raise _transport_failure(error, attempts) from error
        if response.status_code == 429:
            limited += 1
            wait = client.retry.wait_for(response) if limited <= client.retry.max_retries else None
        else:
            wait = None
        if wait is None:
            return _build_response(client=client, response=response, attempts=attempts)
        await _asyncio.sleep(wait)


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

    **Who gets the number.** `assign_to` lists the users the new number is assigned to;
    omitted, it is the requesting user, as before. Assigning to anyone other than the
    requester, and renting a *group* number (`sharing: group`), need the "Manage Team
    Phone Numbers" permission (formerly "Manage Group Phone Numbers"); without it the
    answer is `403`. Every listed user must be an active member of the organization who is
    allowed to make calls; otherwise the answer is `400` with `status: error` and the
    reason under `field-errors.assign_to` (Close does not document the code; this contract
    chooses 400, a request that cannot be served as written). The permission is checked
    before the users.

    `sharing` is deprecated and optional: omitted, it means `personal`. A personal number's
    deprecated `user_id` is its first assignee; a group number has `user_id: null`.

    Retries: only a 429 is waited for and sent again (`RetryPolicy.max_retries`). A timeout, a
    dropped connection or a 5xx is never retried: the server may have rented a number already.

    Args:
        body (PhoneNumberRequest): What kind of number to rent, and for whom. Unknown properties
            are refused.
            `with_mms: true` needs `with_sms: true` as well (an MMS-capable number is always
            SMS-capable).

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether a number may have been rented.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        PhoneNumber | RateLimited | Refusal
    """

    response = await asyncio_detailed(
        client=client,
        body=body,
    )
    if client.raise_errors:
        return _success(response)
    return response.parsed


async def asyncio_or_raise(
    *,
    client: AuthenticatedClient | Client,
    body: PhoneNumberRequest,
) -> PhoneNumber:
    """The rented number, or an exception (see `sync_or_raise`)."""
    response = await asyncio_detailed(
        client=client,
        body=body,
    )
    return _success(response)
