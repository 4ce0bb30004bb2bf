"""The shared HTTP client against a real local HTTP server: retries, limits, cache, secrets."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.errors import SourceError
from impact_check.sources.http import Auth, HttpClient, ResponseCache

TOKEN = "tok-SECRET-4f1c9"


def _client(server: HTTPServer, **kw: object) -> HttpClient:
    params: dict[str, object] = {"timeout": 2.0, "connect_timeout": 1.0, "backoff": 0.01}
    params.update(kw)
    return HttpClient(server.url_for("/"), **params)  # type: ignore[arg-type]


def test_json_with_bearer_token_from_the_environment(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_TOKEN", TOKEN)
    httpserver.expect_request(
        "/api/x", headers={"Authorization": f"Bearer {TOKEN}"}, query_string="a=1"
    ).respond_with_json({"ok": True})
    with _client(httpserver, auth=Auth(token_env="IC_TOKEN")) as client:
        assert client.get_json("/api/x", {"a": "1"}) == {"ok": True}


def test_missing_token_variable_names_it(httpserver: HTTPServer) -> None:
    with pytest.raises(SourceError, match="IC_NOT_SET is not set"):
        _client(httpserver, auth=Auth(token_env="IC_NOT_SET")).get_json("/x")


def test_5xx_then_success_is_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("boom", status=503)
    httpserver.expect_ordered_request("/x").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/x").respond_with_json([1])
    client = _client(httpserver)
    assert client.get_json("/x") == [1]
    assert client.requests == 3


def test_429_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"n": 2})
    started = time.monotonic()
    assert _client(httpserver).get_json("/x") == {"n": 2}
    assert time.monotonic() - started >= 0.9


def test_retries_are_bounded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("down", status=502)
    client = _client(httpserver, retries=2)
    with pytest.raises(SourceError, match=r"HTTP 502 \(after 3 attempts\)"):
        client.get_json("/x")
    assert client.requests == 3


@pytest.mark.parametrize(
    ("status", "text"), [(401, "unauthorized"), (403, "forbidden"), (404, "not found")]
)
def test_4xx_is_not_retried(httpserver: HTTPServer, status: int, text: str) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=status)
    client = _client(httpserver)
    with pytest.raises(SourceError, match=text):
        client.get_json("/x")
    assert client.requests == 1


def test_slow_response_times_out(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(SourceError, match="timed out"):
        _client(httpserver, timeout=0.3, retries=1).get_json("/slow")


def test_huge_response_is_cut_at_the_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"[" + b"1," * 600_000 + b"1]")
    with pytest.raises(SourceError, match="larger than 1,000,000 bytes"):
        _client(httpserver, max_bytes=1_000_000).get_json("/big")


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"truncated": [1, 2', b""])
def test_bad_bodies_are_clear_errors(httpserver: HTTPServer, body: bytes) -> None:
    httpserver.expect_request("/x").respond_with_data(body, content_type="text/html")
    with pytest.raises(SourceError, match=r"not JSON|empty response"):
        _client(httpserver).get_json("/x")


def test_redirect_loop_stops(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(SourceError, match="more than 5 redirects"):
        _client(httpserver).get_json("/a")


def test_redirect_is_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_json({"moved": True})
    assert _client(httpserver).get_json("/old") == {"moved": True}


def test_connection_refused_is_clear_and_bounded() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HttpClient(f"http://127.0.0.1:{port}", timeout=1.0, backoff=0.01, retries=1)
    with pytest.raises(SourceError, match=rf"127.0.0.1:{port}/x: cannot connect"):
        client.get_json("/x")


def test_unresolvable_host_is_bounded_by_the_connect_timeout() -> None:
    client = HttpClient("http://lineage.example.invalid", connect_timeout=1.0, timeout=1.0)
    client.retries, client.backoff = 0, 0.01
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"lineage\.example\.invalid"):
        client.get_json("/x")
    assert time.monotonic() - started < 10


def test_last_good_answer_is_served_when_the_server_fails_and_offline(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path)
    httpserver.expect_ordered_request("/x").respond_with_json({"v": 1})
    httpserver.expect_ordered_request("/x").respond_with_data("down", status=500)
    first = _client(httpserver, cache=cache, retries=0)
    assert first.get_json("/x") == {"v": 1} and not first.served_from_cache
    second = _client(httpserver, cache=cache, retries=0)
    assert second.get_json("/x") == {"v": 1} and second.served_from_cache
    offline = _client(httpserver, cache=cache, offline=True)
    assert offline.get_json("/x") == {"v": 1} and offline.requests == 0
    with pytest.raises(SourceError, match="offline, and no cached answer"):
        offline.get_json("/other")


def test_corrupt_cache_entry_is_ignored(httpserver: HTTPServer, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    client = _client(httpserver, cache=cache, offline=True)
    key = cache.key("GET", client.url("/x"), None, None)
    (tmp_path / "http").mkdir()
    (tmp_path / "http" / f"{key}.json").write_text('{"version": 1, "body"')
    with pytest.raises(SourceError, match="no cached answer"):
        client.get_json("/x")
    (tmp_path / "http" / f"{key}.json").write_text(json.dumps({"version": 99, "body": 1}))
    with pytest.raises(SourceError, match="no cached answer"):
        client.get_json("/x")


def test_token_never_appears_in_errors(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_TOKEN", TOKEN)
    httpserver.expect_request("/x").respond_with_data(TOKEN, status=500)
    client = _client(httpserver, auth=Auth(token_env="IC_TOKEN"), retries=0)
    with pytest.raises(SourceError) as err:
        client.get_json("/x")
    assert TOKEN not in str(err.value)


def test_basic_auth_from_environment(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_USER", "admin")
    monkeypatch.setenv("IC_PASS", "pw-9")
    httpserver.expect_request(
        "/x", headers={"Authorization": "Basic YWRtaW46cHctOQ=="}
    ).respond_with_json({"ok": 1})
    client = _client(httpserver, auth=Auth(username_env="IC_USER", password_env="IC_PASS"))
    assert client.get_json("/x") == {"ok": 1}


def test_post_json_and_bounded_concurrency(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/graphql", method="POST", json={"q": 1}).respond_with_json({"a": 1})
    client = _client(httpserver, max_concurrency=3)
    assert client.map(lambda _: client.post_json("/graphql", {"q": 1}), range(6)) == [{"a": 1}] * 6


# --- TLS and a stalled body -------------------------------------------------------------


@pytest.fixture
def tls_server() -> Iterator[tuple[HTTPServer, trustme.CA]]:
    """A real HTTPS server on 127.0.0.1 whose certificate a private CA (trustme) signed."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        yield server, ca
    finally:
        server.clear()
        server.stop()


def test_untrusted_certificate_is_a_tls_error_not_retried_and_ca_bundle_fixes_it(
    tls_server: tuple[HTTPServer, trustme.CA], tmp_path: Path
) -> None:
    server, ca = tls_server
    server.expect_request("/x").respond_with_json({"ok": 1})
    client = _client(server, retries=3)
    assert client.base_url.startswith("https://")
    with pytest.raises(SourceError, match=r"TLS error .*CERTIFICATE_VERIFY_FAILED.*ca_bundle"):
        client.get_json("/x")
    assert client.requests == 1  # retrying cannot make the certificate trusted
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    assert _client(server, ca_bundle=str(bundle)).get_json("/x") == {"ok": 1}


def test_https_to_a_plain_http_port_is_a_tls_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_json({"ok": 1})
    url = httpserver.url_for("/").replace("http://", "https://")
    client = HttpClient(url, timeout=2.0, connect_timeout=1.0, backoff=0.01, retries=3)
    started = time.monotonic()
    tls_error = r"^https://[\w.]+:\d+/x: cannot connect: TLS error \(\[SSL"
    with pytest.raises(SourceError, match=tls_error):
        client.get_json("/x")
    assert client.requests == 1 and time.monotonic() - started < 2.0


@pytest.fixture
def stalling_server() -> Iterator[tuple[str, list[int]]]:
    """A raw socket server that sends the headers and half the body, then stalls (until the
    client gives up); yields its URL and the number of connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        open_conns = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            conn.recv(65536)
            body = b'{"items": [1, 2, 3], "pad": "'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n" + body
            )
            open_conns.append(conn)  # kept open, never finished
        for conn in open_conns:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_body_that_stalls_mid_way_times_out_bounded_and_retried(
    stalling_server: tuple[str, list[int]],
) -> None:
    url, accepted = stalling_server
    client = HttpClient(url, timeout=0.5, connect_timeout=0.5, backoff=0.01, retries=1)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"/x: timed out \(ReadTimeout\) \(after 2 attempts\)"):
        client.get_json("/x")
    elapsed = time.monotonic() - started
    assert len(accepted) == 2 and elapsed < 3.0, (accepted, elapsed)


def test_stalled_body_falls_back_to_the_last_good_answer(
    stalling_server: tuple[str, list[int]], tmp_path: Path
) -> None:
    url, _ = stalling_server
    cache = ResponseCache(tmp_path / "cache")
    key = cache.key("GET", f"{url}/x", None, None)
    cache.put(key, f"{url}/x", {"items": [9]})
    client = HttpClient(url, timeout=0.3, connect_timeout=0.3, retries=0, cache=cache)
    assert client.get_json("/x") == {"items": [9]}
    assert client.served_from_cache


def test_unreadable_ca_bundle_names_it(httpserver: HTTPServer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(SourceError, match=f"ca_bundle {missing} cannot be used"):
        _client(httpserver, ca_bundle=str(missing)).get_json("/x")


def test_dbt_manifest_url_goes_through_the_shared_client(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Retried after a 503, gzip accepted, size cap applied: the dbt manifest URL too."""
    import gzip

    from impact_check.sources.artifacts import fetch_json

    body = gzip.compress(json.dumps({"metadata": {}, "nodes": {}}).encode())
    httpserver.expect_ordered_request("/m.json").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/m.json").respond_with_data(body)
    assert fetch_json(httpserver.url_for("/m.json"), tmp_path) == {"metadata": {}, "nodes": {}}
    httpserver.expect_request("/big.json").respond_with_data(b"[" + b"1," * 1000 + b"1]")
    with pytest.raises(SourceError, match="larger than 100 bytes"):
        fetch_json(httpserver.url_for("/big.json"), tmp_path, max_bytes=100)
