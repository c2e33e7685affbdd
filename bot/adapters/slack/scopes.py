"""The Slack bot scopes secbot needs, and why: one row per Web API method it calls.

The app manifest (``manifest.yml``) asks for exactly these, no more: an organisation's
Slack admins approve every scope, and a scope the code never uses is access nobody needs.
``tests/test_slack_scopes.py`` finds the Web API methods the code calls and fails when
one is missing here, when a row is no longer used, or when the manifest's scopes differ.
Scopes from Slack's method reference pages (api.slack.com/methods).

``im:write`` is not asked for, on purpose (checked against Slack's reference on
2026-12-04). Slack lists it for ``conversations.open`` (docs.slack.dev/reference/scopes/
im.write), which secbot never calls: a direct message is ``chat.postMessage`` with the
person's user id as the channel (``SlackTransport.direct_place``), which Slack delivers in
the app's messages tab (``manifest.yml`` has ``messages_tab_enabled``) and which needs only
``chat:write`` (docs.slack.dev/reference/scopes/chat.write lists chat.postMessage,
chat.postEphemeral and chat.update). If code ever calls ``conversations.open``, the test
fails until it has a row here, and the manifest must then ask for ``im:write``.
``tests/test_slack_scopes.py`` also sends a page to one person through a fake Slack that
refuses any method whose scope (from Slack's reference) the manifest lacks.
"""

from __future__ import annotations

# Web API method -> the bot scopes it needs as secbot calls it.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    # Posts in a channel, a thread, or a person's DM with the app (their user id as the
    # channel). chat:write.public lets tips and pages go to a channel the app was never
    # added to, where someone typed /tip subscribe or a routing file names it.
    "chat.postMessage": frozenset({"chat:write", "chat:write.public"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "users.info": frozenset({"users:read"}),  # names, not ids
    # A tip caught mid-post by a crash is looked for by its metadata in the channel's
    # history (bot/adapters/slack/history.py): public channels, then private ones. Without
    # them a tip in doubt is left unknown (at most once) rather than sent again.
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    # The incident room is always a private channel (is_private=True).
    "conversations.create": frozenset({"groups:write"}),
    "conversations.invite": frozenset({"groups:write"}),
    # files_upload_v2: the incident report as a file.
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    # A form as a modal (bot/adapters/slack/dialogs.py): no scope, the click's or
    # command's trigger_id is the permission.
    "views.open": frozenset(),
}

# Event subscription (manifest settings.event_subscriptions.bot_events) -> its scope.
EVENT_SCOPES: dict[str, str] = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    # Messages in private channels: files shared in an incident's room become evidence.
    "message.groups": "groups:history",
}

# Scopes used other than through a Web API method, and why.
OTHER_SCOPES: dict[str, str] = {
    # Fetching a shared file's url_private_download with the bot token, to hash it.
    "files:read": "download files shared in an incident room (SlackTransport.download)",
}

# Slash commands (manifest features.slash_commands) need this one.
COMMANDS_SCOPE = "commands"


def needed_scopes(methods: set[str], events: set[str], has_commands: bool) -> set[str]:
    """The bot scopes for calling ``methods``, hearing ``events`` and taking commands.
    A method or event with no row raises KeyError: add its row above, with the reason."""
    scopes = {scope for method in methods for scope in METHOD_SCOPES[method]}
    scopes |= {EVENT_SCOPES[event] for event in events}
    scopes |= set(OTHER_SCOPES)
    if has_commands:
        scopes.add(COMMANDS_SCOPE)
    return scopes
