"""Incident and paging settings: reporting limits, incident rooms and the paging providers."""

from __future__ import annotations

from pydantic import field_validator

from bot.settings.base import SettingsGroup, http_url, setting


class IncidentSettings(SettingsGroup):
    department: str | None = setting(
        "SECBOT_DEPARTMENT", None,
        "The department used for routing when a report gives no dept=.",
        group="Incidents",
    )
    incident_channels: bool = setting(
        "SECBOT_INCIDENT_CHANNELS", False,
        "Create a private Slack channel per incident (else a thread under the card).",
        group="Incidents",
    )
    incident_max_open_triage: int = setting(
        "SECBOT_INCIDENT_MAX_OPEN_TRIAGE", 3,
        "Incidents one person may have waiting for triage at once.",
        group="Incidents", ge=1, le=100,
    )
    incident_max_per_user_hour: int = setting(
        "SECBOT_INCIDENT_MAX_PER_USER_HOUR", 5, "Incidents one person may start in an hour.",
        group="Incidents", ge=1, le=1000,
    )
    incident_max_per_workspace_hour: int = setting(
        "SECBOT_INCIDENT_MAX_PER_WORKSPACE_HOUR", 20,
        "Incidents one workspace or tenant may start in an hour.",
        group="Incidents", ge=1, le=10_000,
    )
    status_reminder_minutes_sev1: int = setting(
        "SECBOT_STATUS_REMINDER_MINUTES_SEV1", 30,
        "Minutes between reminders to the commander to post an update, for a severity 1"
        " incident (from acknowledgement until it reaches monitoring).",
        group="Incidents", ge=1, le=24 * 60,
    )
    status_reminder_minutes: int = setting(
        "SECBOT_STATUS_REMINDER_MINUTES", 60,
        "Minutes between reminders to the commander to post an update, for severity 2 to 4.",
        group="Incidents", ge=1, le=24 * 60,
    )
    stakeholder_channel: str | None = setting(
        "SECBOT_STAKEHOLDER_CHANNEL", None,
        "Where status updates are also posted, on the incident's own platform: a Slack"
        " channel id, a Teams conversation id or a web chat room (unset: the incident"
        " room only).",
        group="Incidents",
    )


class PagingSettings(SettingsGroup):
    routing: str | None = setting(
        "SECBOT_ROUTING", None,
        "The paging routing file (teams, targets, rules); unset: the shipped example,"
        " which only warns about missing secrets.",
        group="Paging",
    )
    paging_max_attempts: int = setting(
        "SECBOT_PAGING_MAX_ATTEMPTS", 4, "Tries of one page before it counts as failed.",
        group="Paging", ge=1, le=20,
    )
    paging_retry_seconds: float = setting(
        "SECBOT_PAGING_RETRY_SECONDS", 10.0,
        "Seconds before a failed page is tried again (doubling each time).",
        group="Paging", ge=0.1, le=600,
    )
    pagerduty_url: str = setting(
        "SECBOT_PAGERDUTY_URL", "https://events.pagerduty.com",
        "Base URL of PagerDuty's Events API (tests point it at a fake).",
        group="Paging",
    )
    pagerduty_webhook_secrets: str | None = setting(
        "SECBOT_PAGERDUTY_WEBHOOK_SECRETS", None,
        "The signing secrets of your PagerDuty V3 webhook subscriptions, separated by"
        " commas (old and new during a rotation); unset: /webhooks/pagerduty refuses"
        " every call (401).",
        group="Paging", secret=True,
    )
    paging_callback_secrets: str | None = setting(
        "SECBOT_PAGING_CALLBACK_SECRETS", None,
        "The secrets other paging tools sign their calls to /webhooks/paging with"
        " (X-Secbot-Signature), separated by commas (old and new during a rotation);"
        " unset: every call is refused (401).",
        group="Paging", secret=True,
    )
    notify_url: str = setting(
        "SECBOT_NOTIFY_URL", "https://api.notifications.service.gov.uk",
        "Base URL of the GOV.UK Notify API (tests point it at a fake).",
        group="Paging",
    )
    notify_api_key: str | None = setting(
        "SECBOT_NOTIFY_API_KEY", None,
        "The GOV.UK Notify API key for text and email pages (a target may name another"
        " variable with api_key_env).",
        group="Paging", secret=True,
    )
    smtp_host: str | None = setting(
        "SECBOT_SMTP_HOST", None, "The SMTP server for email pages.", group="Paging"
    )
    smtp_port: int = setting(
        "SECBOT_SMTP_PORT", 587, "The SMTP server's port.", group="Paging", ge=1, le=65535
    )
    smtp_from: str | None = setting(
        "SECBOT_SMTP_FROM", None, "The sender address of email pages.", group="Paging"
    )
    smtp_starttls: bool | None = setting(
        "SECBOT_SMTP_STARTTLS", None,
        "Use STARTTLS with the SMTP server (unset: when the server offers it; port 465 means"
        " TLS from the start).",
        group="Paging",
    )
    smtp_user: str | None = setting(
        "SECBOT_SMTP_USER", None, "The SMTP user name, if the server needs one.", group="Paging"
    )
    smtp_password: str | None = setting(
        "SECBOT_SMTP_PASSWORD", None, "The SMTP password, if the server needs one.",
        group="Paging", secret=True,
    )

    @property
    def pagerduty_webhook_secret_list(self) -> list[str]:
        """Each secret of SECBOT_PAGERDUTY_WEBHOOK_SECRETS, blanks left out."""
        return [s.strip() for s in (self.pagerduty_webhook_secrets or "").split(",") if s.strip()]

    @property
    def paging_callback_secret_list(self) -> list[str]:
        """Each secret of SECBOT_PAGING_CALLBACK_SECRETS, blanks left out."""
        return [s.strip() for s in (self.paging_callback_secrets or "").split(",") if s.strip()]

    @field_validator("pagerduty_webhook_secrets", "paging_callback_secrets")
    @classmethod
    def _webhook_secrets(cls, value: str | None) -> str | None:
        short = [s for s in (value or "").split(",") if s.strip() and len(s.strip()) < 16]
        if short:
            raise ValueError("each secret must hold at least 16 characters")
        return value

    @field_validator("pagerduty_url", "notify_url")
    @classmethod
    def _paging_urls(cls, value: str) -> str:
        return http_url(value)
