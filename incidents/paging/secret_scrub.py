"""Take secret values out of paging rows written before secrets were named by variable.

Each incident keeps a snapshot of its escalation chain, and each page the target it was
sent to, so a routing file that once held ``routing_key: <the key>`` left that key in
the database, in backups and in copies. At start-up such values are replaced by the
variable that now holds them (the current routing file's ``*_env`` for the same
target), or by a name that is never set, so a page to it fails and falls back and the
timeline says why. SQLite's ``secure_delete`` overwrites the old bytes, and a WAL
checkpoint clears them from the write-ahead log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from bot.storage.db import erasing
from bot.storage.sql import Db, execute
from incidents.paging.store.tables import paging_incidents, paging_outbox
from incidents.paging.targets import SETTING_REF, url_has_secret

log = logging.getLogger(__name__)

# The pre-*_env fields that held a secret, and the field that now names its variable.
LEGACY = {"pagerduty": ("routing_key", "routing_key_env"), "webhook": ("secret", "secret_env")}
REMOVED = "SECBOT_SECRET_REMOVED_SET_ROUTING_FILE"

_c, _o = paging_incidents.c, paging_outbox.c
# Rows whose JSON names a field that may hold a secret (the rest are left unread).
_MAY_HOLD = ('%"routing_key"%', '%"secret"%', '%"url"%')
_CHAINS = select(_c.incident_id, _c.chain).where(or_(*(_c.chain.like(p) for p in _MAY_HOLD)))
_PAGES = select(_o.id, _o.target_id, _o.target).where(or_(*(_o.target.like(p) for p in _MAY_HOLD)))
_SET_CHAIN = (
    update(paging_incidents)
    .where(_c.incident_id == bindparam("b_incident"))
    .values(chain=bindparam("b_chain"))
)
_SET_TARGET = (
    update(paging_outbox).where(_o.id == bindparam("b_page")).values(target=bindparam("b_target"))
)


def scrubbed(target: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    """``target`` without secret values, or None when it held none."""
    if not isinstance(target, dict):
        return None
    kind = target.get("type")
    out = dict(target)
    changed = False
    old, new = LEGACY.get(str(kind), (None, None))
    if old and new and old in out:
        value = out.pop(old)
        named = SETTING_REF.match(value.strip()) if isinstance(value, str) else None
        out[new] = named.group(1) if named else (current or {}).get(new) or REMOVED
        changed = True
    url = out.get("url")
    if kind == "webhook" and isinstance(url, str) and url_has_secret(url):
        out.pop("url")
        out["url_env"] = (current or {}).get("url_env") or REMOVED
        changed = True
    return out if changed else None


async def forget_secret_values(db: Db, targets: dict[str, dict[str, Any]]) -> int:
    """Scrub every stored chain and outbox target; returns how many rows changed.

    ``targets`` is the current routing file's targets (name → fields), used to find the
    variable that holds each secret now."""
    chain_updates = []
    for incident_id, text in (await execute(db, _CHAINS)).all():
        chain: dict[str, Any] = json.loads(str(text))
        changed = False
        for name, target in (chain.get("targets") or {}).items():
            clean = scrubbed(target, targets.get(name))
            if clean is not None:
                chain["targets"][name] = clean
                changed = True
        if changed:
            chain_updates.append({"b_incident": incident_id, "b_chain": json.dumps(chain)})
    page_updates = []
    for page_id, target_id, text in (await execute(db, _PAGES)).all():
        clean = scrubbed(json.loads(str(text)), targets.get(str(target_id)))
        if clean is not None:
            page_updates.append({"b_page": page_id, "b_target": json.dumps(clean)})
    if not chain_updates and not page_updates:
        return 0
    async with erasing(db):
        if chain_updates:
            await execute(db, _SET_CHAIN, chain_updates)
        if page_updates:
            await execute(db, _SET_TARGET, page_updates)
    count = len(chain_updates) + len(page_updates)
    log.warning("paging: removed secret values from %d stored chains and pages", count)
    return count
