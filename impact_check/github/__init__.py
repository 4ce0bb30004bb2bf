"""GitHub: the event payload, the REST client for the sticky comment, and `ci github`."""
