import asyncio as _asyncio
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import client as client_module
from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.deleted_phone_number import DeletedPhoneNumber
from ...models.not_found import NotFound
from ...models.rate_limited import RateLimited
from ...models.refusal import Refusal
from ...models.refusal_status import RefusalStatus
from ...types import Response


def _get_kwargs(
    phone_number_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/phone_number/{phone_number_id}/".format(
            phone_number_id=quote(str(phone_number_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeletedPhoneNumber | NotFound | RateLimited | Refusal | None:
    if response.status_code == 200:
        response_200 = DeletedPhoneNumber.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Refusal.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Refusal.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = NotFound.from_dict(response.json())

        return response_404

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
) -> Response[DeletedPhoneNumber | NotFound | RateLimited | Refusal]:
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


def _retryable(error: httpx.RequestError) -> bool:
    # A flaky network or server, worth another try of an idempotent call; not a request that
    # cannot be written (a bad base URL, an invalid header) nor an answer that cannot be decoded.
    return isinstance(error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def _success(response: Response[Any]) -> DeletedPhoneNumber:
    _raise_for(response)
    if isinstance(response.parsed, DeletedPhoneNumber):
        return response.parsed
    return DeletedPhoneNumber()  # a 2xx with another body (204 without one): the number was released


def _raise_for(response: Response[Any]) -> None:
    """Raise the documented exception for an answer that is not a success (`raise_errors` mode)."""
    code, parsed = int(response.status_code), response.parsed
    if 200 <= code < 300:
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
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[DeletedPhoneNumber | NotFound | RateLimited | Refusal]:
    """Release (delete) one phone number

     Releases the number: it leaves the organization (retrieving or deleting it again
    answers `404`) and is not billed again. The month already billed is not refunded
    (Close documents none). Sending the same DELETE twice releases the number once; the
    second answer is `404`, so a retry after a lost answer is safe but may see `404`.

    Deleting a group number needs the "Manage Team Phone Numbers" permission (formerly
    "Manage Group Phone Numbers"), and a user can only delete their own personal numbers;
    otherwise the answer is `403` (Close does not document the code; this contract chooses
    403, Close's code for "an operation was not allowed").

    On success the answer is `200` with a JSON object (Close documents only "a successful
    response"; this contract chooses `{}`, and allows more properties: third parties report
    `{"success": true}`).

    Retries: a 429 is waited for and sent again (`RetryPolicy.max_retries`); this call is idempotent
    (sending it twice leaves the server as sending it once), so a timeout, a dropped connection or a
    5xx is retried too (`RetryPolicy.idempotent_retries`, backing off from `idempotent_backoff`).
    A retried DELETE whose first attempt released the number answers 404: `attempts` > 1 says so.

    Args:
        phone_number_id (str): The phone number's id, `phon_` and letters or digits.

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether the number may have been released.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        Response[DeletedPhoneNumber | NotFound | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        phone_number_id=phone_number_id,
    )
    attempts = 0
    limited = 0
    failures = 0
    while True:
        attempts += 1
        try:
            response = client.get_httpx_client().request(**kwargs)
        except httpx.RequestError as error:
            failures += 1
            wait = client.retry.wait_after_failure(failures) if _retryable(error) else None
            if wait is None:
                raise _transport_failure(error, attempts) from error
            time.sleep(wait)
            continue
        if response.status_code == 429:
            limited += 1
            wait = client.retry.wait_for(response) if limited <= client.retry.max_retries else None
        elif 500 <= response.status_code <= 599:
            failures += 1
            wait = client.retry.wait_after_failure(failures, response)
        else:
            wait = None
        if wait is None:
            return _build_response(client=client, response=response, attempts=attempts)
        time.sleep(wait)


def sync(
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> DeletedPhoneNumber | NotFound | RateLimited | Refusal | None:
    """Release (delete) one phone number

     Releases the number: it leaves the organization (retrieving or deleting it again
    answers `404`) and is not billed again. The month already billed is not refunded
    (Close documents none). Sending the same DELETE twice releases the number once; the
    second answer is `404`, so a retry after a lost answer is safe but may see `404`.

    Deleting a group number needs the "Manage Team Phone Numbers" permission (formerly
    "Manage Group Phone Numbers"), and a user can only delete their own personal numbers;
    otherwise the answer is `403` (Close does not document the code; this contract chooses
    403, Close's code for "an operation was not allowed").

    On success the answer is `200` with a JSON object (Close documents only "a successful
    response"; this contract chooses `{}`, and allows more properties: third parties report
    `{"success": true}`).

    Retries: a 429 is waited for and sent again (`RetryPolicy.max_retries`); this call is idempotent
    (sending it twice leaves the server as sending it once), so a timeout, a dropped connection or a
    5xx is retried too (`RetryPolicy.idempotent_retries`, backing off from `idempotent_backoff`).
    A retried DELETE whose first attempt released the number answers 404: `attempts` > 1 says so.

    Args:
        phone_number_id (str): The phone number's id, `phon_` and letters or digits.

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether the number may have been released.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        DeletedPhoneNumber | NotFound | RateLimited | Refusal
    """

    response = sync_detailed(
        phone_number_id=phone_number_id,
        client=client,
    )
    if client.raise_errors:
        return _success(response)
    return response.parsed


def sync_or_raise(
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> DeletedPhoneNumber:
    """The release's answer (any 2xx: the number was released), or an exception.

    Raises, whatever the client's `raise_errors` says: `errors.RequestRefused` (nothing was
    released: 403, 404, `AuthenticationFailed`, `RateLimitExceeded`), `errors.UnexpectedResponse`,
    `errors.TransportFailed`. A 404 after a retry (`attempts` > 1 on the detailed response) may
    mean that an earlier attempt released the number.
    """
    response = sync_detailed(
        phone_number_id=phone_number_id,
        client=client,
    )
    return _success(response)


async def asyncio_detailed(
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[DeletedPhoneNumber | NotFound | RateLimited | Refusal]:
    """Release (delete) one phone number

     Releases the number: it leaves the organization (retrieving or deleting it again
    answers `404`) and is not billed again. The month already billed is not refunded
    (Close documents none). Sending the same DELETE twice releases the number once; the
    second answer is `404`, so a retry after a lost answer is safe but may see `404`.

    Deleting a group number needs the "Manage Team Phone Numbers" permission (formerly
    "Manage Group Phone Numbers"), and a user can only delete their own personal numbers;
    otherwise the answer is `403` (Close does not document the code; this contract chooses
    403, Close's code for "an operation was not allowed").

    On success the answer is `200` with a JSON object (Close documents only "a successful
    response"; this contract chooses `{}`, and allows more properties: third parties report
    `{"success": true}`).

    Retries: a 429 is waited for and sent again (`RetryPolicy.max_retries`); this call is idempotent
    (sending it twice leaves the server as sending it once), so a timeout, a dropped connection or a
    5xx is retried too (`RetryPolicy.idempotent_retries`, backing off from `idempotent_backoff`).
    A retried DELETE whose first attempt released the number answers 404: `attempts` > 1 says so.

    Args:
        phone_number_id (str): The phone number's id, `phon_` and letters or digits.

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether the number may have been released.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        Response[DeletedPhoneNumber | NotFound | RateLimited | Refusal]
    """

    kwargs = _get_kwargs(
        phone_number_id=phone_number_id,
    )
    attempts = 0
    limited = 0
    failures = 0
    while True:
        attempts += 1
        try:
            response = await client.get_async_httpx_client().request(**kwargs)
        except httpx.RequestError as error:
            failures += 1
            wait = client.retry.wait_after_failure(failures) if _retryable(error) else None
            if wait is None:
                raise _transport_failure(error, attempts) from error
            await _asyncio.sleep(wait)
            continue
        if response.status_code == 429:
            limited += 1
            wait = client.retry.wait_for(response) if limited <= client.retry.max_retries else None
        elif 500 <= response.status_code <= 599:
            failures += 1
            wait = client.retry.wait_after_failure(failures, response)
        else:
            wait = None
        if wait is None:
            return _build_response(client=client, response=response, attempts=attempts)
        await _asyncio.sleep(wait)


async def asyncio(
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> DeletedPhoneNumber | NotFound | RateLimited | Refusal | None:
    """Release (delete) one phone number

     Releases the number: it leaves the organization (retrieving or deleting it again
    answers `404`) and is not billed again. The month already billed is not refunded
    (Close documents none). Sending the same DELETE twice releases the number once; the
    second answer is `404`, so a retry after a lost answer is safe but may see `404`.

    Deleting a group number needs the "Manage Team Phone Numbers" permission (formerly
    "Manage Group Phone Numbers"), and a user can only delete their own personal numbers;
    otherwise the answer is `403` (Close does not document the code; this contract chooses
    403, Close's code for "an operation was not allowed").

    On success the answer is `200` with a JSON object (Close documents only "a successful
    response"; this contract chooses `{}`, and allows more properties: third parties report
    `{"success": true}`).

    Retries: a 429 is waited for and sent again (`RetryPolicy.max_retries`); this call is idempotent
    (sending it twice leaves the server as sending it once), so a timeout, a dropped connection or a
    5xx is retried too (`RetryPolicy.idempotent_retries`, backing off from `idempotent_backoff`).
    A retried DELETE whose first attempt released the number answers 404: `attempts` > 1 says so.

    Args:
        phone_number_id (str): The phone number's id, `phon_` and letters or digits.

    Raises:
        errors.TransportFailed: No complete answer (no connection, a timeout, a dropped connection);
            `may_have_reached_server` says whether the number may have been released.
        errors.UnexpectedStatus: An undocumented status code, when the client's raise_on_unexpected_status is True.
        errors.RequestRefused: With the client's raise_errors: a refusal (AuthenticationFailed,
            RateLimitExceeded after the retries); errors.UnexpectedResponse for an answer the contract
            does not describe.

    Returns:
        DeletedPhoneNumber | NotFound | RateLimited | Refusal
    """

    response = await asyncio_detailed(
        phone_number_id=phone_number_id,
        client=client,
    )
    if client.raise_errors:
        return _success(response)
    return response.parsed


async def asyncio_or_raise(
    phone_number_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> DeletedPhoneNumber:
    """The DeletedPhoneNumber, or an exception (see `sync_or_raise`)."""
    response = await asyncio_detailed(
        phone_number_id=phone_number_id,
        client=client,
    )
    return _success(response)
