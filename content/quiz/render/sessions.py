"""The messages of practice sessions and exams: each question, practice feedback and
summary, the exam's intro and result."""

from __future__ import annotations

from datetime import tzinfo

from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Place, Section
from content.library.models import MODULE_LABELS, MODULES, PRINCIPLE_LABELS, PRINCIPLES, QuizItem
from content.quiz import engine
from content.quiz.render.common import (
    LETTERS,
    feedback,
    options_text,
    score_fields,
    source_line,
    spoken_answer,
)
from content.quiz.store import ExamResult, Session


def _title(session: Session, position: int) -> str:
    label = "Exam" if session.kind == "exam" else "Practice"
    return f"{label}: question {position + 1} of {session.total}"


def session_question(
    session: Session,
    position: int,
    item: QuizItem,
    *,
    is_private: bool,
    note: str = "",
) -> Message:
    order = session.questions[position].order
    buttons = tuple(
        Button(
            LETTERS[shown],
            "quiz:session",
            button_value(session.id, position, shown),
            accessibility_label=spoken_answer(item, order, shown),
        )
        for shown in range(len(order))
    )
    small = [note] if note else []
    if session.kind == "exam":
        small.append(
            f"Pass mark {engine.PASS_PERCENT}%. You'll see your score at the end."
            " You can stop and come back: your place is saved."
        )
    title = _title(session, position)
    return Message(
        text=f"{title}. {item.stem.en}",
        blocks=(
            Heading(title),
            Section(item.stem.en),
            Section(options_text(item, order)),
            Actions(buttons),
            *((Context(tuple(small)),) if small else ()),
        ),
        private=is_private,
    )


def practice_feedback(
    session: Session,
    position: int,
    item: QuizItem,
    choice: int,
    *,
    is_private: bool,
    summary: Message | None = None,
) -> Message:
    """The answered question with private feedback, then Next (or the summary at the end)."""
    order = session.questions[position].order
    verdict, detail = feedback(item, order, choice)
    title = _title(session, position)
    blocks: list = [
        Heading(title),
        Section(item.stem.en),
        Section(options_text(item, order)),
        Section(f"{verdict} {detail}."),
        Section(item.explanation.en),
        Context((source_line(item),)),
    ]
    text = f"{title}. {verdict} {detail}. {item.explanation.en}"
    if summary is None:
        blocks.append(
            Actions(
                (
                    Button(
                        "Next question",
                        "quiz:next",
                        button_value(session.id, position + 1),
                        style="primary",
                    ),
                )
            )
        )
    else:
        blocks += list(summary.blocks)
        text += " " + summary.text
    return Message(text=text, blocks=tuple(blocks), private=is_private)


def practice_summary(
    correct: int, total: int, by_principle: dict[str, engine.Score], where: Place
) -> Message:
    text = f"Practice finished: you got {correct} of {total} right."
    fields = score_fields(by_principle, PRINCIPLES, PRINCIPLE_LABELS)
    return Message(
        text=text,
        blocks=(
            Heading("Practice finished"),
            Section(text, fields=fields),
            Context(
                (
                    "Questions you found hard will come back for review sooner.",
                    f"Type {typed(where, 'quiz me')} for another five, or"
                    f" {typed(where, 'quiz stats')} to see your progress.",
                )
            ),
        ),
    )


def exam_intro(resumed: int, total: int) -> str:
    if resumed:
        return f"Welcome back. Your exam carries on from question {resumed + 1} of {total}."
    return f"Your exam has {total} questions covering all three modules and all five principles."


def exam_result(
    result: ExamResult,
    by_module: dict[str, engine.Score],
    tz: tzinfo,
    where: Place,
    *,
    is_private: bool,
    review: tuple = (),
    review_note: str = "",
) -> Message:
    """The score, the next step, then ``review``: the blocks that go over each wrong
    answer (``content.quiz.review``), with ``review_note`` as their one-line fallback."""
    pct = engine.percent(result.score, result.total)
    verdict = "passed" if result.passed else "not passed"
    text = (
        f"Exam complete: {verdict}. You scored {result.score} out of {result.total} ({pct}%)."
        f" The pass mark is {engine.PASS_PERCENT}%."
    )
    fields = score_fields(by_module, MODULES, MODULE_LABELS)
    done = engine.long_date(result.completed_at.astimezone(tz).date())
    due = engine.long_date(result.refresher_due.astimezone(tz).date())
    if result.passed:
        next_step = f"Your refresher is due by {due}: take {typed(where, 'quiz exam')} again then."
    else:
        next_step = (
            f"Type {typed(where, 'quiz me')} to practise, then {typed(where, 'quiz exam')}"
            " to try again whenever you're ready."
        )
    return Message(
        text=" ".join(part for part in (text, next_step, review_note) if part),
        blocks=(
            Heading(f"Exam complete: {verdict}"),
            Section(text, fields=fields),
            Section(next_step),
            # The content version is kept with the result for the admins' report; to the
            # person it would be a meaningless code.
            Context((f"Recorded on {done}.",)),
            *review,
        ),
        private=is_private,
    )
