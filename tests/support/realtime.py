"""Reading a realtime client (hearth.realtime.hub.Client) as its stream does, in tests that hold
one directly."""

from __future__ import annotations

from hearth.realtime.hub import Client


async def next_chunk(client: Client) -> bytes | None:
    """What the client's stream would write next, or None once it is closed."""
    while not client.closed:
        chunk = client.take()
        if chunk is not None:
            return chunk
        await client.wait()
    return None
