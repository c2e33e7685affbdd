"""The messages of a question in a channel: the question with its count, closed or
retired, and the private feedback to each answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Place, Section
from content.library.models import QuizItem
from content.quiz import engine
from content.quiz.render.common import (
    LETTERS,
    answered_text,
    feedback,
    option_label,
    options_text,
    private,
    source_line,
    spoken_answer,
)
from content.quiz.store import Post


def _closes_text(closes_at: datetime, now: datetime, tz: tzinfo) -> str:
    local, today = closes_at.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return f"Closes at {local:%H:%M}"
    return f"Closes on {engine.long_date(local.date())} at {local:%H:%M}"


def channel_question(
    post: Post, item: QuizItem, answered: int, now: datetime, tz: tzinfo
) -> Message:
    """The open question as everyone in the channel sees it: a count, never a choice."""
    buttons = tuple(
        Button(
            LETTERS[shown],
            "quiz:answer",
            button_value(post.id, shown),
            accessibility_label=spoken_answer(item, post.order, shown),
        )
        for shown in range(len(post.order))
    )
    count = answered_text(answered)
    return Message(
        text=f"Quiz: {item.stem.en} ({count})",
        blocks=(
            Heading("Quick quiz"),
            Section(item.stem.en),
            Section(options_text(item, post.order)),
            Actions(buttons),
            Context(
                (
                    f"{count}. {_closes_text(post.closes_at, now, tz)}.",
                    "Only you see whether you were right. The person who posted this"
                    " question can close it early.",
                )
            ),
            Actions(
                (Button("Close question", "quiz:close", button_value(post.id), style="danger"),)
            ),
        ),
    )


def channel_closed(post: Post, item: QuizItem, answered: int, correct: int) -> Message:
    """The closed question: the answer, why, and how the channel did overall."""
    answer = option_label(item, post.order, item.correct_index)
    if answered:
        result = (
            f"{answered} answered. {correct} of {answered} got it right"
            f" ({engine.percent(correct, answered)}%)."
        )
    else:
        result = "Nobody answered this one."
    return Message(
        text=f"Quiz closed: {item.stem.en} Answer: {answer}. {result}",
        blocks=(
            Heading("Quick quiz: closed"),
            Section(item.stem.en),
            Section(options_text(item, post.order)),
            Section(f"Answer: {answer}"),
            Section(item.explanation.en),
            Context((result, source_line(item))),
        ),
    )


def channel_retired(answered: int) -> Message:
    text = f"This quiz question has closed and has since been retired. {answered_text(answered)}."
    return Message(text=text, blocks=(Section(text),))


def answer_feedback(item: QuizItem, order: Sequence[int], choice: int) -> Message:
    """Private feedback for the person who answered a channel question."""
    verdict, detail = feedback(item, order, choice)
    return Message(
        text=f"{verdict} {detail}. {item.explanation.en}",
        blocks=(
            Section(f"{verdict} {detail}."),
            Section(item.explanation.en),
            Context((source_line(item), "Only you can see this.")),
        ),
        private=True,
    )


def answer_copy(item: QuizItem, order: Sequence[int], choice: int) -> Message:
    """The same feedback for the person's personal chat (Teams), where it lasts; it names
    the question, since it is read away from it."""
    verdict, detail = feedback(item, order, choice)
    return Message(
        text=f"Your answer to the quick quiz: {verdict} {detail}. {item.explanation.en}",
        blocks=(
            Heading("Your answer to the quick quiz"),
            Section(item.stem.en),
            Section(f"{verdict} {detail}."),
            Section(item.explanation.en),
            Context((source_line(item), "Only you can see this.")),
        ),
        private=True,
    )


def question_closed(item: QuizItem | None, order: Sequence[int], where: Place) -> Message:
    lines = []
    if item is not None:
        lines.append(f"The answer was {option_label(item, order, item.correct_index)}.")
    lines.append(f"Type {typed(where, 'quiz me')} to practise on your own.")
    return private("Sorry, this question has closed, so your answer wasn't recorded.", *lines)
