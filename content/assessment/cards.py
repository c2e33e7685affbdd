"""The self-assessment's cards: one question at a time with its answers as buttons,
then a card to finish. Every card is private to the person answering and replaces the
one before it (a button click updates its own card), so a double click lands on the
same card twice rather than stacking questions in the chat."""

from __future__ import annotations

from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Place, Section
from content.assessment.report import PRINCIPLE_NAMES
from content.assessment.store import Assessment
from content.library.assessment import Questionnaire

ANSWER, SHOW, FINISH = "assess:answer", "assess:show", "assess:finish"


def carry_on(place: Place, team: str) -> str:
    return typed(place, f"assess {team}", slack_command="secbot")


def _footer(place: Place, a: Assessment, answered: int, total: int) -> Context:
    return Context(
        (
            f"{answered} of {total} answered. Your answers are saved as you go: stop any time"
            f" and type {carry_on(place, a.team_name)} to carry on.",
        )
    )


def first_unanswered(questions: Questionnaire, answers: set[str], after: int = -1) -> int | None:
    """The next question without an answer after ``after`` (wrapping round), or None."""
    n = len(questions.questions)
    for step in range(1, n + 1):
        i = (after + step) % n
        if questions.questions[i].id not in answers:
            return i
    return None


def question(
    place: Place,
    a: Assessment,
    questions: Questionnaire,
    index: int,
    answers: dict[str, str],
    note: str = "",
) -> Message:
    q = questions.questions[index]
    total = len(questions.questions)
    given = q.answer(answers.get(q.id, ""))
    where = f"Question {index + 1} of {total} · {PRINCIPLE_NAMES[q.principle]}"
    buttons = [
        Button(
            ans.label.en,
            ANSWER,
            button_value(a.id, index, n),
            style="primary" if given is not None and ans.id == given.id else None,
            pressed=(ans.id == given.id) if given is not None else None,
        )
        for n, ans in enumerate(q.answers)
    ]
    if index > 0:
        buttons.append(Button("Back", SHOW, button_value(a.id, index - 1)))
    if given is not None:
        buttons.append(Button("Next", SHOW, button_value(a.id, (index + 1) % total)))
    blocks: list = [Heading(f"Self-assessment: {a.team_name}")]
    if note:
        blocks.append(Section(note))
    blocks += [Section(f"{where}\n{q.text.en}")]
    if given is not None:
        blocks.append(Context((f"Your answer: {given.label.en}. Choose another to change it.",)))
    blocks += [Actions(tuple(buttons)), _footer(place, a, len(answers), total)]
    text = f"Self-assessment: {a.team_name}. {note + ' ' if note else ''}{where}: {q.text.en}"
    return Message(text, tuple(blocks), private=True)


def ready(place: Place, a: Assessment, questions: Questionnaire, answered: int) -> Message:
    total = len(questions.questions)
    text = (
        f"You've answered all {total} questions. Finish to get the report, or go back to"
        " change an answer."
    )
    return Message(
        text,
        (
            Heading(f"Self-assessment: {a.team_name}"),
            Section(text),
            Actions(
                (
                    Button("Finish and get the report", FINISH, button_value(a.id), "primary"),
                    Button("Back", SHOW, button_value(a.id, total - 1)),
                )
            ),
            _footer(place, a, answered, total),
        ),
        private=True,
    )


def finished(a: Assessment, overall: str) -> Message:
    text = f"Self-assessment for {a.team_name} finished. Overall rating: {overall}."
    return Message(text, (Heading(f"Self-assessment: {a.team_name}"), Section(text)), private=True)


def say(text: str) -> Message:
    return Message(text, (Section(text),), private=True)
