"""Real clients against the mock over HTTP: Close's official client and the generated one."""

from __future__ import annotations

import base64

import pytest
from close_phone_numbers_client import AuthenticatedClient
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Refusal, Sharing
from closeio_api import API, APIError, ValidationError

from conformance.mock.server import MockServer


def test_the_official_close_client_rents_a_number(served: MockServer) -> None:
    api = API(served.origin + "/api/v1/", api_key="mock_admin_key")
    number = api.post("phone_number/request/internal", data={"country": "US", "sharing": "personal", "prefix": "212"})
    assert number["number"].startswith("+1212")
    assert number["type"] == "internal"


def test_the_official_client_gets_validation_errors_with_field_errors_unchanged(served: MockServer) -> None:
    api = API(served.origin + "/api/v1/", api_key="mock_admin_key")
    with pytest.raises(ValidationError) as raised:
        api.post("phone_number/request/internal", data={"country": "usa", "sharing": "personal", "prefix": "1234567"})
    assert set(raised.value.field_errors) == {"country", "prefix"}


def test_the_official_client_sees_business_refusals_as_api_errors(served: MockServer) -> None:
    api = API(served.origin + "/api/v1/", api_key="mock_member_key")
    with pytest.raises(APIError):
        api.post("phone_number/request/internal", data={"country": "US", "sharing": "group"})


def test_the_generated_client_rents_and_reads_refusals(served: MockServer) -> None:
    token = base64.b64encode(b"mock_admin_key:").decode()
    with AuthenticatedClient(base_url=served.origin + "/api/v1", token=token, prefix="Basic") as client:
        with pytest.warns(DeprecationWarning, match="sharing"):
            group = PhoneNumberRequest(country="CA", sharing=Sharing.GROUP)
        rented = request_internal_phone_number.sync(client=client, body=group)
        assert isinstance(rented, PhoneNumber)
        assert rented.is_group_number
        refused = request_internal_phone_number.sync(client=client, body=PhoneNumberRequest(country="ZZ"))
        assert isinstance(refused, Refusal)
        assert refused.error
