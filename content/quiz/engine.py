"""Pure quiz logic: parsing ``/quiz`` arguments, shuffling, spaced repetition, choosing
practice questions, composing exams and working out streaks.

Nothing here touches the database, the network or the clock: callers pass ``now`` and a
``random.Random``, so every rule can be unit-tested with plain values.
"""

from __future__ import annotations

import calendar
import random
import re
import zlib
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fsrs import Card, Rating, Scheduler

from content.library.models import MODULES, PRINCIPLES, QuizItem

LETTERS = "ABCD"
DEFAULT_OPEN = timedelta(hours=1)
MIN_OPEN = timedelta(minutes=1)
MAX_OPEN = timedelta(days=7)
PRACTICE_LENGTH = 5
EXAM_LENGTH = 10
PASS_PERCENT = 80
DEFAULT_REFRESH_MONTHS = 12

SUBCOMMANDS = {
    "me": "practice",
    "practice": "practice",
    "exam": "exam",
    "stats": "stats",
    "leaderboard": "leaderboard",
    "report": "report",
    "help": "help",
}


# --- arguments ---------------------------------------------------------------------


_DURATION = re.compile(r"^(\d{1,5})\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$")
_UNITS = {"m", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour", "hours"}
_UNITS |= {"d", "day", "days"}
# Something meant as a time that we could not read: "99x", "1.5h", "10", "5weeks"; not
# "2fa", which is a topic.
_TIMEISH = re.compile(r"^\d+(?:[.,]\d+)?\s*([a-z]*)$")
_TIME_WORDS = _UNITS | {"s", "sec", "secs", "second", "seconds", "w", "wk", "wks", "week"}
_TIME_WORDS |= {"weeks", "mo", "mon", "month", "months", "y", "yr", "yrs", "year", "years"}


class DurationError(ValueError):
    """A time was given but can't be used; the message says why (the caller adds an example)."""


def parse_duration(token: str) -> timedelta | None:
    """``10m`` or ``2h`` as a timedelta; None when ``token`` is not a duration at all."""
    text = token.strip().lower()
    match = _DURATION.match(text)
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)[0]
    delta = {
        "m": timedelta(minutes=amount),
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
    }[unit]
    if delta < MIN_OPEN:
        raise DurationError(
            f"“{text}” is too short: a question can stay open from 1 minute to 7 days."
        )
    if delta > MAX_OPEN:
        raise DurationError(
            f"“{text}” is too long: a question can stay open from 1 minute to 7 days."
        )
    return delta


def looks_like_time(text: str) -> bool:
    """True for words meant as a time that :func:`parse_duration` can't read (``99x``).

    Only asked about words that are not tags, so a topic such as ``2fa`` still works.
    """
    match = _TIMEISH.match(text.strip().lower())
    if match is None:
        return False
    return len(match.group(1)) <= 1 or match.group(1) in _TIME_WORDS


def unreadable_time(text: str) -> DurationError:
    shown = text if len(text) <= 20 else text[:20] + "…"
    return DurationError(
        f"I couldn't read “{shown}” as a time. Give a number of minutes, hours or days"
        " (m, h or d), from 1 minute to 7 days."
    )


@dataclass(frozen=True)
class QuizRequest:
    """What ``/quiz <args>`` asked for."""

    kind: str  # post | practice | exam | stats | leaderboard | report | help
    duration: timedelta | None = None
    tag: str = ""
    switch: str = ""  # leaderboard on/off


def _join_units(words: list[str]) -> list[str]:
    """``10 minutes`` typed as two words becomes ``10minutes``."""
    out: list[str] = []
    for word in words:
        if out and out[-1].isdigit() and word in _UNITS:
            out[-1] += word
        else:
            out.append(word)
    return out


def _split_duration(words: list[str]) -> tuple[timedelta | None, str]:
    duration = None
    rest = []
    for word in _join_units(words):
        parsed = parse_duration(word)
        if parsed is not None and duration is not None:
            raise DurationError("Please give just one time.")
        if parsed is not None:
            duration = parsed
        else:
            rest.append(word)
    return duration, " ".join(rest)


def parse_request(args: str) -> QuizRequest:
    """Split ``/quiz`` arguments; raises DurationError for a time that can't be used."""
    words = args.strip().lower().split()
    if not words:
        return QuizRequest("post")
    kind = SUBCOMMANDS.get(words[0])
    if kind == "leaderboard":
        return QuizRequest(kind, switch=" ".join(words[1:]))
    if kind == "practice":
        # ``/quiz me 10m`` is read as ``/quiz me``: practice is never timed.
        duration, tag = _split_duration(words[1:])
        return QuizRequest(kind, duration=duration, tag=tag)
    if kind is not None:
        return QuizRequest(kind, tag=" ".join(words[1:]))
    duration, tag = _split_duration(words)
    return QuizRequest("post", duration=duration, tag=tag)


# --- choosing and shuffling --------------------------------------------------------


def option_order(rng: random.Random, count: int = 4) -> list[int]:
    """Display order of the options: ``order[shown_position] = original index``."""
    order = list(range(count))
    rng.shuffle(order)
    return order


def pick_item(items: Sequence[QuizItem], recent: Container[str], rng: random.Random) -> QuizItem:
    """One item, avoiding those recently asked in the same place while others remain."""
    fresh = [i for i in items if i.id not in recent]
    return rng.choice(fresh or list(items))


# --- spaced repetition -------------------------------------------------------------

# Fuzzing off: the same answers always give the same schedule, which keeps tests honest.
_SCHEDULER = Scheduler(enable_fuzzing=False)


def card_id(user_key: str, item_id: str) -> int:
    """A stable id for one person's card on one item (fsrs otherwise uses the wall clock)."""
    return zlib.crc32(f"{user_key}|{item_id}".encode())


def review(
    card_json: str | None, correct: bool, now: datetime, *, user_key: str, item_id: str
) -> tuple[str, datetime]:
    """Apply one answer to a person's FSRS card: Again for wrong, Good for right.

    Returns the card as JSON (what the store keeps) and when it is next due.
    """
    card = (
        Card.from_json(card_json)
        if card_json
        else Card(card_id=card_id(user_key, item_id), due=now)
    )
    rating = Rating.Good if correct else Rating.Again
    card, _log = _SCHEDULER.review_card(card, rating, review_datetime=now)
    return card.to_json(), card.due


@dataclass(frozen=True)
class Score:
    """Answers and correct answers for one principle (or module)."""

    answered: int = 0
    correct: int = 0

    @property
    def percent(self) -> int:
        return percent(self.correct, self.answered)


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def weakness(scores: Mapping[str, Score]) -> dict[str, float]:
    """How much each principle needs practice, 0 to 1; unanswered principles count as 0.5.

    Laplace smoothing stops one lucky or unlucky answer from dominating.
    """
    out: dict[str, float] = {}
    for principle in PRINCIPLES:
        s = scores.get(principle, Score())
        out[principle] = 1 - (s.correct + 1) / (s.answered + 2)
    return out


def weakest_principle(scores: Mapping[str, Score]) -> str | None:
    """The principle with the lowest smoothed accuracy among those answered, if any."""
    answered = [p for p in PRINCIPLES if scores.get(p, Score()).answered]
    if not answered:
        return None
    weak = weakness(scores)
    return max(answered, key=lambda p: (weak[p], -PRINCIPLES.index(p)))


def choose_practice(
    items: Sequence[QuizItem],
    due: Mapping[str, datetime],
    scores: Mapping[str, Score],
    now: datetime,
    rng: random.Random,
    count: int = PRACTICE_LENGTH,
) -> list[QuizItem]:
    """Items for a practice session.

    Order of preference: items due for review (most overdue first), then items the person
    has never seen — the first from their weakest principle, the rest drawn at random
    weighted by weakness — then seen items that are not yet due, soonest first.
    """
    chosen: list[QuizItem] = []
    due_now = sorted(
        (i for i in items if i.id in due and due[i.id] <= now), key=lambda i: due[i.id]
    )
    chosen += due_now[:count]
    unseen = [i for i in items if i.id not in due]
    weak_principle = weakest_principle(scores)
    if len(chosen) < count and weak_principle:
        weakest = [i for i in unseen if i.principle == weak_principle]
        if weakest:
            first = rng.choice(weakest)
            chosen.append(first)
            unseen.remove(first)
    weights = weakness(scores)
    while len(chosen) < count and unseen:
        # Squared weights lean clearly towards weak principles without excluding the rest.
        w = [(weights[i.principle] + 0.05) ** 2 for i in unseen]
        pick = rng.choices(range(len(unseen)), weights=w, k=1)[0]
        chosen.append(unseen.pop(pick))
    if len(chosen) < count:
        taken = {i.id for i in chosen}
        later = sorted((i for i in items if i.id not in taken), key=lambda i: due.get(i.id, now))
        chosen += later[: count - len(chosen)]
    return chosen


class ExamUnavailable(Exception):
    """The content cannot cover every module and principle in one exam."""


def compose_exam(
    items: Sequence[QuizItem], rng: random.Random, count: int = EXAM_LENGTH
) -> list[QuizItem]:
    """``count`` distinct items covering all three modules and all five principles.

    One item per principle first, each preferring a module not yet covered; then any
    missing module; then the rest at random, spreading principles evenly. The result is
    shuffled so the covering items are not always first.
    """
    pool = list(items)
    rng.shuffle(pool)
    if len(pool) < count:
        raise ExamUnavailable(f"an exam needs {count} questions but only {len(pool)} exist")
    chosen: list[QuizItem] = []
    principles = list(PRINCIPLES)
    rng.shuffle(principles)
    for principle in principles:
        covered = {i.module for i in chosen}
        options = [i for i in pool if i.principle == principle and i not in chosen]
        if not options:
            raise ExamUnavailable(f"no questions for the principle {principle}")
        options.sort(key=lambda i: i.module in covered)  # uncovered modules first (stable)
        chosen.append(options[0])
    for module in MODULES:
        if any(i.module == module for i in chosen):
            continue
        options = [i for i in pool if i.module == module and i not in chosen]
        if not options:
            raise ExamUnavailable(f"no questions for the module {module}")
        chosen.append(options[0])
    while len(chosen) < count:
        per_principle = {p: sum(i.principle == p for i in chosen) for p in PRINCIPLES}
        rest = [i for i in pool if i not in chosen]
        rest.sort(key=lambda i: per_principle[i.principle])  # stable: pool order breaks ties
        chosen.append(rest[0])
    rng.shuffle(chosen)
    return chosen


def exam_passed(score: int, total: int) -> bool:
    return total > 0 and score * 100 >= PASS_PERCENT * total


# --- dates ---------------------------------------------------------------------------


def is_working_day(day: date, holidays: Container[date]) -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and day not in holidays


def streak(days_answered: Iterable[date], today: date, holidays: Container[date]) -> int:
    """Consecutive working days, back from today, with at least one answer.

    Weekends and bank holidays are skipped (they neither count nor break a streak). A day
    with no answer yet today does not break it either: the count starts from the
    previous working day until today is over.
    """
    days = set(days_answered)
    day = today
    if day not in days:
        day -= timedelta(days=1)
    count = 0
    for _ in range(3660):
        if not is_working_day(day, holidays):
            day -= timedelta(days=1)
            continue
        if day not in days:
            break
        count += 1
        day -= timedelta(days=1)
    return count


def add_months(when: datetime, months: int) -> datetime:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def month_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the calendar month containing ``now`` in ``tz``."""
    local = now.astimezone(tz)
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=tz)
    end = add_months(start, 1)
    return start.astimezone(UTC), end.astimezone(UTC)


def long_date(day: date) -> str:
    """``25 November 2026``: the GOV.UK style for dates."""
    return f"{day.day} {day:%B %Y}"
