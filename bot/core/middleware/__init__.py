"""Rules every feature needs, as middleware around the neutral router.

``async def mw(turn, call_next)`` may refuse a turn, or ``await call_next(turn)`` to pass
it on. The router runs them in this order, outermost first:

1. :mod:`.correlation`: a correlation id for the delivery, carried into every log line;
2. :mod:`.dedup`: a repeated delivery (same ``delivery_id``) is dropped, once for all
   front doors;
3. :mod:`.errors`: anything a handler lets escape becomes one friendly private apology;
4. :mod:`.allow_list`: workspaces and tenants not on the allow-lists are refused;
5. :mod:`.permissions`: a command declared ``admin_only`` refuses anyone else.

Adapters only translate; none of them de-duplicates or checks permissions itself.
"""

from bot.core.middleware.allow_list import allow_list
from bot.core.middleware.correlation import correlate
from bot.core.middleware.dedup import deduplicate
from bot.core.middleware.errors import friendly_errors
from bot.core.middleware.permissions import permissions

__all__ = ["allow_list", "correlate", "deduplicate", "friendly_errors", "permissions"]
