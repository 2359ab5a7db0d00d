"""close_mock beside pytest-httpx and respx: the mock's own traffic is never theirs, the user's stays theirs.

A user whose suite mocks other HTTP APIs keeps doing so: each file below is a user's test module,
run outside the tree with pytest-httpx and respx installed beside the plugin as a user installs
them (found through their `pytest11` entry points). In every file the generated client from
`close_mock.client()` rents from the mock, sync and async, whatever the mocker's settings and the
order of the fixtures, while the user's own calls to another API are answered (or refused) by the
mocker exactly as it says, and api.close.com stays out of reach.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.plugin.outside import count, passed, pytest_run

if TYPE_CHECKING:
    from pathlib import Path

COMMON = """
import httpx
import pytest
from close_phone_numbers_client import TransportFailed
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest

from conformance.pytest_plugin import LiveCallBlocked

US = PhoneNumberRequest(country="US")
OTHER = "https://api.example.com/v1/ping"  # another API the user's suite mocks
LIVE = "https://api.close.com/api/v1/me/"


def rents(close_mock):
    number = rent.sync(client=close_mock.client(), body=US)
    assert isinstance(number, PhoneNumber), number
    assert number.number in [rental.number for rental in close_mock.rentals]


async def rents_async(close_mock):
    number = await rent.asyncio(client=close_mock.client(), body=US)
    assert isinstance(number, PhoneNumber), number
    assert number.number in [rental.number for rental in close_mock.rentals]


def odd_answers_and_the_official_client(close_mock):
    close_mock.next_answers("drop")  # the mock's own dropped connection, not a mocker's refusal
    with pytest.raises(TransportFailed) as failed:
        rent.sync(client=close_mock.client(), body=US)
    assert failed.value.may_have_reached_server
    close_mock.next_answers("billing-error")
    assert rent.sync_detailed(client=close_mock.client(), body=US).status_code == 400
    assert close_mock.closeio().post("phone_number/request/internal", data={"country": "CA"})["country"] == "CA"
"""

PYTEST_HTTPX = (
    COMMON
    + """

def only_the_other_api(request):
    return request.url.host == "api.example.com"


SETTINGS = [
    pytest.param("defaults"),
    pytest.param("optional", marks=pytest.mark.httpx_mock(assert_all_responses_were_requested=False)),
    pytest.param("unexpected-allowed", marks=pytest.mark.httpx_mock(assert_all_requests_were_expected=False)),
    pytest.param("reused", marks=pytest.mark.httpx_mock(can_send_already_matched_responses=True)),
    pytest.param("mock-all", marks=pytest.mark.httpx_mock(should_mock=lambda request: True)),
    # pytest-httpx 0.36's should_mock replaces non_mocked_hosts
    pytest.param("mock-other-only", marks=pytest.mark.httpx_mock(should_mock=only_the_other_api)),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_sync(httpx_mock, close_mock, settings):
    httpx_mock.add_response(url=OTHER, json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}
    assert [str(request.url) for request in httpx_mock.get_requests()] == [OTHER]  # it never saw the mock's


@pytest.mark.parametrize("settings", SETTINGS)
def test_sync_fixtures_the_other_way_round(close_mock, httpx_mock, settings):
    httpx_mock.add_response(url=OTHER, json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


@pytest.mark.anyio
@pytest.mark.parametrize("settings", SETTINGS)
async def test_async(httpx_mock, close_mock, settings):
    httpx_mock.add_response(url=OTHER, json={"pong": True})
    await rents_async(close_mock)
    async with httpx.AsyncClient() as client:
        assert (await client.get(OTHER)).json() == {"pong": True}
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("settings", SETTINGS)
async def test_async_fixtures_the_other_way_round(close_mock, httpx_mock, settings):
    await rents_async(close_mock)
    assert httpx_mock.get_requests() == []


def test_odd_answers_and_the_official_client(httpx_mock, close_mock):
    odd_answers_and_the_official_client(close_mock)


def test_the_generated_client_aimed_elsewhere_is_still_mocked(httpx_mock, close_mock):
    httpx_mock.add_response(url=OTHER, json={"pong": True})
    client = close_mock.client()
    rents(close_mock)
    assert client.get_httpx_client().get(OTHER).json() == {"pong": True}


@pytest.mark.httpx_mock(assert_all_requests_were_expected=False)
def test_a_call_the_user_did_not_mock_is_still_refused(httpx_mock, close_mock):
    rents(close_mock)
    with pytest.raises(httpx.TimeoutException, match="No response can be found"):
        httpx.get(OTHER)


@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "api.close.com")
def test_the_live_api_stays_out_of_reach(httpx_mock, close_mock):
    rents(close_mock)
    with pytest.raises(LiveCallBlocked):
        httpx.get(LIVE)
"""
)

PYTEST_HTTPX_CHECKS = (
    COMMON
    + """

def test_forgets_to_call_what_it_mocked(httpx_mock, close_mock):
    httpx_mock.add_response(url=OTHER)
    rents(close_mock)


def test_calls_what_it_did_not_mock(httpx_mock, close_mock):
    rents(close_mock)
    with pytest.raises(httpx.TimeoutException):
        httpx.get(OTHER + "/unmocked")
"""
)

RESPX = (
    COMMON
    + """
import respx
from respx.models import AllMockedAssertionError

MOCKERS = ["httpcore", "httpx"]
SETTINGS = [
    {},
    {"assert_all_called": False},
    {"assert_all_mocked": False},
    {"base_url": "https://api.example.com"},
]


def routes(router, settings):
    path = "/v1/ping" if "base_url" in settings else OTHER
    return router.get(path).respond(json={"pong": True})


def unmocked_calls_answered_as_respx_says(settings):
    if settings.get("assert_all_mocked", True):
        with pytest.raises(AllMockedAssertionError, match="not mocked"):
            httpx.get("https://api.example.com/v1/unmocked")
    else:
        assert httpx.get("https://api.example.com/v1/unmocked").status_code == 200  # respx's auto-mocked answer


@pytest.mark.parametrize("using", MOCKERS)
@pytest.mark.parametrize("settings", SETTINGS)
def test_context(close_mock, using, settings):
    with respx.mock(using=using, **settings) as router:
        route = routes(router, settings)
        rents(close_mock)
        assert httpx.get(OTHER).json() == {"pong": True}
        unmocked_calls_answered_as_respx_says(settings)
        assert route.call_count == 1
        assert all(call.request.url.host == "api.example.com" for call in router.calls)  # it never saw the mock's


@pytest.mark.anyio
@pytest.mark.parametrize("using", MOCKERS)
@pytest.mark.parametrize("settings", SETTINGS)
async def test_context_async(close_mock, using, settings):
    with respx.mock(using=using, **settings) as router:
        routes(router, settings)
        await rents_async(close_mock)
        async with httpx.AsyncClient() as client:
            assert (await client.get(OTHER)).json() == {"pong": True}
        assert router.calls.call_count == 1


@pytest.mark.parametrize("using", MOCKERS)
def test_a_catch_all_route_does_not_catch_the_mock(close_mock, using):
    with respx.mock(using=using) as router:
        router.route().respond(500)
        rents(close_mock)
        assert httpx.get(OTHER).status_code == 500
        assert router.calls.call_count == 1


@respx.mock
def test_decorator(close_mock):
    respx.get(OTHER).respond(json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


ROUTER = respx.mock(using="httpx", assert_all_called=True)


@ROUTER
def test_decorator_with_settings(close_mock):
    ROUTER.get(OTHER).respond(json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


@pytest.mark.anyio
@respx.mock
async def test_decorator_async(close_mock):
    await rents_async(close_mock)


@pytest.fixture
def started_first(request):
    router = respx.mock(using=request.param)
    router.start()
    yield router
    router.stop()


@pytest.mark.parametrize("started_first", MOCKERS, indirect=True)
def test_a_router_started_before_close_mock(started_first, close_mock):
    started_first.get(OTHER).respond(json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


@pytest.mark.respx(using="httpx", base_url="https://api.example.com", assert_all_called=True)
def test_fixture_httpx_mocker(respx_mock, close_mock):
    respx_mock.get("/v1/ping").respond(json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


@pytest.mark.respx(using="httpcore", assert_all_mocked=True)
def test_fixture_httpcore_mocker_other_order(close_mock, respx_mock):
    respx_mock.get(OTHER).respond(json={"pong": True})
    rents(close_mock)
    assert httpx.get(OTHER).json() == {"pong": True}


@pytest.mark.anyio
@pytest.mark.respx(using="httpx")
async def test_fixture_async(respx_mock, close_mock):
    await rents_async(close_mock)
    assert respx_mock.calls.call_count == 0


def test_odd_answers_and_the_official_client(respx_mock, close_mock):
    odd_answers_and_the_official_client(close_mock)


@pytest.mark.parametrize("using", MOCKERS)
def test_the_generated_client_aimed_elsewhere_is_still_mocked(close_mock, using):
    with respx.mock(using=using) as router:
        router.get(OTHER).respond(json={"pong": True})
        rents(close_mock)
        assert close_mock.client().get_httpx_client().get(OTHER).json() == {"pong": True}


@pytest.mark.parametrize("using", MOCKERS)
def test_the_live_api_stays_out_of_reach(close_mock, using):
    with respx.mock(using=using) as router:
        router.route(host="api.close.com").pass_through()
        rents(close_mock)
        with pytest.raises(LiveCallBlocked):
            httpx.get(LIVE)
"""
)


def test_pytest_httpx_never_sees_the_mocks_traffic_and_still_mocks_the_users(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, PYTEST_HTTPX, "-p", "anyio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 28


def test_pytest_httpx_checks_at_teardown_judge_the_users_calls_alone(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, PYTEST_HTTPX_CHECKS)
    output = result.stdout + result.stderr
    assert (passed(result), count(result, "errors")) == (2, 2), output  # each test passes, its teardown fails
    assert "The following responses are mocked but not requested" in output
    assert "The following requests were not expected" in output
    assert "api.example.com/v1/ping/unmocked" in output
    assert "127.0.0.1" not in output  # the mock's requests are neither expected nor unexpected: not theirs
    assert "TransportFailed" not in output


def test_respx_never_sees_the_mocks_traffic_and_still_mocks_the_users(tmp_path: Path) -> None:
    result = pytest_run(tmp_path, RESPX, "-p", "anyio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 31


MOCKED_LIVE_API = """
import httpx
import pytest
import respx

from conformance.pytest_plugin import LiveCallBlocked

ME = "https://api.close.com/api/v1/me/"
RENT = "https://api.close.com/api/v1/phone_number/request/internal/"


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
def test_respx(close_mock, using):
    with respx.mock(using=using) as router:
        router.get(ME).respond(json={"id": "user_x"})
        assert httpx.get(ME).json() == {"id": "user_x"}


@pytest.mark.anyio
@pytest.mark.parametrize("using", ["httpcore", "httpx"])
async def test_respx_async(using):
    with respx.mock(using=using) as router:
        router.get(ME).respond(json={"id": "user_x"})
        async with httpx.AsyncClient() as client:
            assert (await client.get(ME)).json() == {"id": "user_x"}


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
@pytest.mark.close_live(max_rentals=0)
def test_mocked_rentals_are_not_live_rentals(using):
    with respx.mock(using=using) as router:
        router.post(RENT).respond(201, json={"number": "+15550100"})
        assert [httpx.post(RENT, json={"country": "US"}).status_code for _ in range(2)] == [201, 201]


def test_pytest_httpx(httpx_mock, close_mock):
    httpx_mock.add_response(url=ME, json={"id": "user_x"})
    assert httpx.get(ME).json() == {"id": "user_x"}


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
def test_what_respx_lets_through_is_still_blocked(using):
    with respx.mock(using=using, assert_all_mocked=False, assert_all_called=False) as router:
        router.get(ME).pass_through()
        with pytest.raises(LiveCallBlocked, match="tried to reach api.close.com"):
            httpx.get(ME)
"""


def test_calls_to_api_close_com_the_user_mocks_are_answered_by_the_mocker_not_blocked(tmp_path: Path) -> None:
    # The guard stops what would leave the process; a request respx or pytest-httpx answers never would.
    result = pytest_run(tmp_path, MOCKED_LIVE_API, "-p", "anyio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert passed(result) == 9
