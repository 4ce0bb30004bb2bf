"""Fault cases every networked lineage source is tested with, on a real local HTTP server.

``serve_fault(server, path, fault)`` makes ``path`` answer with the fault; ``FAULT_TEXT``
is what the source's detail must then say (besides the URL). The same cases as the
Marquez and DataHub tests: 401/403/404, 5xx, a timeout, a truncated body, a non-JSON
(HTML) body and a body over the size cap.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.sources.base import FragmentNode, GraphFragment

FAULT_TEXT = {
    "401": "unauthorized",
    "403": "forbidden",
    "404": "not found",
    "500": "HTTP 500",
    "503": "HTTP 503",
    "timeout": "timed out",
    "truncated": "not JSON",
    "html": "not JSON (text/html",
    "oversized": "larger than",
}
FAULTS = sorted(FAULT_TEXT)
SLOW_SECONDS = 1.2  # with a source timeout of 0.4 s
CAP_BYTES = 100_000  # options.max_response_bytes in the fault tests


def _slow(request: Request) -> Response:
    time.sleep(SLOW_SECONDS)
    return Response("{}", content_type="application/json")


def serve_fault(server: HTTPServer, path: str, fault: str, method: str = "GET") -> None:
    """Make ``path`` answer every request with ``fault``."""
    expect = server.expect_request(path, method=method)
    if fault in ("401", "403", "404", "500", "503"):
        expect.respond_with_data("refused", status=int(fault))
    elif fault == "timeout":
        expect.respond_with_handler(_slow)
    elif fault == "truncated":
        expect.respond_with_data(b'{"items": [{"name": "ord', content_type="application/json")
    elif fault == "html":
        expect.respond_with_data("<html><body>Sign in</body></html>", content_type="text/html")
    elif fault == "oversized":
        body = b'{"items": [' + b'{"name": "x"},' * (CAP_BYTES // 10) + b'{"name": "x"}]}'
        expect.respond_with_data(body, content_type="application/json")
    else:  # pragma: no cover - a typo in a test
        raise ValueError(fault)


def busy_once(server: HTTPServer, path: str, method: str = "GET") -> None:
    """``path`` answers its next request 429 with ``Retry-After: 0``, then as before
    (pytest-httpserver tries one-shot handlers before permanent ones)."""
    server.expect_oneshot_request(path, method=method).respond_with_data(
        "rate limited", status=429, headers={"Retry-After": "0"}
    )


def after_fault(server: HTTPServer, fault: str) -> None:
    """Let the single-threaded test server finish its slow handlers before the next test:
    requests are served in order, so once a ping is answered the queue is empty."""
    if fault != "timeout":
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(server.url_for("/__drained"), timeout=SLOW_SECONDS * 2)
            return
        except httpx.HTTPError:
            continue


def fault_options() -> dict[str, Any]:
    """Source options for the fault tests: no retries, small size cap, short timeouts."""
    return {"retries": 0, "backoff": 0.01, "connect_timeout": 1.0, "max_response_bytes": CAP_BYTES}


def recorded(folder: Path, name: str) -> Any:
    """The ``response`` of a recorded or SYNTHETIC payload file."""
    return json.loads((folder / name).read_text())["response"]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def edges(fragment: GraphFragment) -> set[tuple[str, str, str]]:
    """A fragment's edges as (source, destination, kind)."""
    return {(e.src, e.dst, e.kind) for e in fragment.edges}


def node(fragment: GraphFragment, node_id: str) -> FragmentNode:
    """The fragment's (first) node with this id."""
    return next(n for n in fragment.nodes if n.id == node_id)
