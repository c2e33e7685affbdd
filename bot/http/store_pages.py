"""The privacy notice and terms of use the app store listings link to.

The Teams manifest's ``privacyUrl`` and ``termsOfUseUrl`` point at ``/privacy`` and
``/terms`` on secbot's own host, so an organisation that deploys secbot has both pages
without writing a website. They are plain HTML (no script, no styles), filled in once at
start-up with the organisation's name (``SECBOT_ORGANISATION``, escaped) and the
retention periods actually configured, so the notice says what this deployment does.
"""

from __future__ import annotations

import html
from datetime import timedelta
from functools import partial
from importlib import resources
from string import Template

from aiohttp import web

from bot.settings import Settings

# Nothing on these pages runs or loads: no scripts, styles, frames or forms.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# URL path -> the page in bot/static.
PAGES = {"/privacy": "privacy.html", "/terms": "terms.html"}
NO_NAME = "your organisation"


def _days(value: float) -> str:
    return f"{value:g}"


def _period(value: timedelta) -> str:
    """A retention period as people read it: "365 days", "12 hours"."""
    hours = value.total_seconds() / 3600
    if hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def page_text(filename: str, settings: Settings) -> str:
    template = resources.files("bot").joinpath("static", filename).read_text(encoding="utf-8")
    return Template(template).substitute(
        organisation=html.escape(settings.organisation or NO_NAME),
        webchat_days=_days(settings.webchat_retention_days),
        inbox_days=_days(settings.inbox_retention_days),
        quiz_period=_period(settings.keep_quiz_answers),
        incident_period=_period(settings.keep_closed_incidents),
    )


async def _serve(body: str, request: web.Request) -> web.Response:
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers=HEADERS)


def store_page_routes(settings: Settings) -> list[web.RouteDef]:
    """Served whichever front doors are on: a store listing links here in any case."""
    return [
        web.get(path, partial(_serve, page_text(filename, settings)))
        for path, filename in PAGES.items()
    ]
