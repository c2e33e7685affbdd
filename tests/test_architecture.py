"""Handlers stay platform-neutral: only the front doors and renderers know Slack or Teams."""

from __future__ import annotations

from tests.layers import ROOT, imports_of

PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
# Platform adapters translate; they are the only place platform SDKs belong.
ALLOWED_DIRS = ("bot/adapters/",)
ALLOWED = {"bot/render/slack.py", "bot/render/slack_modal.py", "app.py"}


def test_features_and_core_never_import_platform_libraries():
    files = [ROOT / "app.py"]
    for package in ("bot", "content", "incidents"):
        files += sorted((ROOT / package).rglob("*.py"))
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        if str(path.relative_to(ROOT)) not in ALLOWED
        and not str(path.relative_to(ROOT)).startswith(ALLOWED_DIRS)
        for name in imports_of(path)
        if name.split(".")[0] in PLATFORM_LIBRARIES
    ]
    assert offenders == []
