"""The signing key cache on its own: background refresh, rotation, failure, old age.

The front door's use of it is tested over HTTP in test_teams_auth.py; these drive
:class:`SigningKeys` against the fake login service with short intervals, because the
real ones are a day (refresh) and five days (the oldest key set still trusted).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.adapters.teams.auth import KeysUnavailable, SigningKeys, TokenRejected
from tests.fakes.botframework import KID, published_jwk
from tests.support import eventually

ROTATED = published_jwk(
    rsa.generate_private_key(public_exponent=65537, key_size=2048), "new", ["msteams"]
)


@pytest.fixture
async def keys_running():
    started = []

    async def start(keys: SigningKeys) -> SigningKeys:
        ctx = keys.run()
        await ctx.__anext__()
        started.append(ctx)
        return keys

    yield start
    for ctx in started:
        await ctx.aclose()


async def test_keys_are_refreshed_in_the_background(botframework, keys_running):
    keys = await keys_running(
        SigningKeys(botframework.metadata_url, refresh_every=0.05, unknown_key_refresh=3600)
    )
    assert (await keys.find(KID)).endorsements >= {"msteams"}
    botframework.keys.append(ROTATED)  # Microsoft publishes its next key
    fetched = botframework.fetches()
    await eventually(lambda: botframework.fetches() > fetched + 1)
    # Found without an on-demand fetch (those are an hour apart here): the worker did it.
    assert (await keys.find("new")).endorsements == {"msteams"}


async def test_an_unknown_key_prompts_one_rate_limited_look(botframework, keys_running):
    keys = await keys_running(SigningKeys(botframework.metadata_url, unknown_key_refresh=0))
    await keys.find(KID)
    botframework.keys.append(ROTATED)
    assert (await keys.find("new")).endorsements == {"msteams"}

    patient = await keys_running(SigningKeys(botframework.metadata_url, unknown_key_refresh=3600))
    await patient.find(KID)
    fetched = botframework.fetches()
    with pytest.raises(TokenRejected):
        await patient.find("made-up")
    assert botframework.fetches() == fetched


async def test_a_failed_refresh_keeps_the_keys_until_they_are_too_old(botframework, keys_running):
    keys = await keys_running(
        SigningKeys(botframework.metadata_url, retry_after=0.05, unknown_key_refresh=0, max_age=0.5)
    )
    await keys.find(KID)
    botframework.fail_status = 500
    await keys.refresh()
    assert await keys.find(KID)  # the endpoint failing doesn't throw away good keys

    async def usable() -> bool:
        try:
            return bool(await keys.find(KID))
        except KeysUnavailable:
            return False

    await eventually(lambda: _not(usable()))  # until the kept set is older than max_age
    botframework.fail_status = None
    await eventually(usable)  # and the endpoint coming back (after retry_after) heals it


async def _not(result) -> bool:
    return not await result


async def test_a_key_set_with_nothing_usable_counts_as_a_failure(botframework, keys_running):
    botframework.keys = [{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, "junk", {}]
    keys = await keys_running(SigningKeys(botframework.metadata_url, retry_after=3600))
    with pytest.raises(KeysUnavailable):
        await keys.find(KID)
