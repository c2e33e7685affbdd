"""Builds the Teams app package: the manifest with the bot's id filled in, plus two icons."""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from importlib import resources

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def teams_manifest(app_id: str, host: str | None = None) -> dict:
    base = resources.files("bot").joinpath("teams_app")
    manifest = json.loads(base.joinpath("manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    for extension in manifest.get("composeExtensions", []):
        extension["botId"] = app_id  # the message action "Add to incident timeline"
    if host:
        manifest["validDomains"] = [host]
        for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
            manifest["developer"][key] = manifest["developer"][key].replace(
                "secbot.example.gov.uk", host
            )
    return manifest


def write_teams_package(app_id: str | None, out: str, host: str | None = None) -> int:
    app_id = app_id or os.environ.get("MICROSOFT_APP_ID", "")
    if not GUID.match(app_id or ""):
        print(
            "secbot teams-package: give the bot's Microsoft App ID (a GUID) with --app-id "
            "or MICROSOFT_APP_ID",
            file=sys.stderr,
        )
        return 2
    base = resources.files("bot").joinpath("teams_app")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(teams_manifest(app_id, host), indent=2))
        for icon in ("color.png", "outline.png"):
            zf.writestr(icon, base.joinpath(icon).read_bytes())
    print(f"Wrote {out}: upload it in Teams (Apps → Manage your apps → Upload an app).")
    return 0
