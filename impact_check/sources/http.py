"""The one HTTP client every networked source uses (Marquez, DataHub, MLflow, Feast, dbt).

What it guarantees, so that no source has to:
- explicit connect and read timeouts; TLS verification on (a CA bundle may be configured);
  proxies from the environment (httpx ``trust_env``);
- bounded retries with exponential backoff on 429, 5xx and connection errors, honouring
  ``Retry-After`` (capped, and never past the caller's deadline);
- a response-size cap: bodies are streamed and cut at ``max_bytes``;
- credentials only from environment variables, sent as headers, never in URLs, and
  redacted from every error message;
- an on-disk cache of the last good answer per request: used when the server cannot be
  reached (the source is then ``cached``) and as the only answer with ``offline``.

Every failure is a ``SourceError`` whose message names the URL (without its query string
when that might carry secrets) and says what happened in one line.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import os
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from impact_check.errors import SourceError
from impact_check.safeload import load_json

T = TypeVar("T")
R = TypeVar("R")

_RETRY_STATUS = {429, 500, 502, 503, 504}
_USER_AGENT = "impact-check"


@dataclass
class Auth:
    """Where credentials come from: names of environment variables, never values."""

    token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None

    def headers(self, url: str) -> tuple[dict[str, str], list[str]]:
        """The Authorization header and the secret values to redact."""
        if self.token_env:
            token = _env(self.token_env, url)
            return {"Authorization": f"Bearer {token}"}, [token]
        if self.username_env or self.password_env:
            user = _env(self.username_env, url) if self.username_env else ""
            password = _env(self.password_env, url) if self.password_env else ""
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}, [p for p in (password, basic) if p]
        return {}, []

    def values(self, url: str) -> tuple[str, str]:
        """The user name and password from the environment, for a source that exchanges
        them for a token (Airflow 3's ``/auth/token``)."""
        user = _env(self.username_env, url) if self.username_env else ""
        password = _env(self.password_env, url) if self.password_env else ""
        return user, password


def _env(name: str, url: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SourceError(f"{url}: the environment variable {name} is not set")
    return value


@dataclass
class ResponseCache:
    """Last good answers on disk, one JSON file per request key (atomic writes).

    The directory lives in the checked repository's tree, so entries are untrusted input:
    anything that does not parse as the expected envelope is ignored.
    """

    directory: Path

    def key(self, method: str, url: str, params: dict[str, Any] | None, body: Any) -> str:
        raw = json.dumps([method, url, params or {}, body], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> Any:
        path = self.directory / "http" / f"{key}.json"
        try:
            envelope = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(envelope, dict) or envelope.get("version") != 1:
            return None
        return envelope.get("body")

    def put(self, key: str, url: str, body: Any) -> None:
        folder = self.directory / "http"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "url": url, "saved": time.time(), "body": body}, handle)
            os.replace(tmp, folder / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs speed


@dataclass
class HttpClient:
    """A JSON-over-HTTP client for one server (``base_url``).

    ``transport`` is for embedding (httpx transports); tests use a real local server.
    """

    base_url: str
    auth: Auth = field(default_factory=Auth)
    timeout: float = 30.0
    connect_timeout: float = 5.0
    retries: int = 3
    backoff: float = 0.5
    max_retry_wait: float = 30.0
    max_bytes: int = 50_000_000
    max_redirects: int = 5
    ca_bundle: str | None = None
    cache: ResponseCache | None = None
    offline: bool = False
    max_concurrency: int = 4
    transport: httpx.BaseTransport | None = None
    headers: dict[str, str] = field(default_factory=dict)  # extra, never secret
    served_from_cache: bool = False  # set when any answer came from the cache
    requests: int = 0
    _client: httpx.Client | None = None
    _secrets: list[str] = field(default_factory=list)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to ``base_url``) and decode its JSON body."""
        return self._request("GET", path, params, None)

    def post_json(self, path: str, body: Any, cache: bool = True) -> Any:
        """POST a JSON body (GraphQL, SQL statements) and decode the JSON answer.

        ``cache=False`` for requests whose answer is a credential (a token exchange) or
        that must not be replayed: never written to, nor answered from, the cache.
        """
        if not cache:
            url = self.url(path)
            if self.offline:
                raise SourceError(f"{url}: offline: not sent")
            return self._with_retries("POST", url, None, body, "json")
        return self._request("POST", path, None, body)

    def remembered(self, what: str, key: Any, compute: Callable[[], R]) -> R:
        """``compute()`` (a result that takes several requests: a SQL statement posted,
        polled and paged) cached like one answer under ``key``: offline, or when
        ``compute`` fails, the last good result is used (``served_from_cache``)."""
        url = self.url(what)
        cache_key = self.cache.key("RESULT", url, None, key) if self.cache is not None else ""
        cached = self.cache.get(cache_key) if self.cache is not None else None
        if self.offline:
            if cached is None:
                raise SourceError(f"{url}: offline, and no cached answer for this request")
            self.served_from_cache = True
            return cached  # type: ignore[no-any-return]
        try:
            result = compute()
        except SourceError:
            if cached is None:
                raise
            self.served_from_cache = True
            return cached  # type: ignore[no-any-return]
        if self.cache is not None:
            self.cache.put(cache_key, url, result)
        return result

    def use_bearer(self, token: str) -> None:
        """Send ``token`` as the bearer credential from now on (one obtained at run time
        from credentials in the environment, e.g. Airflow 3's ``/auth/token``); it is
        redacted from every error like the others."""
        client = self._http(self.base_url)
        client.headers["Authorization"] = f"Bearer {token}"
        self._secrets.append(token)

    def get_text(self, path: str, params: dict[str, Any] | None = None) -> str:
        """GET ``path`` and return its body as text (artifacts such as MLflow's YAML MLmodel)."""
        return str(self._request("GET", path, params, None, text=True))

    def get_bytes(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        """GET the raw body (dbt artifacts, maybe gzip) with retries and the size cap; not
        cached (the cache holds decoded JSON answers)."""
        url = self.url(path)
        if self.offline:
            raise SourceError(f"{url}: offline: not fetched")
        return bytes(self._with_retries("GET", url, params, None, "bytes"))

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``fn`` over ``items`` with at most ``max_concurrency`` requests in flight."""
        work = list(items)
        if len(work) <= 1 or self.max_concurrency <= 1:
            return [fn(item) for item in work]
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            return list(pool.map(fn, work))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _request(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, text: bool = False
    ) -> Any:
        url = self.url(path)
        cache_method = f"{method} text" if text else method
        key = self.cache.key(cache_method, url, params, body) if self.cache is not None else ""
        if self.offline:
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is None:
                raise SourceError(f"{url}: offline, and no cached answer for this request")
            self.served_from_cache = True
            return cached
        try:
            answer = self._with_retries(method, url, params, body, "text" if text else "json")
        except SourceError:
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is None:
                raise
            self.served_from_cache = True
            return cached
        if self.cache is not None:
            self.cache.put(key, url, answer)
        return answer

    def _with_retries(
        self, method: str, url: str, params: dict[str, Any] | None, body: Any, mode: str
    ) -> Any:
        deadline = time.monotonic() + self.timeout * (self.retries + 1)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, url, params, body, mode)
            except _Retryable as err:
                wait = min(
                    err.retry_after or self.backoff * 2 ** (attempt - 1), self.max_retry_wait
                )
                if attempt > self.retries or time.monotonic() + wait > deadline:
                    raise SourceError(
                        self._redact(f"{url}: {err.reason} (after {attempt} attempts)")
                    ) from None
                time.sleep(wait)

    def _once(
        self, method: str, url: str, params: dict[str, Any] | None, body: Any, mode: str
    ) -> Any:
        client = self._http(url)
        self.requests += 1
        try:
            with client.stream(method, url, params=params, json=body) as response:
                if response.status_code in _RETRY_STATUS:
                    raise _Retryable(f"HTTP {response.status_code}", _retry_after(response.headers))
                if response.status_code >= 400:
                    raise HttpStatusError(
                        self._redact(f"{url}: {_status_text(response)}"), response.status_code
                    )
                raw = self._read_capped(response, url)
                content_type = response.headers.get("content-type", "")
        except httpx.TooManyRedirects:
            raise SourceError(f"{url}: more than {self.max_redirects} redirects") from None
        except httpx.TimeoutException as err:
            raise _Retryable(f"timed out ({type(err).__name__})") from None
        except httpx.TransportError as err:
            reason = self._redact(f"cannot connect: {_transport_text(err)}")
            if _is_tls(err):  # a certificate or protocol mismatch does not heal on retry
                raise SourceError(f"{url}: {reason}") from None
            raise _Retryable(reason) from None
        if mode == "bytes":
            return raw
        if mode == "text":
            return raw.decode("utf-8", "replace")
        return _decode(raw, url, content_type)

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise SourceError(
                    f"{url}: response larger than {self.max_bytes:,} bytes "
                    "(limits.max_response_bytes); not read"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _http(self, url: str) -> httpx.Client:
        if self._client is None:
            headers, self._secrets = self.auth.headers(url)
            timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
            verify: Any = _verify(self.ca_bundle, url)
            self._client = httpx.Client(
                headers={
                    "User-Agent": _USER_AGENT,
                    "Accept": "application/json",
                    **self.headers,
                    **headers,
                },
                timeout=timeout,
                verify=verify,
                follow_redirects=True,
                max_redirects=self.max_redirects,
                transport=self.transport,
                trust_env=True,
            )
        return self._client

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


class HttpStatusError(SourceError):
    """The server answered with a client error (4xx other than 429); ``status`` says which
    (a source may try another API version on 404)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status_text(response: httpx.Response) -> str:
    hints = {
        401: "unauthorized (check the token environment variable)",
        403: "forbidden (the credentials lack permission)",
        404: "not found (check the URL)",
    }
    return f"HTTP {response.status_code} " + hints.get(response.status_code, "error")


def _verify(ca_bundle: str | None, url: str) -> ssl.SSLContext | bool:
    """The TLS verification httpx gets: the system store, or a context trusting ca_bundle
    (a path string is deprecated in httpx)."""
    if not ca_bundle:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as err:
        raise SourceError(f"{url}: ca_bundle {ca_bundle} cannot be used ({err})") from None


def _is_tls(err: BaseException) -> bool:
    """True when a TLS handshake failed (bad certificate, https to a plain-HTTP port)."""
    seen: BaseException | None = err
    for _ in range(5):  # httpx wraps httpcore's error, which wraps ssl's
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transport_text(err: httpx.TransportError) -> str:
    text = str(err).strip() or type(err).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"TLS error ({text.splitlines()[0]}); set ca_bundle for a private CA"
    return text.splitlines()[0]


def _decode(raw: bytes, url: str, content_type: str) -> Any:
    if not raw.strip():
        raise SourceError(f"{url}: empty response body")
    try:
        return load_json(raw)
    except ValueError as err:
        kind = content_type.split(";")[0] or "unknown content type"
        raise SourceError(f"{url}: response is not JSON ({kind}: {err})") from None


def client_for(spec: Any, ctx: Any, base_url: str | None = None) -> HttpClient:
    """An HttpClient for a configured source (config.LineageSource + SourceContext)."""
    options = dict(getattr(spec, "options", {}) or {})
    cache = ResponseCache(ctx.cache_dir) if ctx.cache_dir is not None and ctx.use_cache else None
    return HttpClient(
        base_url=base_url or spec.location,
        auth=Auth(spec.token_env, spec.username_env, spec.password_env),
        timeout=float(spec.timeout or ctx.timeout),
        connect_timeout=float(options.get("connect_timeout", min(5.0, spec.timeout or 5.0))),
        retries=int(options.get("retries", 3)),
        backoff=float(options.get("backoff", 0.5)),
        max_retry_wait=float(options.get("max_retry_wait", 30.0)),
        max_bytes=int(
            options.get("max_response_bytes", getattr(ctx, "max_response_bytes", 50_000_000))
        ),
        ca_bundle=spec.ca_bundle,
        cache=cache,
        offline=ctx.offline,
        max_concurrency=int(options.get("max_concurrency", 4)),
    )
