"""`secbot content lint [DIR]`: check content the same way the bot does at start-up.

Without DIR it checks the built-in content, including the minimum counts the shipped
course promises. With DIR it checks the built-in content merged with that organisation's
packs, exactly as start-up would with SECBOT_CONTENT_DIR; counts are not enforced then,
since an organisation may rightly retire items.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import loader
from .assessment import questionnaire_problems
from .fairness import key_longest_shares
from .loader import BUILTIN_DIR, Checked, ContentLibrary, check, pack_files
from .problems import Problem, display_path, errors
from .rules import check_counts

__all__ = ["count_problems", "lint_paths", "main"]


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += pack_files(path) if path.is_dir() else [path]
    return files


def lint_paths(paths: list[Path], today: date | None = None) -> list[Problem]:
    """Lint files (or directories of files) as one self-contained set, without the
    built-in content: duplicates within them are problems; counts are not checked.
    ``today`` judges the age of `checked:` dates (UTC today by default)."""
    return check(_expand(paths), today=today).problems


def count_problems(library: ContentLibrary) -> list[Problem]:
    """The minimum-size checks that apply to the built-in course."""
    return check_counts(library.counts(), where=display_path(BUILTIN_DIR))


@dataclass(frozen=True)
class DirCheck:
    """The content checked: the merge's outcome, the library, the pack's files and every
    problem (the count rules too when the built-in content is checked alone)."""

    checked: Checked
    library: ContentLibrary
    packs: list[Path]
    problems: list[Problem]


def check_dir(directory: Path | None, today: date | None, program: str) -> DirCheck | None:
    """The built-in content checked alone, or merged with an organisation's
    ``directory``; None, once said on stderr, if that isn't a directory."""
    packs: list[Path] = []
    if directory is not None:
        if not directory.is_dir():
            print(f"{program}: {directory} is not a directory", file=sys.stderr)
            return None
        packs = pack_files(directory)
    checked = check(loader.builtin_files(), packs, today)  # via the module so tests can swap it
    library = checked.library()
    problems = list(checked.problems)
    # The self-assessment's questions point at the shipped tips and questions by id: they
    # are checked with the shipped content (not with another built-in set, as tests use).
    base = loader.builtin_files()
    if base and all(p.resolve().is_relative_to(BUILTIN_DIR) for p in base):
        problems += questionnaire_problems(set(library.tips), set(library.quiz_items), today)
    if directory is None:
        problems += count_problems(library)
    return DirCheck(checked, library, packs, problems)


def main(argv: list[str] | None = None, today: date | None = None) -> int:
    """Exit 0 when there are no errors (warnings are printed but pass), 1 otherwise.
    ``today`` judges the age of `checked:` dates (UTC today unless a test gives one)."""
    parser = argparse.ArgumentParser(
        prog="secbot content lint",
        description="Check quiz items and tips against the rules in content/FORMAT.md.",
    )
    parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        help="an organisation's content directory, checked merged with the built-in content",
    )
    args = parser.parse_args(argv)
    run = check_dir(args.dir, today, "secbot content lint")
    if run is None:
        return 2
    checked, library, problems = run.checked, run.library, run.problems
    for problem in problems:
        print(problem)
    summary = library.counts().summary()
    if args.dir is not None:
        summary += (
            f"; pack {display_path(args.dir)}: {len(run.packs)} files, {checked.added} added, "
            f"{checked.overridden} overridden, {checked.retired} retired"
        )
    shares = ", ".join(str(s) for s in key_longest_shares(library.quiz_items.values()))
    if shares:
        print(f"correct answer is the longest option: {shares}")
    failing = errors(problems)
    if len(problems) > len(failing):
        print(f"{len(problems) - len(failing)} warnings (shown above; they don't fail the lint)")
    print(f"{summary}; {len(failing)} problems; content version {library.version}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
