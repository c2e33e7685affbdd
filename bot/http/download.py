"""Reading a file from a platform over HTTP without reading more than we mean to."""

from __future__ import annotations

import aiohttp

from bot.core import DeliveryFailed

CHUNK = 64 * 1024


async def read_at_most(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over ``limit`` bytes."""
    if resp.content_length is not None and resp.content_length > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_chunked(CHUNK):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_at_most(
    session: aiohttp.ClientSession | None, url: str, limit: int, headers: dict | None = None
) -> bytes | None:
    """GET ``url`` (no redirects: a redirect could carry a token elsewhere), reading at
    most ``limit`` bytes (None when it is bigger). DeliveryFailed when it can't be had."""
    own = session is None
    live = aiohttp.ClientSession() if session is None else session
    try:
        timeout = aiohttp.ClientTimeout(total=60)
        async with live.get(
            url, headers=headers or {}, timeout=timeout, allow_redirects=False
        ) as resp:
            if resp.status != 200:
                raise DeliveryFailed(f"http_{resp.status}", permanent=resp.status < 500)
            return await read_at_most(resp, limit)
    except aiohttp.ClientError as e:
        raise DeliveryFailed(type(e).__name__) from None
    finally:
        if own:
            await live.close()
