"""Fetch dbt artifacts (manifest.json, catalog.json) from a path or an http(s) URL.

A source of the edge: the only place the dbt support does I/O (the project layer only reads
what it is handed). A URL is fetched with httpx and an
optional bearer token read from the environment variable the config names (never logged).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from impact_check.errors import SourceError
from impact_check.safeload import LimitExceeded, load_json


def _short(err: Exception) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


def fetch_json(
    location: str,
    root: Path,
    token_env: str | None = None,
    timeout: float = 30.0,
    max_bytes: int = 500_000_000,
) -> dict[str, Any]:
    """The JSON document at ``location`` (relative paths are taken from ``root``)."""
    if location.startswith(("http://", "https://")):
        return _fetch_url(location, token_env, timeout, max_bytes)
    path = Path(location) if Path(location).is_absolute() else root / location
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                f"{path}: {size:,} bytes, over limits.max_response_bytes ({max_bytes:,})"
            )
        raw = path.read_bytes()
    except OSError as err:
        raise SourceError(f"cannot read {path}: {err.strerror}") from err
    return _decode(raw, str(path))


def _fetch_url(url: str, token_env: str | None, timeout: float, max_bytes: int) -> dict[str, Any]:
    """Through the sources' shared client: timeouts, retries, size cap, redacted token."""
    from impact_check.sources.http import Auth, HttpClient

    with HttpClient(
        url, auth=Auth(token_env=token_env), timeout=timeout, max_bytes=max_bytes
    ) as client:
        return _decode(client.get_bytes(url), url)


def _decode(raw: bytes, name: str) -> dict[str, Any]:
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = load_json(raw)
    except LimitExceeded as err:
        raise SourceError(f"{name}: {err}") from err
    except (OSError, ValueError, EOFError) as err:
        raise SourceError(f"{name}: not valid JSON ({_short(err)})") from err
    if not isinstance(data, dict):
        raise SourceError(f"{name}: not a JSON object")
    return data


def read_json(path: Path) -> dict[str, Any]:
    """A (possibly gzipped) JSON artifact on disk; errors name the file."""
    return fetch_json(str(path), path.parent)
