"""PagerDuty Events API v2: trigger, acknowledge and resolve, one alert per incident."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp

from incidents.paging import wording
from incidents.paging.model import severity_label
from incidents.paging.providers.base import (
    MissingSetting,
    PageRequest,
    Provider,
    ProviderResult,
    http_post,
    http_result,
    network_detail,
)

PD_SEVERITY = {1: "critical", 2: "error", 3: "warning", 4: "info"}


def dedup_key(incident_id: str) -> str:
    """PagerDuty allows 255 characters; a longer id is hashed (still stable)."""
    if len(incident_id) <= 255:
        return incident_id
    return "secbot-" + hashlib.sha256(incident_id.encode()).hexdigest()


class PagerDutyProvider(Provider):
    kind = "pagerduty"
    label = "PagerDuty"
    actions = frozenset({"trigger", "acknowledge", "resolve"})

    def event(self, page: PageRequest, routing_key: str) -> dict[str, Any]:
        info = page.incident.inert()
        body: dict[str, Any] = {
            "routing_key": routing_key,
            "event_action": page.action,
            "dedup_key": dedup_key(info.id),
        }
        if page.action == "trigger":
            body["payload"] = {
                "summary": wording.one_line(
                    wording.title(info) + ": " + wording.summary(info, 900),
                    wording.PAGERDUTY_SUMMARY_LIMIT,
                ),
                "source": wording.one_line(f"{info.platform}:{info.account}", 255),
                "severity": PD_SEVERITY.get(min(4, max(1, info.severity)), "critical"),
                "timestamp": page.now.isoformat(),
                "component": info.account,
                "group": wording.one_line(info.department or "unassigned", 255),
                "class": "social media account incident",
                "custom_details": {
                    "incident_id": info.id,
                    "summary": info.summary,
                    "severity": severity_label(info.severity),
                    "platform": info.platform,
                    "account": info.account,
                    "department": info.department,
                    "drill": info.drill,
                    "reported_by": info.reporter,
                    "escalation_step": page.step,
                    "escalation_round": page.round,
                },
            }
            body["client"] = "secbot"
        return body

    async def send(self, page: PageRequest) -> ProviderResult:
        t = page.target
        try:
            key = self.ctx.secret(t.routing_key_env)
        except MissingSetting as e:
            return ProviderResult(False, False, f"PagerDuty routing key: {e}")
        base = (t.base_url or self.ctx.settings.pagerduty_url).rstrip("/")
        data = json.dumps(self.event(page, key)).encode()
        try:
            status, text, retry_after = await http_post(
                self.ctx, f"{base}/v2/enqueue", data, {"Content-Type": "application/json"}
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return ProviderResult(False, True, f"PagerDuty: {network_detail(e)}")
        return http_result("PagerDuty", status, text, retry_after)
