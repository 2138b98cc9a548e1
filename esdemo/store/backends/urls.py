"""Server URLs (``postgresql://user:password@host/db``): how to tell one from a file path, and how to show one.

Kept apart from the PostgreSQL backend so that checking or printing a URL
never needs the driver.
"""

from __future__ import annotations

import re

SERVER_URL_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(path: object) -> bool:
    """Whether ``path`` is a server URL (``postgresql://...``) rather than a file path."""
    return isinstance(path, str) and path.startswith(SERVER_URL_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages and ``repr``."""
    url = re.sub(r"^(postgres(?:ql)?://[^:/@?]*):[^@/?]+@", r"\1:***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)
