"""What the quiz reports: ``/quiz stats`` (a person's own), ``/quiz leaderboard [off|on]``
(a channel's month) and ``/quiz report`` (exam completions, for admins)."""

from __future__ import annotations

from datetime import timedelta

import holidays

from bot.core import Turn
from bot.core.hints import typed
from content.quiz import engine, render
from content.quiz.exam import Exam
from content.quiz.shared import QuizShared


class QuizStats:
    """Stats, leaderboards and the exam report."""

    def __init__(self, shared: QuizShared, exam: Exam):
        self.shared = shared
        self.store = shared.store
        self.exam = exam
        # England and Wales share their bank holidays; streaks skip them.
        self.holidays = holidays.country_holidays("GB", subdiv="ENG")

    async def stats(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz stats``: the person's own accuracy, streak, reviews due and exam status."""
        key = turn.actor.key
        now = self.shared.clock.now()
        tz = self.shared.tz
        days = {
            t.astimezone(tz).date()
            for t in await self.store.stats.answer_times(key, now - timedelta(days=1100))
        }
        lib = self.shared.library()
        due = await self.store.practice.due_count(key, now, set(lib.quiz_items) if lib else None)
        where = turn.place
        await turn.reply(
            render.stats(
                await self.shared.scores(key),
                engine.streak(days, now.astimezone(tz).date(), self.holidays),
                due,
                await self.exam.status(key, where),
                where,
            )
        )

    async def leaderboard(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz leaderboard [off|on]``: this channel's top ten this month, or opt out/in."""
        where = turn.place
        switch = request.switch
        if switch in ("off", "on"):
            await self.store.stats.set_leaderboard_opt_out(
                turn.actor.key, switch == "off", self.shared.clock.now()
            )
            if switch == "off":
                text = "You won't appear on quiz leaderboards."
                hint = f"Type {typed(where, 'quiz leaderboard on')} to appear again."
            else:
                text = "You'll appear on quiz leaderboards again."
                hint = f"Type {typed(where, 'quiz leaderboard off')} to leave them."
            await turn.reply(render.private(text, hint))
            return
        if switch:
            await turn.reply(
                render.private(
                    f"Type {typed(where, 'quiz leaderboard')},"
                    f" {typed(where, 'quiz leaderboard off')} or"
                    f" {typed(where, 'quiz leaderboard on')}."
                )
            )
            return
        if turn.place.is_direct:
            await turn.reply(
                render.private(
                    "Leaderboards are kept for each channel. Type"
                    f" {typed(where, 'quiz leaderboard')} in a channel where quiz"
                    " questions are posted."
                )
            )
            return
        now = self.shared.clock.now()
        tz = self.shared.tz
        start, end = engine.month_bounds(now, tz)
        rows = await self.store.stats.leaderboard(turn.place, start, end)
        await turn.reply(render.leaderboard(rows, f"{now.astimezone(tz):%B %Y}", where))

    async def report(self, turn: Turn, request: engine.QuizRequest) -> None:
        """``/quiz report`` (admins): exam completions for managers."""
        if not self.shared.services.is_admin(turn.actor):
            await turn.reply(
                render.private(
                    "Only secbot admins can see the exam report.",
                    "Admins are the people listed in SECBOT_ADMINS.",
                )
            )
            return
        # This workspace's or tenant's exams only (never another organisation's people).
        place = turn.place
        results, total = await self.store.exams.exam_results(place.platform, place.workspace, 100)
        await turn.reply(render.report(results, total, self.shared.tz))
