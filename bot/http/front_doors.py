"""The start-up summary of secbot's front doors: which are open and who they trust.

One line per door, so whoever reads the log of a deployment sees at once whether
something is open with no sign-in, and what would turn an off door on.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.settings import Settings


def door_lines(
    settings: Settings, doors: dict[str, bool], webhooks: Iterable[str] = ()
) -> list[str]:
    dev = "development mode, " if settings.dev_mode else ""
    lines = [f"mode: {'development' if settings.dev_mode else 'production'}"]

    if doors.get("slack_http"):
        lines.append("slack_http: on, Slack signing secret")
    else:
        lines.append("slack_http: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
    if doors.get("slack_socket_mode"):
        lines.append("slack_socket_mode: on, Slack app-level token")
    else:
        lines.append("slack_socket_mode: off (set SLACK_APP_TOKEN)")

    if not doors.get("teams"):
        lines.append("teams: off (set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD)")
    elif settings.teams_authenticated:
        lines.append("teams: on, Bot Framework token for MICROSOFT_APP_ID")
    else:
        lines.append(f"teams: on, {dev}no sign-in, loopback serviceUrls only (Emulator)")

    if not doors.get("webchat"):
        if settings.webchat_mode == "off":
            lines.append("webchat: off (SECBOT_WEBCHAT=off)")
        else:
            lines.append("webchat: off (set SECBOT_WEBCHAT_USERS_FILE, or SECBOT_MODE=development)")
    elif settings.webchat_authenticated:
        count = len(settings.webchat_users)
        people = "person" if count == 1 else "people"
        lines.append(f"webchat: on, {dev}shared secret per user ({count} {people})")
    else:
        lines.append(f"webchat: on, {dev}no sign-in")

    paths = sorted(webhooks)
    if paths:
        lines.append(f"webhooks: {', '.join(paths)}, each checks its caller's signature")

    where = f"port {settings.metrics_port}" if settings.metrics_port else "PORT"
    if settings.metrics_token:
        lines.append(f"metrics: on {where}, bearer token (SECBOT_METRICS_TOKEN)")
    else:
        lines.append(f"metrics: on {where}, no sign-in (set SECBOT_METRICS_TOKEN to require one)")

    hosts = settings.host_allow_list
    if hosts:
        lines.append(f"hosts: answers only to Host {', '.join(hosts)}")
    else:
        lines.append("hosts: any Host header (set SECBOT_ALLOWED_HOSTS to limit it)")
    return lines
