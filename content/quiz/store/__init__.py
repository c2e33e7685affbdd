"""All of the quiz's SQL, one store per job: channel questions (:mod:`.channel`), practice
and exam sessions, tip prompts and spaced-repetition cards (:mod:`.practice`), exam results
(:mod:`.exams`), stats and leaderboards (:mod:`.stats`); the tables in :mod:`.schema`.

Every method is ``async`` (storage v2): ``await store.channel.post(1)``. A method that
writes more than one statement, or reads and then writes, does it inside ``async with
atomic(db)`` with the deciding read ``FOR UPDATE``, so it commits whole and no other
coroutine or instance can slip in between; that, plus the UNIQUE constraints, is what
makes one answer per person per question hold under double clicks, retries and bursts of
hundreds of concurrent clicks. The races closed, and how:

- an answer and its tally: the answer, the card and the session's tally (or, for a
  channel question, the answers the tally is counted from) commit in one transaction,
  the tally by a conditional UPDATE from the count read;
- quiz question replacement: compare-and-set on the session's questions; the first swap
  wins and every later one returns it (:meth:`PracticeStore.replace_question`);
- spaced-repetition updates: the card is read ``FOR UPDATE`` and written only over the
  version read (``reviews``), re-applied if it changed (:func:`answers.save_card`);
- exam records: one active attempt per person (a concurrent start returns the attempt
  already started), and the result in the last answer's transaction, once per session.
"""

from __future__ import annotations

from bot.storage.sql import Db
from content.quiz.store.answers import Answer, AnswerResult, Review
from content.quiz.store.channel import ChannelStore, Post
from content.quiz.store.exams import ExamResult, ExamStore
from content.quiz.store.practice import PracticeStore, Question, Session
from content.quiz.store.prompts import PromptStore
from content.quiz.store.schema import iso, parse_time
from content.quiz.store.stats import LeaderRow, StatsStore


class QuizStore:
    """The quiz's stores over one database, by job."""

    def __init__(self, db: Db):
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
