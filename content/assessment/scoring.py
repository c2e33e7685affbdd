"""How answers become ratings: each answer carries its own rating (in the questions
file); a principle takes the worst rating among its questions, with counts of each; the
team's overall rating is the worst principle's. A question left unanswered counts as
red: nothing shows the control is in place. Pure, so it is tested on its own."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from content.library.assessment import RATINGS, Answer, Question, Questionnaire
from content.library.models import PRINCIPLES

UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Scored:
    """One question with the answer given (None: not answered) and its rating."""

    question: Question
    answer: Answer | None

    @property
    def rating(self) -> str:
        return self.answer.rating if self.answer is not None else "red"

    @property
    def to_fix(self) -> bool:
        return self.rating != "green"


@dataclass(frozen=True)
class PrincipleScore:
    principle: str
    rating: str
    counts: dict[str, int] = field(default_factory=dict)  # green/amber/red/unanswered
    items: tuple[Scored, ...] = ()


def worst(ratings: list[str]) -> str:
    """Red beats amber beats green; nothing rated is green (nothing to fix)."""
    return max(ratings, key=RATINGS.index, default="green")


def score(questions: Questionnaire, answers: dict[str, str]) -> list[PrincipleScore]:
    """Per principle, in the NCSC's order: ``answers`` maps question id to answer id
    (ids no longer in the file are ignored)."""
    out: list[PrincipleScore] = []
    for principle in PRINCIPLES:
        items = tuple(
            Scored(q, q.answer(answers.get(q.id, "")))
            for q in questions.questions
            if q.principle == principle
        )
        if not items:
            continue
        counts = Counter(i.answer.rating if i.answer else UNANSWERED for i in items)
        out.append(
            PrincipleScore(
                principle,
                worst([i.rating for i in items]),
                {k: counts.get(k, 0) for k in (*RATINGS, UNANSWERED)},
                items,
            )
        )
    return out


def overall(scores: list[PrincipleScore]) -> str:
    return worst([s.rating for s in scores])
