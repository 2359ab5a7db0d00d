"""The client as a new user meets it: typed outcomes, clear mistakes, honest money alarms."""

from __future__ import annotations

import warnings

import httpx
import pytest
from close_phone_numbers_client import AuthenticatedClient, RateLimitExceeded, TransportFailed
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal, Sharing

from conformance.mock.server import MockServer


def test_a_base_url_without_a_scheme_says_nothing_was_sent() -> None:
    client = AuthenticatedClient.from_api_key("127.0.0.1:9/api/v1", "mock_admin_key")
    with pytest.raises(TransportFailed) as failed:
        request_internal_phone_number.sync(client=client, body=PhoneNumberRequest(country="US"))
    assert failed.value.may_have_reached_server is False  # no false money alarm
    assert "nothing was sent" in str(failed.value)


def test_sync_or_raise_returns_the_number_or_raises(served: MockServer) -> None:
    with AuthenticatedClient.from_api_key(served.origin + "/api/v1", "mock_admin_key") as client:
        number: PhoneNumber = request_internal_phone_number.sync_or_raise(
            client=client, body=PhoneNumberRequest(country="US")
        )
        assert number.number.startswith("+1")
        with pytest.raises(Exception, match="needs-more-info") as refused:
            request_internal_phone_number.sync_or_raise(client=client, body=PhoneNumberRequest(country="DE"))
    assert refused.value.status == "needs-more-info"  # type: ignore[attr-defined]


async def _async_rent(origin: str) -> PhoneNumber:
    async with AuthenticatedClient.from_api_key(origin + "/api/v1", "mock_admin_key") as client:
        return await request_internal_phone_number.asyncio_or_raise(
            client=client, body=PhoneNumberRequest(country="CA")
        )


def test_asyncio_or_raise_returns_the_number(served: MockServer) -> None:
    import asyncio

    assert asyncio.run(_async_rent(served.origin)).country == "CA"


def test_a_misspelt_option_is_a_type_error_not_silence() -> None:
    with pytest.raises(TypeError):
        AuthenticatedClient.from_api_key("http://x/api/v1", "k", timout=5)  # type: ignore[call-arg]


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_api_key_or_token_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        AuthenticatedClient.from_api_key("http://x/api/v1", key)
    with pytest.raises(ValueError, match="empty"):
        AuthenticatedClient.from_oauth_token("http://x/api/v1", key)


def test_sharing_as_a_plain_string_works_and_a_wrong_one_is_a_clear_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        request = PhoneNumberRequest(country="US", sharing="group")  # type: ignore[arg-type]
        assert request.sharing is Sharing.GROUP
        assert request.to_dict()["sharing"] == "group"
        with pytest.raises(ValueError, match="'everyone' is not a valid Sharing"):
            PhoneNumberRequest(country="US", sharing="everyone")  # type: ignore[arg-type]


def test_reprs_show_unset_plainly() -> None:
    assert "UNSET" in repr(Refusal(status="error"))
    assert " at 0x" not in repr(Refusal(status="error"))


def test_the_old_exception_name_still_works_with_a_deprecation_warning() -> None:
    import close_phone_numbers_client
    from close_phone_numbers_client import errors

    with pytest.warns(DeprecationWarning, match="RateLimitExceeded"):
        assert close_phone_numbers_client.RateLimited is RateLimitExceeded
    with pytest.warns(DeprecationWarning, match="models.RateLimited is the 429 body"):
        assert errors.RateLimited is RateLimitExceeded


def test_the_docstrings_name_the_exceptions_raised() -> None:
    doc = request_internal_phone_number.sync.__doc__ or ""
    assert "TransportFailed" in doc
    assert "httpx.TimeoutException" not in doc


def test_refusal_status_is_typed() -> None:
    from close_phone_numbers_client.errors import RequestRefused

    refused = RequestRefused(400, "needs-more-info", "documents needed")
    assert refused.status == "needs-more-info"
    assert RequestRefused.__init__.__annotations__["status"] == "RefusalStatus | str | None"


def test_a_rate_limited_answer_raises_rate_limit_exceeded_with_raise_errors() -> None:
    from close_phone_numbers_client import RetryPolicy

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": {"message": "slow", "rate_reset": 0}})

    client = AuthenticatedClient.from_api_key(
        "http://mock/api/v1", "k", raise_errors=True, retry=RetryPolicy(max_retries=0)
    ).set_httpx_client(httpx.Client(transport=httpx.MockTransport(handler), base_url="http://mock/api/v1"))
    with pytest.raises(RateLimitExceeded):
        request_internal_phone_number.sync(client=client, body=PhoneNumberRequest(country="US"))
