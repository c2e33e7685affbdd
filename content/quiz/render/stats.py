"""The messages of ``/quiz stats``, ``/quiz leaderboard`` and ``/quiz report``."""

from __future__ import annotations

from datetime import tzinfo

from bot.core.hints import typed
from bot.core.model import Context, Heading, Message, Place, Section, line_sections
from content.library.models import PRINCIPLE_LABELS, PRINCIPLES
from content.quiz import engine
from content.quiz.render.common import private
from content.quiz.store import ExamResult, LeaderRow


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


# Lines of the exam report per section: a section shows at most 3,000 characters in
# Slack (and a Teams text block 4,000), and a line is 60 to 150.
REPORT_SECTION = 15


def report(results: list[ExamResult], total: int, tz: tzinfo) -> Message:
    if not results:
        return private("Nobody has completed the exam yet.")
    passed = sum(r.passed for r in results)
    head = f"Exam completions: {total} in all. Showing the latest {len(results)}, {passed} passed."
    names = _people_names(results)
    lines = [
        f"{names[r.user_key]}: {r.score}/{r.total},"
        f" {'pass' if r.passed else 'fail'},"
        f" {r.completed_at.astimezone(tz):%Y-%m-%d}, content {r.content_version}"
        for r in results
    ]
    sections = line_sections(lines, REPORT_SECTION)
    return Message(
        text="\n".join([head, *lines]),
        blocks=(
            Heading("Exam completions"),
            Section(head),
            *sections,
            Context(("Columns: person, score, result, date completed, content version.",)),
        ),
        private=True,
    )


_CHAT_NAMES = {"slack": "Slack", "teams": "Teams", "web": "web chat"}


def _people_names(results: list[ExamResult]) -> dict[str, str]:
    """Each person by their name, as managers know them (not by a platform's user id).

    Someone with no name on record is shown by their user id on its own (a web chat
    login, or a Slack or Teams id an admin can look up). Two different people with the
    same name are told apart by their chat platform, then by their user id."""
    shown = {
        r.user_key: r.user_name.strip() or r.user_key.partition(":")[2] or r.user_key
        for r in results
    }
    keys_by_name: dict[str, set[str]] = {}
    for key, name in shown.items():
        keys_by_name.setdefault(name, set()).add(key)
    for name, keys in keys_by_name.items():
        if len(keys) < 2:
            continue
        platforms = [key.partition(":")[0] for key in keys]
        for key in keys:
            platform, _, user_id = key.partition(":")
            where = _CHAT_NAMES.get(platform, platform)
            shown[key] = (
                f"{name} ({where})"
                if platforms.count(platform) == 1
                else f"{name} ({where}, {user_id})"
            )
    return shown
