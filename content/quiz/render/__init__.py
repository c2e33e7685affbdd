"""What the quiz says: every quiz message, built from the neutral model.

Kept apart from the handlers so the wording can be read (and reviewed) in one place.
Options are listed in the text with letters and the buttons carry only the letters, so
long options are never clipped by a platform's button-label limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Place, Section
from content.library.models import MODULE_LABELS, MODULES, PRINCIPLE_LABELS, PRINCIPLES, QuizItem
from content.quiz import engine
from content.quiz.store import ExamResult, LeaderRow, Post, Session

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


def options_text(item: QuizItem, order: Sequence[int]) -> str:
    return "\n".join(
        f"{LETTERS[shown]}) {item.options[original].text.en}"
        for shown, original in enumerate(order)
    )


def source_line(item: QuizItem) -> str:
    return f"Source: {item.source.title} — {item.source.url}"


def answered_text(count: int) -> str:
    return "No answers yet" if count == 0 else f"{count} answered"


def _closes_text(closes_at: datetime, now: datetime, tz: tzinfo) -> str:
    local, today = closes_at.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return f"Closes at {local:%H:%M}"
    return f"Closes on {engine.long_date(local.date())} at {local:%H:%M}"


# --- channel questions -------------------------------------------------------------


def channel_question(
    post: Post, item: QuizItem, answered: int, now: datetime, tz: tzinfo
) -> Message:
    """The open question as everyone in the channel sees it: a count, never a choice."""
    buttons = tuple(
        Button(LETTERS[shown], "quiz:answer", f"{post.id}:{shown}")
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
            Actions((Button("Close question", "quiz:close", str(post.id), style="danger"),)),
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


def feedback(item: QuizItem, order: Sequence[int], choice: int) -> tuple[str, str]:
    """(verdict, detail) for one answer."""
    chosen = option_label(item, order, choice)
    if choice == item.correct_index:
        return "Correct!", f"You chose {chosen}"
    answer = option_label(item, order, item.correct_index)
    return "Not quite.", f"You chose {chosen}. The answer is {answer}"


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


def question_closed(item: QuizItem | None, order: Sequence[int], where: Place) -> Message:
    lines = []
    if item is not None:
        lines.append(f"The answer was {option_label(item, order, item.correct_index)}.")
    lines.append(f"Type {typed(where, 'quiz me')} to practise on your own.")
    return private("Sorry, this question has closed, so your answer wasn't recorded.", *lines)


# --- practice sessions and exams ------------------------------------------------------


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
        Button(LETTERS[shown], "quiz:session", f"{session.id}:{position}:{shown}")
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
                        f"{session.id}:{position + 1}",
                        style="primary",
                    ),
                )
            )
        )
    else:
        blocks += list(summary.blocks)
        text += " " + summary.text
    return Message(text=text, blocks=tuple(blocks), private=is_private)


def _score_fields(
    scores: dict[str, engine.Score], keys: Sequence[str], labels: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    """A ("Label", "3 of 4") field for each of ``keys``, in that order, that was answered."""
    return tuple(
        (labels[k], f"{s.correct} of {s.answered}")
        for k in keys
        if (s := scores.get(k)) and s.answered
    )


def practice_summary(
    correct: int, total: int, by_principle: dict[str, engine.Score], where: Place
) -> Message:
    text = f"Practice finished: you got {correct} of {total} right."
    fields = _score_fields(by_principle, PRINCIPLES, PRINCIPLE_LABELS)
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
    fields = _score_fields(by_module, MODULES, MODULE_LABELS)
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
            Context((f"Recorded on {done} (content version {result.content_version}).",)),
            *review,
        ),
        private=is_private,
    )


# --- stats, leaderboard and report -------------------------------------------------------


def stats(
    by_principle: dict[str, engine.Score],
    streak_days: int,
    due: int,
    exam_status: str,
    where: Place,
) -> Message:
    answered = sum(s.answered for s in by_principle.values())
    correct = sum(s.correct for s in by_principle.values())
    if answered:
        overall = (
            f"You've answered {answered} question{'s' if answered != 1 else ''} and got"
            f" {correct} right ({engine.percent(correct, answered)}%)."
        )
    else:
        overall = f"You haven't answered any questions yet. Type {typed(where, 'quiz me')}."
    fields = tuple(
        (
            PRINCIPLE_LABELS[p],
            f"{s.percent}% ({s.correct} of {s.answered})" if s.answered else "Not tried yet",
        )
        for p in PRINCIPLES
        for s in (by_principle.get(p, engine.Score()),)
    )
    day_word = "working day" if streak_days == 1 else "working days"
    review = (
        f"{due} question{' is' if due == 1 else 's are'} due for review:"
        f" type {typed(where, 'quiz me')}."
        if due
        else "Nothing is due for review."
    )
    text = f"Your quiz stats. {overall} Streak: {streak_days} {day_word}. {review} {exam_status}"
    return Message(
        text=text,
        blocks=(
            Heading("Your quiz stats"),
            Section(overall, fields=fields),
            Section(
                "",
                fields=(
                    ("Streak", f"{streak_days} {day_word} in a row"),
                    ("Due for review", str(due)),
                    ("Exam", exam_status),
                ),
            ),
            Context(
                (
                    review,
                    "A streak counts working days (Monday to Friday, not bank holidays)"
                    " with at least one answer.",
                )
            ),
        ),
        private=True,
    )


def leaderboard(rows: list[LeaderRow], month: str, where: Place) -> Message:
    title = f"Quiz leaderboard for this channel, {month}"
    if rows:
        lines = "\n".join(
            f"{n}. {row.name or 'Someone'}: {row.correct} correct" for n, row in enumerate(rows, 1)
        )
    else:
        lines = "No correct answers here yet this month."
    hint = (
        f"Top ten by correct answers to questions posted in this channel this month."
        f" Type {typed(where, 'quiz leaderboard off')} to leave the leaderboard."
    )
    return Message(
        text=f"{title}\n{lines}",
        blocks=(Heading(title), Section(lines), Context((hint,))),
    )


def report(results: list[ExamResult], total: int, tz: tzinfo) -> Message:
    if not results:
        return private("Nobody has completed the exam yet.")
    passed = sum(r.passed for r in results)
    head = f"Exam completions: {total} in all. Showing the latest {len(results)}, {passed} passed."
    lines = [
        f"{r.user_name or r.user_key} ({r.user_key}): {r.score}/{r.total},"
        f" {'pass' if r.passed else 'fail'},"
        f" {r.completed_at.astimezone(tz):%Y-%m-%d}, content {r.content_version}"
        for r in results
    ]
    body = "\n".join(lines)
    return Message(
        text=f"{head}\n{body}",
        blocks=(
            Heading("Exam completions"),
            Section(head),
            Section(body),
            Context(("Columns: person, score, result, date completed, content version.",)),
        ),
        private=True,
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
