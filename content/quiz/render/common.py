"""What every quiz message shares: private notes, option labels, answer feedback, score
fields, and the replies to help, an unreadable time and an unknown topic."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.hints import typed
from bot.core.model import Context, Heading, Message, Place, Section
from content.library.models import QuizItem
from content.quiz import engine

LETTERS = engine.LETTERS


def private(text: str, *lines: str) -> Message:
    """A short private note: one paragraph plus optional small print."""
    blocks: list = [Section(text)]
    if lines:
        blocks.append(Context(tuple(lines)))
    return Message(text=text, blocks=tuple(blocks), private=True)


def option_label(item: QuizItem, order: Sequence[int], original: int) -> str:
    """``B) the option text`` for an option given by its original index."""
    shown = list(order).index(original)
    return f"{LETTERS[shown]}) {item.options[original].text.en}"


def spoken_answer(item: QuizItem, order: Sequence[int], shown: int) -> str:
    """What a screen reader says for answer button ``shown`` ("B: the option text"), so
    a letter button is named by its answer."""
    return f"{LETTERS[shown]}: {item.options[order[shown]].text.en}"


def options_text(item: QuizItem, order: Sequence[int]) -> str:
    return "\n".join(
        f"{LETTERS[shown]}) {item.options[original].text.en}"
        for shown, original in enumerate(order)
    )


def source_line(item: QuizItem) -> str:
    return f"Source: {item.source.title} — {item.source.url}"


def answered_text(count: int) -> str:
    return "No answers yet" if count == 0 else f"{count} answered"


def feedback(item: QuizItem, order: Sequence[int], choice: int) -> tuple[str, str]:
    """(verdict, detail) for one answer."""
    chosen = option_label(item, order, choice)
    if choice == item.correct_index:
        return "Correct!", f"You chose {chosen}"
    answer = option_label(item, order, item.correct_index)
    return "Not quite.", f"You chose {chosen}. The answer is {answer}"


def already_answered(
    item: QuizItem, order: Sequence[int], choice: int | None, *hints: str
) -> Message:
    if choice is None:
        return private(
            "You've already answered this question. Only your first answer counts.", *hints
        )
    return private(
        f"You've already answered this question: you chose {option_label(item, order, choice)}."
        " Only your first answer counts.",
        *hints,
    )


def score_fields(
    scores: dict[str, engine.Score], keys: Sequence[str], labels: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    """A ("Label", "3 of 4") field for each of ``keys``, in that order, that was answered."""
    return tuple(
        (labels[k], f"{s.correct} of {s.answered}")
        for k in keys
        if (s := scores.get(k)) and s.answered
    )


def bad_time(reason: str, where: Place) -> Message:
    """A time after ``/quiz`` that can't be used, with examples of ones that can."""
    return private(
        reason,
        f"For example: {typed(where, 'quiz 10m')} for 10 minutes,"
        f" {typed(where, 'quiz 2h')} for 2 hours or {typed(where, 'quiz 1d')} for a day.",
    )


def unknown_tag(tag: str, tags: list[str], where: Place) -> Message:
    shown = tag if len(tag) <= 40 else tag[:40] + "…"
    example = "phishing" if "phishing" in tags else (tags[-1] if tags else "")
    return private(
        f"There are no quiz questions tagged “{shown}”. Choose a module, a principle or a"
        f" topic: {', '.join(tags)}.",
        f"For example: {typed(where, 'quiz ' + example)}",
    )


def help_text(where: Place) -> Message:
    c = lambda t: typed(where, t)  # noqa: E731
    rows = (
        (c("quiz"), "Post a question in this channel for an hour"),
        (c("quiz 10m"), "Post a question that closes after 10 minutes (or 2h…)"),
        (c("quiz <topic>"), "Post a question on one topic or principle"),
        (c("quiz me"), "Practise on your own: five questions picked for you"),
        (c("quiz exam"), "Take the ten-question exam (pass mark 80%)"),
        (c("quiz stats"), "Your accuracy, streak and exam status"),
        (c("quiz leaderboard [off|on]"), "This month's top ten here; off hides you"),
    )
    return Message(
        text="Quiz commands: " + "; ".join(f"{a} — {b}" for a, b in rows),
        blocks=(Heading("Quiz commands"), Section("", fields=rows)),
        private=True,
    )
