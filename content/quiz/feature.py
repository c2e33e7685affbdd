"""``/quiz``: the one place every quiz command and button is handled.

Start here. :func:`setup` registers the ``quiz`` command, the ``quiz:*`` buttons, the
store's migrations and the worker that closes timed questions. :meth:`Quiz.command`
sends each form of ``/quiz`` to the part that does that job:

==============================  ====================================  =====================
``/quiz``, ``/quiz 10m``,       :mod:`.channel` ``post_question``     a question in a
``/quiz <tag>``                                                       channel
``/quiz me`` (or quiz in a DM)  :mod:`.practice` ``start``            five personal
                                                                      questions
``/quiz exam``                  :mod:`.exam` ``start``                ten questions, 80% to
                                                                      pass, then a review
``/quiz stats``                 :mod:`.stats` ``stats``               accuracy, streak, exam
``/quiz leaderboard [off|on]``  :mod:`.stats` ``leaderboard``         this month's top ten
``/quiz report``                :mod:`.stats` ``report``              exam completions
                                                                      (admins)
==============================  ====================================  =====================

Buttons (:meth:`Quiz.action`): ``quiz:answer`` (value ``post_id:option``) and
``quiz:close`` (``post_id``) go to :mod:`.channel`; ``quiz:session``
(``session_id:position:option``) is recorded by :mod:`.sessions`, then practice or the
exam says what comes next; ``quiz:next`` (``session_id:position``) to :mod:`.practice`.
The daily tips' "Quiz me on this" question records its answers here too
(:meth:`Quiz.record_tip_answer`). The SQL is in :mod:`content.quiz.store`, the rules
(shuffling, spaced repetition, exam composition, streaks) in :mod:`content.quiz.engine`
and the wording in :mod:`content.quiz.render`.
"""

from __future__ import annotations

from bot.core import Services, Turn
from bot.core.features import FeatureHost
from bot.settings import Settings
from bot.workers import Worker
from content.library.models import QuizItem
from content.quiz import engine, render
from content.quiz.channel import ChannelQuiz
from content.quiz.exam import Exam
from content.quiz.practice import Practice
from content.quiz.sessions import Sessions
from content.quiz.shared import QuizShared
from content.quiz.stats import QuizStats
from content.quiz.store import AnswerResult, QuizStore
from content.quiz.store.retention import add_pruner
from content.quiz.updates import MessageUpdates


def refresh_months(settings: Settings) -> int:
    """SECBOT_EXAM_REFRESH_MONTHS: how long a pass lasts before a refresher is due."""
    return settings.exam_refresh_months


class Quiz:
    """The quiz feature; one instance per app, found by ``services.feature(Quiz)``."""

    def __init__(self, services: Services, months: int = engine.DEFAULT_REFRESH_MONTHS):
        self.services = services
        self.store = QuizStore(services.db)
        self.updates = MessageUpdates()
        shared = QuizShared(services, self.store, months)
        self.shared = shared
        sessions = Sessions(shared)
        self.sessions = sessions
        self.channel = ChannelQuiz(shared, self.updates)
        self.practice = Practice(shared, sessions)
        self.exam = Exam(shared, sessions)
        self.stats = QuizStats(shared, self.exam)

    async def command(self, turn: Turn) -> None:
        """``/quiz …`` in any front door."""
        try:
            request = engine.parse_request(turn.args)
        except engine.DurationError as e:
            await turn.reply(render.bad_time(str(e), turn.place))
            return
        if request.kind == "post" and turn.place.is_direct:
            # In a direct message there is nobody else to answer: practise instead.
            await self.practice.start(turn, request)
            return
        handler = {
            "post": self.channel.post_question,
            "practice": self.practice.start,
            "exam": self.exam.start,
            "stats": self.stats.stats,
            "leaderboard": self.stats.leaderboard,
            "report": self.stats.report,
            "help": self.help,
        }[request.kind]
        await handler(turn, request)

    async def action(self, turn: Turn) -> None:
        """Every ``quiz:*`` button."""
        handler = {
            "quiz:answer": self.channel.answer,
            "quiz:close": self.channel.close,
            "quiz:session": self.answer_session,
            "quiz:next": self.practice.next_question,
        }.get(turn.incoming.action_id)
        if handler is None:
            await turn.reply(render.private("That button is no longer active."))
            return
        await handler(turn)

    async def help(self, turn: Turn, request: engine.QuizRequest) -> None:
        await turn.reply(render.help_text(turn.place))

    async def answer_session(self, turn: Turn) -> None:
        """``quiz:session``: an answer in a practice session or an exam."""
        recorded = await self.sessions.record(turn)
        if recorded is None:
            return
        part = self.practice if recorded.session.kind == "practice" else self.exam
        await part.answered(turn, recorded)

    # The daily tips' "Quiz me on this" question (content.tips_feature) uses these two.

    async def tip_question_shown(self, turn: Turn, item: QuizItem, tip_id: str) -> None:
        await self.practice.tip_question_shown(turn, item, tip_id)

    async def record_tip_answer(self, turn: Turn, item: QuizItem, choice: int) -> AnswerResult:
        return await self.practice.record_tip_answer(turn, item, choice)

    def close_worker(self) -> Worker:
        return self.channel.close_worker()


def setup(host: FeatureHost) -> None:
    quiz = Quiz(host.services, refresh_months(host.services.settings))
    host.services.provide(quiz)
    host.registry.add_command(
        "quiz",
        "A quick security question for the channel, practice, or the exam",
        quiz.command,
        usage="quiz [10m | topic | me | exam | stats | leaderboard]",
    )
    host.registry.add_action("quiz", quiz.action)
    host.add_worker(quiz.close_worker())
    add_pruner(host.services)  # answers past SECBOT_KEEP_QUIZ_ANSWERS go in the daily prune
