"""Fair questions: rules that stop a test-wise reader finding the answer without knowing it.

A review found distractors used absolute words ("always", "never", "only") nearly three
times as often as correct answers, and the correct answer was the longest option a third
of the time. Readers learn such cues fast, so each is a lint rule:

- ``absolute-words``: a wrong answer uses an absolute word the correct answer does not.
  Absolutes are allowed where they are true, so one in the key and the distractors alike
  gives nothing away.
- ``key-longest``: across a module, the correct answer is the longest option more often
  than chance (one in four) allows: over 30% fails. Judged only where a module has
  enough items for a share to mean something.
- ``option-spread``: the longest option is more than ``MAX_SPREAD`` times the shortest
  (the key-relative 50-200% rule alone would allow four times).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .entry import Entry
from .models import MODULES, QuizItem
from .problems import Problem

# Words that make a claim absolute. "all"/"only" are the common giveaways; "any" and
# "must" are left out because they are usually plain instructions, not overstatement.
ABSOLUTE_WORDS = (
    "always",
    "never",
    "only",
    "all",
    "none",
    "every",
    "everyone",
    "everything",
    "nobody",
    "nothing",
    "no one",
)
_ABSOLUTE = re.compile(
    r"\b(" + "|".join(w.replace(" ", r"\s+") for w in ABSOLUTE_WORDS) + r")\b", re.IGNORECASE
)

_ABOVE = re.compile(r"\b(?:all|none)\s+of\s+the\s+above\b", re.IGNORECASE)

KEY_LONGEST_MAX = 0.30
KEY_LONGEST_MIN_ITEMS = 20  # fewer than this and one item swings the share by 5 points
MAX_SPREAD = 2.5


def absolute_words(text: str) -> list[str]:
    """The absolute words in ``text``, lower case, in order."""
    return [" ".join(m.group(1).lower().split()) for m in _ABSOLUTE.finditer(text)]


def key_is_longest(item: QuizItem) -> bool:
    """True when the correct answer is strictly longer than every wrong one."""
    key = item.correct_index
    size = len(item.options[key].text.en)
    return all(size > len(o.text.en) for i, o in enumerate(item.options) if i != key)


def _option_keys(index: int) -> tuple[str | int, ...]:
    return ("options", index, "text", "en")


def check_absolute_words(entry: Entry, item: QuizItem) -> list[Problem]:
    if not 0 <= item.correct_index < len(item.options):
        return []
    if absolute_words(item.options[item.correct_index].text.en):
        return []
    problems = []
    for i, option in enumerate(item.options):
        # "All/none of the above" has its own rule (above-option); don't report it twice.
        found = [] if _ABOVE.search(option.text.en) else absolute_words(option.text.en)
        if i != item.correct_index and found:
            problems.append(
                entry.problem(
                    "absolute-words",
                    f"option {i + 1} says {', '.join(repr(w) for w in found)} but the correct "
                    "answer has no absolute word, which marks it as wrong; reword it as a "
                    "plausible mistake",
                    *_option_keys(i),
                )
            )
    return problems


def check_option_spread(entry: Entry, item: QuizItem) -> list[Problem]:
    sizes = [len(o.text.en) for o in item.options]
    if not sizes or min(sizes) == 0 or max(sizes) <= MAX_SPREAD * min(sizes):
        return []
    longest, shortest = sizes.index(max(sizes)), sizes.index(min(sizes))
    return [
        entry.problem(
            "option-spread",
            f"option {longest + 1} is {max(sizes)} characters but option {shortest + 1} is "
            f"{min(sizes)}; keep every option within {MAX_SPREAD:g} times the shortest",
            *_option_keys(longest),
        )
    ]


@dataclass(frozen=True)
class Share:
    """How often the correct answer is the longest option, in one module."""

    module: str
    longest: int
    items: int

    @property
    def share(self) -> float:
        return self.longest / self.items if self.items else 0.0

    @property
    def judged(self) -> bool:
        return self.items >= KEY_LONGEST_MIN_ITEMS

    @property
    def failed(self) -> bool:
        return self.judged and self.share > KEY_LONGEST_MAX

    def __str__(self) -> str:
        return f"{self.module} {self.longest}/{self.items} ({self.share:.0%})"


def key_longest_shares(items: Iterable[QuizItem]) -> list[Share]:
    """The share for each module that has items, in the usual module order."""
    longest: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for item in items:
        if sum(o.correct for o in item.options) != 1:
            continue  # one-correct reports it; there is no key to measure
        total[item.module] += 1
        longest[item.module] += key_is_longest(item)
    return [Share(m, longest[m], total[m]) for m in MODULES if total[m]]


def check_key_longest(entries: Sequence[Entry]) -> list[Problem]:
    """One problem per module whose share is over the limit, listing the items to fix."""
    items = [(e, e.model) for e in entries if isinstance(e.model, QuizItem)]
    problems = []
    for share in key_longest_shares(item for _, item in items):
        if not share.failed:
            continue
        culprits = [e for e, item in items if item.module == share.module and key_is_longest(item)]
        first = culprits[0]
        listed = ", ".join(e.id for e in culprits[:12]) + (" ..." if len(culprits) > 12 else "")
        problems.append(
            Problem(
                first.path,
                None,
                "key-longest",
                share.module,
                f"the correct answer is the longest option in {share} of the module's items; "
                f"at most {KEY_LONGEST_MAX:.0%} allowed (chance is 25%). Items: {listed}",
            )
        )
    return problems
