"""The queries of quiz questions put to a person outside the quiz (the "Quiz me on this"
button under a daily tip): each question shown is answered at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from bot.core.model import Actor, Place
from bot.storage.sql import Db, atomic, execute
from content.quiz.store.answers import Answer, AnswerResult, insert_answer, save_card
from content.quiz.store.tables import new_id, quiz_answers, quiz_prompts

# Statements are built once, here, and run with their parameters.
_p, _a = quiz_prompts.c, quiz_answers.c
# The question last put to a person on an item, and its answer if it has one.
_LAST_PROMPT = (
    select(_p.id, _p.shown_at, _a.choice, _a.id.label("answer_id"))
    .select_from(quiz_prompts.outerjoin(quiz_answers, _a.prompt_id == _p.id))
    .where((_p.user_key == bindparam("user_key")) & (_p.item_id == bindparam("item_id")))
    .order_by(_p.id.desc())
    .limit(1)
    # The prompt decides the write (answer it, or show it again): lock it. Only the
    # prompt: PostgreSQL refuses to lock the nullable side of an outer join.
    .with_for_update(of=quiz_prompts)
)
_SHOW_AGAIN = (
    update(quiz_prompts)
    .where(_p.id == bindparam("prompt_id"))
    .values(shown_at=bindparam("now"), source=bindparam("source"), source_id=bindparam("source_id"))
)
_INSERT_PROMPT = quiz_prompts.insert()


class PromptStore:
    """Questions shown under a tip, and their answers."""

    def __init__(self, db: Db):
        self.db = db

    async def prompt_shown(
        self, source: str, source_id: str, actor: Actor, place: Place, item_id: str, now: datetime
    ) -> int:
        """Note that ``item_id`` was put to the person; returns the prompt's id.

        A question shown again before it was answered keeps its prompt (its clock restarts),
        so one prompt is answered at most once whichever copy of the question is clicked.
        """
        async with atomic(self.db):
            last = (await self._last(actor, item_id)).first()
            if last is not None and last.answer_id is None:
                await execute(
                    self.db,
                    _SHOW_AGAIN,
                    {"prompt_id": last.id, "now": now, "source": source, "source_id": source_id},
                )
                return int(last.id)
            return await self._insert_prompt(source, source_id, actor, place, item_id, now)

    async def _last(self, actor: Actor, item_id: str):
        return await execute(self.db, _LAST_PROMPT, {"user_key": actor.key, "item_id": item_id})

    async def _insert_prompt(
        self,
        source: str,
        source_id: str,
        actor: Actor,
        place: Place,
        item_id: str,
        now: datetime,
    ) -> int:
        created = await execute(
            self.db,
            _INSERT_PROMPT,
            {
                "source": source,
                "source_id": source_id,
                "user_key": actor.key,
                "item_id": item_id,
                "platform": place.platform,
                "workspace": place.workspace,
                "channel": place.channel,
                "shown_at": now,
            },
        )
        return new_id(created)

    async def record_prompt_answer(
        self,
        source: str,
        answer: Answer,
    ) -> AnswerResult:
        """Record the answer to the question last put to this person on this item, once.

        A second click on it (a double click, a retry, a different option) is a duplicate:
        the prompt is read ``FOR UPDATE`` in the answer's transaction, and UNIQUE(prompt_id)
        on the answers settles any click that got past the read.
        An answer with no prompt on record (a question shown before this was kept) gets one,
        with no time to answer.
        """
        actor, place, item_id, now = answer.actor, answer.place, answer.item_id, answer.now
        async with atomic(self.db):
            last = (await self._last(actor, item_id)).first()
            if last is not None and last.answer_id is not None:
                return AnswerResult("duplicate", last.choice)
            if last is None:
                prompt_id = await self._insert_prompt(source, "", actor, place, item_id, now)
                shown_at = now
            else:
                prompt_id, shown_at = int(last.id), last.shown_at
            seconds = max(0.0, (now - shown_at).total_seconds())
            await insert_answer(self.db, answer, seconds, source, prompt_id=prompt_id)
            await save_card(self.db, answer)
        return AnswerResult("recorded")
