"""Download an OAuth2 user's picture into a file field (`oauth2.mappedFields.avatarURL`), as
PocketBase does: at most 10 s and 32 MiB, only from public addresses.

The address check is made on the connection the response actually came from (after DNS, so a
name that resolves to a private address — DNS rebinding included — is refused before the body
is read), on every redirect hop. A failed download is logged and the account is created without
the picture, never failed.
"""

from __future__ import annotations

import logging
import tempfile
from urllib.parse import urljoin, urlsplit

import httpx

from hearth._util import netguard
from hearth.files.upload import Upload

log = logging.getLogger("hearth.oauth2")

TIMEOUT = 10.0
MAX_SIZE = 32 << 20  # PocketBase's default body limit
MAX_REDIRECTS = 5
SPOOL_SIZE = 1 << 20


class AvatarRefused(Exception):
    pass


def _peer(response: httpx.Response) -> str:
    stream = response.extensions.get("network_stream")
    addr = stream.get_extra_info("server_addr") if stream is not None else None
    return str(addr[0]) if addr else ""


async def fetch_avatar(url: str, allow_private: bool = False) -> Upload | None:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            return await _fetch(client, url, allow_private)
    except (httpx.HTTPError, AvatarRefused, OSError, ValueError) as exc:
        log.warning("oauth2: the avatar %s was not downloaded: %s", url[:200], exc)
        return None


async def _fetch(client: httpx.AsyncClient, url: str, allow_private: bool) -> Upload | None:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if urlsplit(current).scheme not in ("http", "https"):
            raise AvatarRefused("only http and https URLs are fetched")
        async with client.stream("GET", current) as response:
            if not allow_private and not netguard.public(_peer(response)):
                raise AvatarRefused("the address is not public")
            if response.is_redirect and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
                continue
            if not 200 <= response.status_code <= 399:
                raise AvatarRefused(f"status {response.status_code}")
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_SIZE:
                    spool.close()
                    raise AvatarRefused(f"larger than {MAX_SIZE} bytes")
                spool.write(chunk)
            if size == 0:
                spool.close()
                raise AvatarRefused("empty")
            name = url.rstrip("/").rsplit("/", 1)[-1] or "avatar"
            return Upload.from_file(name, size, spool)
    raise AvatarRefused("too many redirects")
