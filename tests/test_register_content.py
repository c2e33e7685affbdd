"""Tips and questions aimed at platforms (issue 19 item 2): content carries
``platforms:`` by the accounts register's codes, and ``/tip`` shows someone the tips for
their team's registered platforms first, over HTTP in the web chat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from bot.core.model import Actor
from bot.server import SERVICES
from content.library.models import PlatformCode
from incidents.register.model import Details, Person
from incidents.register.platforms import CODES
from incidents.register.store import RegisterStore
from tests.incident_support import card_text


def test_content_and_the_register_name_the_same_platforms(content_library):
    assert set(get_args(PlatformCode)) == set(CODES)
    aimed = [t for t in content_library.tips.values() if t.platforms]
    assert {"youtube", "facebook", "x"} <= {p for t in aimed for p in t.platforms}
    assert any(q.platforms for q in content_library.quiz_items.values())


async def test_tip_shows_the_teams_platforms_first_in_the_web_chat(running, content_library):
    youtube = {t.title.en for t in content_library.tips.values() if "youtube" in t.platforms}
    assert len(youtube) >= 2
    store = RegisterStore(running.app[SERVICES].db)
    owner = Person("Web User", "web-user-1")
    await store.add("web:local", Details("youtube", "@DeptVideo", team="Video", owner=owner),
                    by=Actor("web", "web-admin", "Admin"),
                    now=datetime(2026, 12, 4, tzinfo=UTC))  # fmt: skip
    for _ in range(4):
        status, body = await running.web_send(user="web-user-1", text="tip")
        assert status == 200 and body["ok"]
        shown = card_text((await running.web_messages(user="web-user-1"))[-1])
        assert any(title in shown for title in youtube), shown
    # Someone whose team has no registered account gets any tip.
    status, body = await running.web_send(user="web-user-9", text="tip")
    assert status == 200 and body["ok"]
    assert (await running.web_messages(user="web-user-9"))[-1]["sender"] == "bot"


async def test_quiz_aimed_at_a_platform_in_the_web_chat(running, content_library):
    stems = {q.stem.en for q in content_library.items_for_tag("youtube")}
    assert stems and all("youtube" in q.platforms for q in content_library.items_for_tag("youtube"))
    status, body = await running.web_send(user="web-user-5", text="quiz youtube")
    assert status == 200 and body["ok"], body
    shown = card_text(await running.web_messages(user="web-user-5"))
    assert any(stem in shown for stem in stems), shown
