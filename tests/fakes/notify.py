"""A fake GOV.UK Notify API for the real notifications-python-client.

It checks the ``Authorization: Bearer <JWT>`` header the way Notify does when it
knows the key (HS256 signed with the key's secret, ``iss`` = the service id, a
recent ``iat``), validates the request fields, and answers 201 with an id.
"""

from __future__ import annotations

import time
import uuid

import jwt
from aiohttp import web

from tests.fakes.base import FakeServer
from tests.fakes.pagerduty import PATIENCE

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"secbot_test-{SERVICE_ID}-{SECRET}"


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"status_code": status, "errors": [{"error": kind, "message": message}]}, status=status
    )


class FakeNotify(FakeServer):
    def __init__(
        self,
        responses: list[int] | None = None,
        service_id: str = SERVICE_ID,
        secret: str = SECRET,
    ) -> None:
        self.responses = list(responses or [])
        self.service_id = service_id
        self.secret = secret
        self.tokens: list[dict] = []
        super().__init__()

    async def wait_for(self, predicate, timeout: float = PATIENCE):
        return await super().wait_for(predicate, timeout)

    def routes(self) -> list:
        return [
            web.post("/v2/notifications/sms", self.sms),
            web.post("/v2/notifications/email", self.email),
        ]

    def sms_sent(self) -> list[dict]:
        return [c.body for c in self.named("/v2/notifications/sms")]

    def emails_sent(self) -> list[dict]:
        return [c.body for c in self.named("/v2/notifications/email")]

    def _check_token(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        try:
            claims = jwt.decode(auth[7:], self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return _error(403, "AuthError", "Invalid token: signature, api token not found")
        if claims.get("iss") != self.service_id:
            return _error(403, "AuthError", "Invalid token: service not found")
        if abs(time.time() - float(claims.get("iat", 0))) > 30:
            return _error(403, "AuthError", "Error: Your system clock must be accurate")
        self.tokens.append(claims)
        return None

    async def _notification(self, request: web.Request, field: str) -> web.Response:
        body = await self.record(request)
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if self.responses:
            status = self.responses.pop(0)
            if status == 400:
                return _error(400, "BadRequestError", "Can't send to this recipient")
            if status == 429:
                return _error(429, "RateLimitError", "Exceeded rate limit")
            if status >= 300:
                return _error(status, "Exception", "Internal server error")
        if not isinstance(body, dict) or not body.get(field):
            return _error(400, "ValidationError", f"{field} is a required property")
        if not body.get("template_id"):
            return _error(400, "ValidationError", "template_id is a required property")
        nid = str(uuid.uuid4())
        return web.json_response(
            {
                "id": nid,
                "reference": body.get("reference"),
                "content": {"body": "rendered", "from_number": "GOVUK"},
                "uri": f"{self.url}v2/notifications/{nid}",
                "template": {"id": body["template_id"], "version": 1, "uri": "x"},
            },
            status=201,
        )

    async def sms(self, request: web.Request) -> web.Response:
        return await self._notification(request, "phone_number")

    async def email(self, request: web.Request) -> web.Response:
        return await self._notification(request, "email_address")
