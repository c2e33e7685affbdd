"""The review at the end of an exam: each wrong answer, the right one, why, and the source.

The exam gives no feedback question by question (so answers can't be looked up half-way),
which leaves the end as the one moment to learn from mistakes. Retrieval practice works
best when the answers are shown afterwards (content-facts.md), so the result message lists
every question the person got wrong with the answer they gave, the right answer, the
explanation and where the fact comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.model import Context, Heading, Section
from content.library.models import QuizItem
from content.quiz.render import option_label, source_line
from content.quiz.store import Session


@dataclass(frozen=True)
class Mistake:
    """One wrong exam answer: the question as it was shown and the option chosen."""

    position: int
    item: QuizItem
    order: tuple[int, ...]
    choice: int

    @property
    def given(self) -> str:
        return option_label(self.item, self.order, self.choice)

    @property
    def right(self) -> str:
        return option_label(self.item, self.order, self.item.correct_index)


def mistakes(session: Session, answers: Sequence[dict], library) -> tuple[list[Mistake], int]:
    """The wrong answers in question order, and how many were on questions since retired
    (those can't be shown: their text is gone from the content)."""
    found: list[Mistake] = []
    retired = 0
    for row in sorted(answers, key=lambda r: r["position"] or 0):
        if row["correct"] or row["position"] is None:
            continue
        item = library.item(row["item_id"]) if library else None
        position = int(row["position"])
        if item is None or not 0 <= position < len(session.questions):
            retired += 1
            continue
        order = tuple(session.questions[position].order)
        if not 0 <= row["choice"] < len(item.options):
            retired += 1
            continue
        found.append(Mistake(position, item, order, int(row["choice"])))
    return found, retired


def review_text(found: Sequence[Mistake], retired: int) -> str:
    """One line for the plain-text fallback (the blocks carry the detail)."""
    wrong = len(found) + retired
    if not wrong:
        return "You got every question right."
    noun = "answer" if wrong == 1 else "answers"
    return f"Review of your {wrong} wrong {noun} below: the right answer, why, and the source."


def review_blocks(found: Sequence[Mistake], retired: int) -> tuple:
    """A heading, then for each mistake the question, both answers and the explanation,
    with the source (title and link) as small print."""
    if not found and not retired:
        return ()
    blocks: list = [Heading("Review: the questions you got wrong")]
    for m in found:
        blocks.append(
            Section(
                f"Question {m.position + 1}: {m.item.stem.en}\n"
                f"Your answer: {m.given}\n"
                f"Right answer: {m.right}\n"
                f"Why: {m.item.explanation.en}"
            )
        )
        blocks.append(Context((source_line(m.item),)))
    if retired == 1:
        blocks.append(Context(("1 wrong answer was on a question that has since been retired.",)))
    elif retired:
        blocks.append(
            Context((f"{retired} wrong answers were on questions that have since been retired.",))
        )
    return tuple(blocks)
