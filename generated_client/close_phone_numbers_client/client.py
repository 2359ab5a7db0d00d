"""The clients: `Client` (no credentials) and `AuthenticatedClient` (a Close API key or OAuth token).

Build an authenticated one with `AuthenticatedClient.from_api_key(base_url, key)` (HTTP Basic,
the key as username and an empty password, as Close expects) or
`AuthenticatedClient.from_oauth_token(base_url, token)` (Bearer). Credentials never appear in
a repr, a log line or an exception message.
"""

import base64
import datetime
import email.utils
import math
import re
import ssl
import time
from typing import Any, Self

import httpx
from attrs import define, evolve, field

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Thirty seconds for a call, ten to connect. Change it with `timeout=` or `with_timeout()`."""

_RATELIMIT_RESET = re.compile(r"(?:^|[;,])\s*reset=([0-9]+(?:\.[0-9]+)?)")


@define(frozen=True)
class RetryPolicy:
    """When a call is sent again, and how long the client waits first.

    Every call: a 429 Too Many Requests is waited for as long as the server asks, then sent
    again (the server refused before acting on the request), at most `max_retries` times.

    Only idempotent calls, retrieving (GET) and releasing (DELETE) a number, are also sent again
    after a timeout, a dropped connection or a 5xx, at most `idempotent_retries` times: sending
    one twice leaves the server as sending it once (a second DELETE of a released number answers
    404). The rental never is: the server may already have rented a number, and a second rental
    costs money.
    """

    max_retries: int = 3
    """How many times a rate-limited call is sent again."""
    max_wait: float = 60.0
    """The longest wait (seconds) the client accepts; a longer one ends the retries."""
    default_wait: float = 1.0
    """The wait when a 429 does not say how long."""
    idempotent_retries: int = 2
    """How many times a GET or DELETE is sent again after a timeout, a dropped connection or a 5xx (0: never)."""
    idempotent_backoff: float = 0.5
    """The wait (seconds) before the first such retry, doubled for each next one, at most `max_wait`."""

    def wait_for(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying this 429, or None when it should not be retried."""
        asked = requested_wait(response)
        wait = self.default_wait if asked is None else asked
        if wait > self.max_wait:
            return None
        return max(wait, 0.0)

    def wait_after_failure(self, failures: int, response: httpx.Response | None = None) -> float | None:
        """Seconds to wait before sending an idempotent call again after its `failures`-th failure, or None to stop.

        `response` is the 5xx answer, if there was one: a wait it asks for (`Retry-After`) is
        taken, and one longer than `max_wait` ends the retries; otherwise the wait backs off.
        """
        if failures > self.idempotent_retries:
            return None
        asked = requested_wait(response) if response is not None else None
        if asked is not None:
            return None if asked > self.max_wait else max(asked, 0.0)
        backoff = self.idempotent_backoff * 2.0 ** min(max(failures - 1, 0), 60)
        return max(min(backoff, self.max_wait), 0.0)


def _seconds(value: Any) -> float | None:
    """A finite number of seconds, or None for anything else (garbage, NaN, infinity)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _seconds_until(http_date: str) -> float | None:
    """Seconds until an HTTP-date (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`), or None."""
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp() - time.time()


def requested_wait(response: httpx.Response) -> float | None:
    """The longest wait the answer asks for: `RateLimit` reset (`,` or `;` form), `Retry-After`, Close's `rate_reset`.

    Any value gives a finite wait or none, never an exception: HTTP-dates are read, garbage,
    NaN and infinity are ignored; the policy then bounds what is left.
    """
    waits: list[float | None] = []
    match = _RATELIMIT_RESET.search(response.headers.get("ratelimit", ""))
    if match:
        waits.append(_seconds(match.group(1)))
    retry_after = response.headers.get("retry-after", "").strip()
    if retry_after:
        seconds = _seconds(retry_after)
        waits.append(seconds if seconds is not None else _seconds_until(retry_after))
    try:
        waits.append(_seconds(response.json()["error"]["rate_reset"]))
    except (ValueError, KeyError, TypeError, IndexError):
        pass
    known = [wait for wait in waits if wait is not None]
    return max(known) if known else None


@define
class Client:
    """A client without credentials (every call of this API will be refused with 401).

    Keyword arguments: ``base_url`` (e.g. ``https://api.close.com/api/v1``), ``cookies``,
    ``headers``, ``timeout`` (default `DEFAULT_TIMEOUT`), ``verify_ssl``, ``follow_redirects``,
    ``httpx_args`` (passed to the httpx clients), ``retry`` (a `RetryPolicy`), ``raise_errors``.
    """

    raise_on_unexpected_status: bool = field(default=False, kw_only=True)
    """Raise `errors.UnexpectedStatus` for a status code the contract does not document."""
    raise_errors: bool = field(default=False, kw_only=True)
    """Make `sync`/`asyncio` raise (`errors.RequestRefused`, ...) instead of returning refusals."""
    retry: RetryPolicy = field(factory=RetryPolicy, kw_only=True)
    """When calls are sent again: 429s (every call), failures of idempotent calls (GET, DELETE)."""
    _base_url: str = field(alias="base_url")
    _cookies: dict[str, str] = field(factory=dict, kw_only=True, alias="cookies", repr=False)
    _headers: dict[str, str] = field(factory=dict, kw_only=True, alias="headers", repr=False)
    _timeout: httpx.Timeout | None = field(default=DEFAULT_TIMEOUT, kw_only=True, alias="timeout")
    _verify_ssl: str | bool | ssl.SSLContext = field(default=True, kw_only=True, alias="verify_ssl")
    _follow_redirects: bool = field(default=False, kw_only=True, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, kw_only=True, alias="httpx_args", repr=False)
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    def _all_headers(self) -> dict[str, str]:
        return dict(self._headers)

    def with_headers(self, headers: dict[str, str]) -> Self:
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> Self:
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> Self:
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._all_headers(),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **self._httpx_args,
            )
        return self._client

    def __enter__(self) -> Self:
        """Enter a context manager for self.client—you cannot enter twice (see httpx docs)"""
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for internal httpx.Client (see httpx docs)"""
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Manually set the underlying httpx.AsyncClient

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._all_headers(),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **self._httpx_args,
            )
        return self._async_client

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)


@define
class AuthenticatedClient:
    """A client that authenticates every call; build it with `from_api_key` or `from_oauth_token`.

    Takes the keyword arguments of `Client`, plus ``token``, ``prefix`` (``Basic`` or ``Bearer``)
    and ``auth_header_name``; the token is never shown by `repr`.
    """

    raise_on_unexpected_status: bool = field(default=False, kw_only=True)
    """Raise `errors.UnexpectedStatus` for a status code the contract does not document."""
    raise_errors: bool = field(default=False, kw_only=True)
    """Make `sync`/`asyncio` raise (`errors.RequestRefused`, ...) instead of returning refusals."""
    retry: RetryPolicy = field(factory=RetryPolicy, kw_only=True)
    """When calls are sent again: 429s (every call), failures of idempotent calls (GET, DELETE)."""
    _base_url: str = field(alias="base_url")
    _cookies: dict[str, str] = field(factory=dict, kw_only=True, alias="cookies", repr=False)
    _headers: dict[str, str] = field(factory=dict, kw_only=True, alias="headers", repr=False)
    _timeout: httpx.Timeout | None = field(default=DEFAULT_TIMEOUT, kw_only=True, alias="timeout")
    _verify_ssl: str | bool | ssl.SSLContext = field(default=True, kw_only=True, alias="verify_ssl")
    _follow_redirects: bool = field(default=False, kw_only=True, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, kw_only=True, alias="httpx_args", repr=False)
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    token: str = field(default="", repr=False)
    """The credential sent after the prefix (for Basic: base64 of ``KEY:``)."""
    prefix: str = "Bearer"
    """The scheme of the Authorization header."""
    auth_header_name: str = "Authorization"
    """The name of the Authorization header."""

    @classmethod
    def from_api_key(
        cls,
        base_url: str,
        api_key: str,
        *,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = DEFAULT_TIMEOUT,
        verify_ssl: str | bool | ssl.SSLContext = True,
        follow_redirects: bool = False,
        httpx_args: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        raise_errors: bool = False,
        raise_on_unexpected_status: bool = False,
    ) -> Self:
        """A client that sends a Close API key with HTTP Basic: the key as username, an empty password.

        The options are those of `Client` (every one by keyword, so a misspelt one is an error).
        An empty key is refused with ValueError: every call would be answered 401.
        """
        if not api_key or not api_key.strip():
            raise ValueError("api_key is empty: pass the Close API key (Settings > API keys)")
        token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
        return cls(
            base_url=base_url,
            token=token,
            prefix="Basic",
            cookies=cookies or {},
            headers=headers or {},
            timeout=timeout,
            verify_ssl=verify_ssl,
            follow_redirects=follow_redirects,
            httpx_args=httpx_args or {},
            retry=retry or RetryPolicy(),
            raise_errors=raise_errors,
            raise_on_unexpected_status=raise_on_unexpected_status,
        )

    @classmethod
    def from_oauth_token(
        cls,
        base_url: str,
        access_token: str,
        *,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = DEFAULT_TIMEOUT,
        verify_ssl: str | bool | ssl.SSLContext = True,
        follow_redirects: bool = False,
        httpx_args: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        raise_errors: bool = False,
        raise_on_unexpected_status: bool = False,
    ) -> Self:
        """A client that sends an OAuth 2 access token with Bearer (options as in `from_api_key`).

        An empty token is refused with ValueError.
        """
        if not access_token or not access_token.strip():
            raise ValueError("access_token is empty: pass an OAuth 2 access token of your Close OAuth app")
        return cls(
            base_url=base_url,
            token=access_token,
            prefix="Bearer",
            cookies=cookies or {},
            headers=headers or {},
            timeout=timeout,
            verify_ssl=verify_ssl,
            follow_redirects=follow_redirects,
            httpx_args=httpx_args or {},
            retry=retry or RetryPolicy(),
            raise_errors=raise_errors,
            raise_on_unexpected_status=raise_on_unexpected_status,
        )

    def _all_headers(self) -> dict[str, str]:
        credential = f"{self.prefix} {self.token}" if self.prefix else self.token
        return {**self._headers, self.auth_header_name: credential}

    def with_headers(self, headers: dict[str, str]) -> Self:
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> Self:
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> Self:
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._all_headers(),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **self._httpx_args,
            )
        return self._client

    def __enter__(self) -> Self:
        """Enter a context manager for self.client—you cannot enter twice (see httpx docs)"""
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for internal httpx.Client (see httpx docs)"""
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Manually set the underlying httpx.AsyncClient

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._all_headers(),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **self._httpx_args,
            )
        return self._async_client

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)
