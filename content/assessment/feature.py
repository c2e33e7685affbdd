"""``/secbot assess <team>``: a team's self-assessment against the NCSC's five principles.

Who may run it is decided here, as ``training`` does (``content/training``): secbot
admins for any team (a team in the teams file, or one they name), and a team's leads
(named in the teams file, ``SECBOT_PEOPLE_TEAMS``) for their own. Anyone else, and a
team that does not exist, get the same words.

- ``assess <team>`` starts the team's assessment, or carries on with the unfinished
  one: each answer is kept as it is given, so it survives a stop and a restart;
- the cards' buttons answer (``assess:answer``), go back or on (``assess:show``) and
  finish (``assess:finish``), which sends the report;
- ``assess report <team>`` sends the latest finished report again.

Starting and finishing go to the audit log. The report is a short chat summary and two
files (Markdown and HTML) through the transport's upload, in a direct chat only: it
describes a team's weak spots, so it is not for a channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import audit
from bot.audit.files import upload
from bot.core import Turn
from bot.core.actions import value_ints, verb
from bot.core.hints import typed
from bot.core.inert import inert, too_long
from bot.core.model import Context, Heading, Message, Section
from bot.core.tenancy import tenant_of
from content.assessment import cards, report_html
from content.assessment import report as rendering
from content.assessment.scoring import score
from content.assessment.store import ALREADY, FINISHED, Assessment, AssessmentStore
from content.library.assessment import Questionnaire, load_questionnaire
from content.training.nudges import LONDON
from content.training.teams import TeamsFile, load_teams

if TYPE_CHECKING:
    from bot.core.features import FeatureHost
    from bot.core.turn import Services

MAX_TEAM_NAME = 60
REFUSAL = (
    "Only secbot admins and a team's leads can run its self-assessment. Check the team's"
    " name as the teams file gives it, or ask one of its leads."
)


def _typed(turn: Turn, words: str) -> str:
    return typed(turn.place, words, slack_command="secbot")


def team_key(name: str) -> str:
    """How a team is known in the database: its name in lower case, spaces collapsed."""
    return " ".join(inert(name, multiline=False).split()).casefold()


class SelfAssessment:
    def __init__(self, services: Services, teams: TeamsFile, questions: Questionnaire):
        self.services = services
        self.teams = teams
        self.questions = questions
        self.store = AssessmentStore(services.db)

    # --- who may do what -----------------------------------------------------------

    def may_assess(self, turn: Turn, key: str) -> bool:
        if self.services.is_admin(turn.actor):
            return True
        team = self.teams.team(key) if key else None
        return team is not None and team.led_by(turn.actor.key)

    async def refuse(self, turn: Turn) -> None:
        """The same words for a team that does not exist and one you don't lead."""
        await turn.reply(cards.say(REFUSAL))

    # --- the command ---------------------------------------------------------------

    async def command(self, turn: Turn) -> None:
        words = " ".join(turn.args.split())
        first, _, rest = words.partition(" ")
        if first.lower() == "report" and rest:
            await self.resend(turn, rest)
            return
        if not words:
            led = self.teams.led_by(turn.actor.key)
            if len(led) == 1 and not self.services.is_admin(turn.actor):
                words = led[0]
            else:
                example = _typed(turn, f"assess {led[0] if led else 'social-media'}")
                await turn.reply(cards.say(f"Say which team, for example {example}."))
                return
        await self.start(turn, words)

    async def start(self, turn: Turn, name: str) -> None:
        long = too_long("A team name", name, MAX_TEAM_NAME)
        if long:
            await turn.reply(cards.say(long))
            return
        key = team_key(name)
        if not key or not self.may_assess(turn, key):
            await self.refuse(turn)
            return
        shown = key if self.teams.team(key) is not None else " ".join(inert(name).split())
        now = self.services.clock.now()
        a, made = await self.store.start(
            tenant_of(turn.place), key, shown, turn.actor, turn.place.to_json(), now
        )
        if made:
            await audit.record(turn, "started a self-assessment", f"team {shown}")
        answers = await self._answers(a)
        total = len(self.questions.questions)
        if made:
            note = (
                f"{total} questions on the NCSC's five principles for social media accounts."
                " Choose the answer closest to how your team works today."
            )
        else:
            note = f"Welcome back: {len(answers)} of {total} answered so far."
        nxt = cards.first_unanswered(self.questions, set(answers))
        if nxt is None:
            await turn.reply(cards.ready(turn.place, a, self.questions, len(answers)))
        else:
            await turn.reply(cards.question(turn.place, a, self.questions, nxt, answers, note))

    async def _answers(self, a: Assessment) -> dict[str, str]:
        return {q: ans.answer_id for q, ans in (await self.store.answers(a.id)).items()}

    # --- the buttons ---------------------------------------------------------------

    async def action(self, turn: Turn) -> None:
        what = verb(turn.incoming.action_id or "")
        sizes = {"answer": 3, "show": 2, "finish": 1}
        parsed = value_ints(turn.incoming.value or "", sizes[what]) if what in sizes else None
        a = await self.store.get(tenant_of(turn.place), parsed[0]) if parsed else None
        if parsed is None or a is None or not self.may_assess(turn, a.team):
            await self.refuse(turn)
            return
        if a.finished_at is not None and what != "finish":
            await turn.reply(
                cards.say(
                    f"The self-assessment for {a.team_name} is finished. Type"
                    f" {cards.carry_on(turn.place, a.team_name)} to start a new one, or"
                    f" {_typed(turn, f'assess report {a.team_name}')} for its report."
                )
            )
            return
        if what == "answer":
            await self.answer(turn, a, parsed[1], parsed[2])
        elif what == "show":
            await self.show(turn, a, parsed[1])
        else:
            await self.finish(turn, a)

    async def answer(self, turn: Turn, a: Assessment, index: int, choice: int) -> None:
        qs = self.questions.questions
        if index >= len(qs) or choice >= len(qs[index].answers):
            await self.show(turn, a, 0)  # a card from before the questions changed
            return
        q = qs[index]
        now = self.services.clock.now()
        if not await self.store.answer(a.id, q.id, q.answers[choice].id, turn.actor, now):
            await turn.reply(cards.say(f"The self-assessment for {a.team_name} is finished."))
            return
        answers = await self._answers(a)
        nxt = cards.first_unanswered(self.questions, set(answers), after=index)
        if nxt is None:
            await turn.update_original(cards.ready(turn.place, a, self.questions, len(answers)))
        else:
            await turn.update_original(cards.question(turn.place, a, self.questions, nxt, answers))

    async def show(self, turn: Turn, a: Assessment, index: int) -> None:
        index = min(index, len(self.questions.questions) - 1)
        answers = await self._answers(a)
        await turn.update_original(cards.question(turn.place, a, self.questions, index, answers))

    async def finish(self, turn: Turn, a: Assessment) -> None:
        answers = await self._answers(a)
        missing = cards.first_unanswered(self.questions, set(answers))
        if a.finished_at is None and missing is not None:
            await turn.update_original(
                cards.question(turn.place, a, self.questions, missing, answers,
                               "Answer every question before you finish.")
            )  # fmt: skip
            return
        now = self.services.clock.now()
        outcome = await self.store.finish(a.id, turn.actor, now, turn.incoming.delivery_id)
        if outcome == ALREADY:
            await turn.reply(
                cards.say(
                    f"The self-assessment for {a.team_name} is finished already. Type"
                    f" {_typed(turn, f'assess report {a.team_name}')} for its report."
                )
            )
            return
        if outcome == FINISHED:
            await audit.record(turn, "finished a self-assessment", f"team {a.team_name}")
        done = await self.store.get(a.tenant, a.id)
        assert done is not None
        built = self.build(done, answers)
        await turn.update_original(cards.finished(done, rendering.RATING_WORDS[built.overall]))
        await self.deliver(turn, done, built)

    # --- the report ----------------------------------------------------------------

    def build(self, a: Assessment, answers: dict[str, str]) -> rendering.Report:
        finished = (a.finished_by_name or "", a.finished_at) if a.finished_at is not None else None
        return rendering.build(
            marking=self.services.settings.protective_marking,
            team=a.team_name,
            started=(a.started_by_name, a.started_at),
            finished=finished,
            scores=score(self.questions, answers),
            library=self.services.content,
        )

    async def deliver(self, turn: Turn, a: Assessment, built: rendering.Report) -> None:
        """The chat summary, and both files where the asker is talking to secbot
        directly (a channel gets the summary and where to ask for the files)."""
        assert a.finished_at is not None
        stamp = a.finished_at.astimezone(LONDON).strftime("%Y-%m-%d")
        name = f"self-assessment-{_file_part(a.team)}-{stamp}"
        lines = rendering.summary_lines(built)
        to_fix = sum(1 for s in built.scores for i in s.items if i.to_fix)
        where = (
            f"{to_fix} answers need a fix: each is in {name}.html and {name}.md, below."
            if turn.place.is_direct
            else "For the report files, ask in your direct chat with secbot: type"
            f" {_typed(turn, f'assess report {a.team_name}')}."
        )
        head = f"Self-assessment report: {a.team_name} ({built.marking})"
        await turn.reply(
            Message(
                f"{head}\n" + "\n".join(lines) + f"\n{where}",
                (Heading(head), *(Section(line) for line in lines), Context((where,))),
                private=True,
            )
        )
        if turn.place.is_direct:
            library = self.services.content
            await upload(turn, f"{name}.html", report_html.html_report(built, library))
            await upload(turn, f"{name}.md", rendering.markdown(built, library))

    async def resend(self, turn: Turn, name: str) -> None:
        key = team_key(name)
        if not key or not self.may_assess(turn, key):
            await self.refuse(turn)
            return
        a = await self.store.latest_finished(tenant_of(turn.place), key)
        if a is None:
            await turn.reply(
                cards.say(
                    f"There's no finished self-assessment for that team yet. Type"
                    f" {cards.carry_on(turn.place, name[:MAX_TEAM_NAME])} to start one."
                )
            )
            return
        await self.deliver(turn, a, self.build(a, await self._answers(a)))


def _file_part(team: str) -> str:
    """A team's name as safe letters for a file name."""
    safe = "".join(c if c.isascii() and c.isalnum() else "-" for c in team)
    return "-".join(p for p in safe.split("-") if p)[:40] or "team"


def setup(host: FeatureHost) -> None:
    services = host.services
    feature = SelfAssessment(
        services, load_teams(services.settings.people_teams), load_questionnaire()
    )
    services.provide(feature)
    host.registry.add_command(
        "assess",
        "A team's self-assessment against the NCSC's five principles (admins and team leads)",
        feature.command,
        usage="assess <team> | assess report <team>",
    )
    host.registry.add_action("assess", feature.action)
