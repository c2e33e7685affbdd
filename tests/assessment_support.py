"""Helpers for the self-assessment tests: a bot with the assessment on a teams file and
a protective marking, the questions, and which answer to give to each."""

from __future__ import annotations

import re
from pathlib import Path

from app import SERVICES
from bot.core.actions import button_value
from content.assessment.feature import SelfAssessment
from content.library.assessment import load_questionnaire
from tests.support import RunningBot, start_bot
from tests.training_support import write_teams

FEATURES = ["bot.commands.help", "content.assessment.feature"]
QUESTIONS = load_questionnaire()
TOTAL = len(QUESTIONS.questions)
MARKING = "OFFICIAL-SENSITIVE"


def assessment_env(base: dict[str, str], folder: Path, teams: str) -> dict[str, str]:
    return {
        **base,
        "SECBOT_PEOPLE_TEAMS": write_teams(folder, teams),
        "SECBOT_PROTECTIVE_MARKING": MARKING,
    }


async def start_assessment_bot(env, *, slack=None, connector=None, content=None) -> RunningBot:
    return await start_bot(
        env, slack=slack, connector=connector, features=FEATURES, content=content
    )


def feature_of(bot: RunningBot) -> SelfAssessment:
    return bot.app[SERVICES].feature(SelfAssessment)


RED, AMBER = {4, 9, 14}, {3, 7, 11, 15}  # by question index; recovery-plan stays green


def choice_for(index: int) -> int:
    """The answer given to question ``index`` in these tests: red or amber for a few, so
    the principles come out amber, red and green."""
    want = "red" if index in RED else "amber" if index in AMBER else "green"
    return next(n for n, a in enumerate(QUESTIONS.questions[index].answers) if a.rating == want)


def answer_value(assessment_id: int, index: int) -> str:
    return button_value(assessment_id, index, choice_for(index))


def anchors_resolve(page: str) -> tuple[set[str], set[str]]:
    """The in-page links of an HTML report and the ids they may land on."""
    links = set(re.findall(r'href="#([^"]+)"', page))
    ids = set(re.findall(r'id="([^"]+)"', page))
    return links, ids
