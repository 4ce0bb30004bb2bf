"""A small GitHub REST client (httpx) for issue comments; works against GHES via the API URL.

Errors are GitHubError with the status code; the token is sent in a header and never
appears in messages.
"""

from __future__ import annotations

from typing import Any

import httpx

from impact_check.errors import SourceError


class GitHubError(SourceError):
    """A GitHub API call failed."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubClient:
    """Just the endpoints the sticky comment needs."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repository = repository
        self._secret = token
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "impact-check",
            },
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as err:
            raise GitHubError(f"GitHub API {method} {url}: {type(err).__name__}") from err
        if response.status_code >= 400:
            # A server (or a proxy) may echo the request back: never repeat the token.
            detail = _message(response)
            if self._secret:
                detail = detail.replace(self._secret, "***")
            raise GitHubError(
                f"GitHub API {method} {url}: HTTP {response.status_code} {detail}",
                response.status_code,
            )
        return response

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of an issue or pull request, following pagination links."""
        url: str | None = f"/repos/{self.repository}/issues/{number}/comments?per_page=100"
        comments: list[dict[str, Any]] = []
        for _ in range(100):  # at most 10,000 comments
            if url is None:
                break
            response = self._call("GET", url)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(f"GitHub API GET {url}: expected a list of comments")
            comments += page
            url = response.links.get("next", {}).get("url")
        return comments

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        url = f"/repos/{self.repository}/issues/{number}/comments"
        return dict(self._call("POST", url, json={"body": body}).json())

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        url = f"/repos/{self.repository}/issues/comments/{comment_id}"
        return dict(self._call("PATCH", url, json={"body": body}).json())


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("message", ""))[:200] if isinstance(data, dict) else ""
