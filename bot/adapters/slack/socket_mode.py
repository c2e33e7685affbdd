"""Slack Socket Mode: connect at start-up, refusing clearly when Slack says no."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.settings import ConfigError, Settings

log = logging.getLogger("secbot")

SOCKET_MODE_CONNECT_SECONDS = 30


def socket_mode_ctx(slack_app, settings: Settings, client):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
        from slack_sdk.errors import SlackApiError

        handler = AsyncSocketModeHandler(slack_app, settings.slack_app_token, web_client=client)
        try:
            # Ask for the websocket URL ourselves: slack_sdk would retry a refused token
            # for ever, and start-up would hang logging tracebacks.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
            await asyncio.wait_for(handler.connect_async(), SOCKET_MODE_CONNECT_SECONDS)
        except SlackApiError as e:
            await handler.close_async()
            error = e.response.get("error", "an error") if e.response is not None else "an error"
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by Slack ({error}): check the app-level token "
                "and that Socket Mode is on for the app"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as e:
            await handler.close_async()
            raise ConfigError(
                f"Slack Socket Mode can't connect ({type(e).__name__}): check that this "
                f"machine can reach {settings.slack_api_url} and Slack's websocket servers"
            ) from None
        log.info("Slack Socket Mode connected")
        yield
        await handler.close_async()

    return ctx
