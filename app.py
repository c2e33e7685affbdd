"""secbot's entry point: ``python app.py`` runs the server built in :mod:`bot.server`
(``python app.py db upgrade`` and the other ``secbot`` commands work too: :mod:`bot.cli`).

``create_app``, ``SERVICES``, ``FRONT_DOORS``, ``main`` and ``serve`` are importable from
here, as tests and the bench expect.
"""

from __future__ import annotations

import sys

from bot.server import FRONT_DOORS, SERVICES, create_app, main, serve, settle_memory

__all__ = ["FRONT_DOORS", "SERVICES", "create_app", "main", "serve", "settle_memory"]

if __name__ == "__main__":
    from bot.cli import main as cli

    sys.exit(cli())
