"""What the triggering event says: revisions to compare, the pull request, labels, forks.

Read from ``$GITHUB_EVENT_PATH`` (never from ``${{ }}`` expressions in a script), and
validated with pydantic: a malformed payload is a clear error naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from impact_check.errors import UsageError
from impact_check.safeload import load_json

ZERO_SHA = "0" * 40


class PullRequest(BaseModel):
    number: int
    base_sha: str
    head_sha: str
    head_repo: str | None
    base_repo: str | None
    labels: list[str]

    @property
    def from_fork(self) -> bool:
        return self.head_repo is not None and self.head_repo != self.base_repo


class Event(BaseModel):
    """The parts of an event the check uses."""

    name: str
    base: str | None  # None: let the checker pick the default (merge-base)
    head: str | None
    repository: str | None
    pull_request: PullRequest | None = None
    sender: str | None = None
    label: str | None = None  # the label just added (pull_request labeled)


def load_event(name: str, path: Path) -> Event:
    """Parse ``path`` as an event of type ``name`` (pull_request, push, merge_group, …)."""
    try:
        data = load_json(path.read_bytes())
    except OSError as err:
        raise UsageError(f"cannot read the event payload {path}: {err.strerror}") from err
    except ValueError as err:  # not JSON, not UTF-8/16/32, or nested too deeply
        first = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise UsageError(f"cannot read the event payload {path}: {first}") from err
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the event payload is not a JSON object")
    try:
        return _event(name, data)
    except (KeyError, TypeError, AttributeError, ValidationError) as err:
        raise UsageError(
            f"{path}: unexpected {name} payload ({type(err).__name__}: {err})"
        ) from err


def _event(name: str, data: dict[str, Any]) -> Event:
    repo = (data.get("repository") or {}).get("full_name")
    sender = (data.get("sender") or {}).get("login")
    if name in ("pull_request", "pull_request_target") and "pull_request" in data:
        pr = data["pull_request"]
        pull = PullRequest(
            number=pr["number"],
            base_sha=pr["base"]["sha"],
            head_sha=pr["head"]["sha"],
            head_repo=((pr["head"].get("repo") or {}).get("full_name")),
            base_repo=((pr["base"].get("repo") or {}).get("full_name")) or repo,
            labels=[label["name"] for label in pr.get("labels") or []],
        )
        label = (data.get("label") or {}).get("name")
        return Event(
            name=name,
            base=pull.base_sha,
            head=pull.head_sha,
            repository=repo,
            pull_request=pull,
            sender=sender,
            label=label,
        )
    if name == "merge_group":
        group = data["merge_group"]
        return Event(
            name=name,
            base=group["base_sha"],
            head=group["head_sha"],
            repository=repo,
            sender=sender,
        )
    if name == "push":
        before = data.get("before")
        base = None if not before or before == ZERO_SHA else before
        return Event(name=name, base=base, head=data.get("after"), repository=repo, sender=sender)
    return Event(name=name, base=None, head=None, repository=repo, sender=sender)
