"""All of the quiz's SQL, one store per job: channel questions (:mod:`.channel`), practice
and exam sessions, tip prompts and spaced-repetition cards (:mod:`.practice`), exam results
(:mod:`.exams`), stats and leaderboards (:mod:`.stats`); the tables in :mod:`.schema`.

Every method is short and synchronous. Handlers never await in the middle of a store
call, so each call is atomic with respect to every other coroutine on the loop; that,
plus the UNIQUE constraints, is what makes one answer per person per question hold
under double clicks, retries and bursts of hundreds of concurrent clicks.
"""

from __future__ import annotations

from sqlite_utils import Database

from content.quiz.store.answers import Answer, AnswerResult, Review
from content.quiz.store.channel import ChannelStore, Post
from content.quiz.store.exams import ExamResult, ExamStore
from content.quiz.store.practice import PracticeStore, Question, Session
from content.quiz.store.prompts import PromptStore
from content.quiz.store.schema import iso, parse_time
from content.quiz.store.stats import LeaderRow, StatsStore


class QuizStore:
    """The quiz's stores over one database, by job."""

    def __init__(self, db: Database):
        self.db = db
        self.channel = ChannelStore(db)
        self.practice = PracticeStore(db)
        self.prompts = PromptStore(db)
        self.exams = ExamStore(db)
        self.stats = StatsStore(db)


__all__ = [
    "Answer",
    "AnswerResult",
    "ChannelStore",
    "ExamResult",
    "ExamStore",
    "LeaderRow",
    "Post",
    "PromptStore",
    "PracticeStore",
    "Question",
    "QuizStore",
    "Review",
    "Session",
    "StatsStore",
    "iso",
    "parse_time",
]
