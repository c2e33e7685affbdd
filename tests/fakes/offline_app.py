"""``python -m tests.fakes.offline_app``: secbot's own entry point (``python app.py``) for
tests that run the app as a process of its own with Teams on.

A bot with an app id fetches its outbound token for the Bot Connector from Entra ID
(login.microsoftonline.com, https only, so no local fake can stand in). No test may reach
the internet: as the ``no_entra_id`` fixture does in the test process, every token is
this one, which the fake Bot Connector accepts. Nothing else differs from ``app.py``.
"""

from __future__ import annotations

import sys

from botframework.connector.auth import MicrosoftAppCredentials

OUTBOUND_TEST_TOKEN = "outbound-test-token"


def _outbound_token(self, force_refresh: bool = False) -> str:
    return OUTBOUND_TEST_TOKEN


def main() -> int:
    MicrosoftAppCredentials.get_access_token = _outbound_token  # type: ignore[method-assign]
    from bot.cli import main as cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
