"""One sticky comment per workflow job, found by its hidden marker and updated in place."""

from __future__ import annotations

from collections.abc import Callable

from impact_check.github.client import GitHubClient, GitHubError

LADDER = (65_000, 30_000, 10_000, 2_000)


def upsert(
    client: GitHubClient, number: int, marker: str, render: Callable[[int], str]
) -> tuple[str, int]:
    """Create or update the comment holding ``marker``; ("created"|"updated", comment id).

    ``render(limit)`` gives a body under ``limit`` characters; when GitHub still refuses the
    body as too long (422), the next rung of the ladder is tried.
    """
    existing = next(
        (c for c in client.issue_comments(number) if marker in str(c.get("body", ""))), None
    )
    last: GitHubError | None = None
    for limit in LADDER:
        body = render(limit)
        try:
            if existing is not None:
                return "updated", int(client.update_comment(int(existing["id"]), body)["id"])
            return "created", int(client.create_comment(number, body)["id"])
        except GitHubError as err:
            if err.status != 422:
                raise
            last = err
    assert last is not None
    raise last
