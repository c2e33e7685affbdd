"""``resume``: an admin starts delivery again to a workspace the platform had refused.

See ``bot/core/workspace_pause.py`` for why a workspace is paused. Resuming is a person's
decision because only they know the app's installation or token has been fixed.
"""

from __future__ import annotations

from bot import audit
from bot.core import Turn
from bot.core.features import FeatureHost
from bot.core.hints import typed
from bot.core.model import Message, Section
from bot.core.workspace_pause import PLATFORM_NAMES, Pause


def _private(text: str) -> Message:
    return Message(text=text, blocks=(Section(text),), private=True)


def _typed(turn: Turn, rest: str) -> str:
    return typed(turn.place, rest, slack_command="secbot")


def _listing(turn: Turn, paused: list[Pause]) -> str:
    tz = turn.services.settings.tz
    lines = [
        f"{p.where}: paused since {p.since.astimezone(tz):%-d %b %Y %H:%M} ({p.reason}). "
        f"To resume: {_typed(turn, f'resume {p.platform} {p.workspace}')}"
        for p in paused
    ]
    return "\n".join(lines)


async def resume(turn: Turn) -> None:
    pauses = turn.services.workspaces
    paused = pauses.all() if pauses is not None else []
    words = turn.args.split()
    if len(words) == 2 and words[0].lower() in PLATFORM_NAMES:
        platform, workspace = words[0].lower(), words[1]
    elif not words:
        platform, workspace = turn.place.platform, turn.place.workspace
    else:
        await turn.reply(
            _private(
                f"Type {_typed(turn, 'resume')} for this workspace, or name one: "
                f"{_typed(turn, 'resume teams <tenant id>')}."
            )
        )
        return
    if pauses is not None and await pauses.resume(platform, workspace):
        where = Pause(platform, workspace, "", turn.services.clock.now()).where
        await audit.record(turn, "resumed delivery to a workspace", f"the {where}")
        await turn.reply(
            _private(
                f"Delivery to the {where} is on again. If the platform still refuses secbot, "
                "it pauses again and admins are told."
            )
        )
        return
    if paused:
        await turn.reply(_private("That isn't paused. Paused now:\n" + _listing(turn, paused)))
    else:
        await turn.reply(_private("Delivery isn't paused anywhere."))


def setup(host: FeatureHost) -> None:
    host.registry.add_command(
        "resume",
        "Admins: start delivery again to a workspace that refused secbot",
        resume,
        aliases=("resume-workspace",),
        usage="resume [platform workspace]",
        hidden=True,
        admin_only=True,
        refusal=(
            "Only secbot admins can resume delivery to a workspace, because they can "
            "check the app's installation first. Please ask one of your secbot admins."
        ),
    )
