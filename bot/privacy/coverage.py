"""Every table that holds a person, and what export and erasure do with it.

One list, read by ``bot.privacy.data``: a table is named here by its name on the shared
``metadata`` (the bot imports no domain, so it names domain tables rather than importing
them). ``tests/test_privacy_coverage.py`` looks through the MetaData for columns that
look like a person (user, actor, person, voter, reporter, commander, author, assignee,
*_by, *_name, ...) and fails until each one is covered here, or listed in
:data:`NOT_PEOPLE` with the reason; a feature that adds a table with people in it adds
its line with :func:`declare`, next to the table.

What erasure does, by table:

- ``delete``: the rows about the person go (quiz answers and progress, exam attempts,
  tip votes, web chat history, message clips, Teams ids, dead letters they sent);
- ``pseudonymise``: the rows stay, so an incident record keeps its shape, with the
  person's key replaced by ``erased:3f2a9c`` and their name, wherever the record
  writes it, by ``Person 3f2a9c`` (``bot.privacy.pseudonyms``); subscriptions they made
  and quiz posts they asked for stay too, because they belong to the channel;
- ``keep``: the audit log, which nobody can change (it names people by pseudonym).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Erase = Literal["delete", "pseudonymise", "keep"]


@dataclass(frozen=True)
class Held:
    """How one table holds people.

    ``people``: (key column, name column or "") pairs, the key being ``platform:id``.
    ``ids``: columns holding the bare platform id of a person on ``platform``.
    ``dm``: a column holding ``<dm_prefix><id>`` (the web chat's direct conversations).
    ``chat_targets``: JSON columns holding the routing file's chat targets, where a
    ``user`` on the person's platform is them. ``mentions``: text columns that may hold
    the id inside a JSON or raw body (matched, then checked in Python). ``names``:
    columns holding only a name (no key), matched against the person's known names.
    ``texts``: free text in which the person's names are replaced on erasure, in their
    rows and in rows of incidents they were part of. ``places``: JSON columns holding a
    ``Place`` (``Place.to_json()``), whose web chat direct conversation ``dm-<id>`` names
    the person: on erasure the id there becomes the pseudonymous key. ``through``:
    (column, table): the row is the person's when that column holds the id of one of
    their rows in that table (an exam result's statement for the learning record store);
    such a table is listed before the one it points at, so erasure deletes it first.
    """

    table: str
    erase: Erase
    what: str  # plain words for the confirmation: "quiz answers"
    people: tuple[tuple[str, str], ...] = ()
    ids: tuple[str, ...] = ()
    platform: str = ""
    dm: str = ""
    dm_prefix: str = ""
    mentions: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    only: str = ""  # a 0/1 column that must be 1 for a mention to count (is_personal)
    # JSON columns holding routing-file chat targets ({"platform": …, "user": <id>}).
    chat_targets: tuple[str, ...] = ()
    # Bare ids on the tenant's own platform, whichever that is (the register's tables hold
    # ids of the workspace or tenant the row belongs to, on Slack, Teams or the web chat).
    any_platform: bool = False
    places: tuple[str, ...] = ()
    through: tuple[str, str] | None = None


# Deletion order matters where rows point at each other: answers before sessions.
HELD: dict[str, Held] = {}


def declare(held: Held) -> None:
    """Cover a table (a feature calls this next to a table it adds)."""
    HELD[held.table] = held


for _held in (
    # --- the quiz: about them, deleted ------------------------------------------------
    Held("quiz_answers", "delete", "quiz answers", people=(("user_key", "user_name"),)),
    # Before the exam results they point at (the foreign key has no ON DELETE): each
    # is an xAPI statement with the person's name, sent or waiting to go to the learning
    # record store (what the store itself keeps is asked of its own operator).
    Held("xapi_outbox", "delete", "exam results for the learning record store",
         through=("exam_result_id", "quiz_exam_results")),
    Held("quiz_exam_results", "delete", "exam attempts", people=(("user_key", "user_name"),)),
    Held("quiz_cards", "delete", "practice progress (spaced repetition)",
         people=(("user_key", ""),)),
    Held("quiz_prefs", "delete", "quiz preferences", people=(("user_key", ""),)),
    Held("quiz_prompts", "delete", "quiz questions shown to them", people=(("user_key", ""),)),
    Held("quiz_sessions", "delete", "practice sessions and exams",
         people=(("user_key", "user_name"),)),
    Held("quiz_posts", "pseudonymise", "channel quizzes they asked for",
         people=(("posted_by", ""),)),
    # --- tips -------------------------------------------------------------------------
    Held("tip_votes", "delete", "tip votes", people=(("voter", ""),)),
    Held("tip_subscriptions", "pseudonymise", "tip subscriptions they set up",
         people=(("created_by", ""),)),
    # --- the web chat and Teams -------------------------------------------------------
    Held("webchat_messages", "delete", "web chat messages", ids=("visible_to", "author"),
         platform="web", dm="conversation", dm_prefix="dm-"),
    Held("teams_users", "delete", "their Teams id", ids=("user_id",), platform="teams"),
    Held("teams_conversations", "delete", "their personal Teams chat reference",
         mentions=("reference",), platform="teams", only="is_personal"),
    Held("dead_letters", "delete", "failed deliveries they sent", mentions=("payload",),
         platform="slack"),
    # --- incidents: kept, with a pseudonym ------------------------------------------------
    Held("incidents", "pseudonymise", "incidents they reported, led or acknowledged",
         people=(("reporter", "reporter_name"), ("commander", "commander_name"),
                 ("acked_by", "acked_by_name")),
         texts=("summary",), places=("origin", "room")),
    Held("incident_people", "pseudonymise", "incidents they were added to",
         people=(("person", "name"), ("added_by", ""))),
    Held("incident_events", "pseudonymise", "incident timeline entries they wrote",
         people=(("actor", "actor_name"),), texts=("text",)),
    Held("incident_steps", "pseudonymise", "incident checklist steps they ticked or held",
         people=(("by_key", "by_name"), ("assignee", "assignee_name"), ("help_by", "help_name")),
         texts=("reason",)),
    Held("incident_checklists", "pseudonymise", "incident closes they asked for",
         people=(("close_by", ""),), texts=("close_summary",)),
    Held("incident_ico", "pseudonymise", "ICO decisions they started, made or were DPO for",
         people=(("started_by", ""), ("dpo", "dpo_name"), ("decided_by", "decided_by_name")),
         texts=("reason",)),
    Held("incident_takedowns", "pseudonymise", "takedown requests they logged",
         people=(("added_by", "added_by_name"),)),
    Held("incident_evidence", "pseudonymise", "incident evidence they kept or wrote",
         people=(("by_key", "by_name"),), names=("name",)),
    Held("timeline_clips", "delete", "messages they were adding to a timeline",
         people=(("actor", ""),)),
    Held("incident_holding_lines", "pseudonymise", "holding statements they edited or posted",
         people=(("edited_by", "edited_by_name"), ("approved_by", "approved_by_name"),
                 ("posted_by", "posted_by_name")), texts=("text",)),
    Held("paging_incidents", "pseudonymise", "pages they acknowledged, or chains naming them",
         people=(("acknowledged_by", "acknowledged_by_name"),), texts=("info",),
         chat_targets=("chain",)),
    Held("paging_outbox", "pseudonymise", "pages sent to them in chat (paging targets)",
         chat_targets=("target",)),
    # --- the accounts register and access reviews (issue 19): kept, with a pseudonym -----
    # Who can reach an official account is security evidence (a leaver who still has the
    # password must stay visible), so these rows keep their shape; owners' and holders'
    # ids and names become the pseudonym. Ids are bare ids on the tenant's platform.
    Held("register_accounts", "pseudonymise", "official accounts they own or last changed",
         people=(("updated_by_key", "updated_by"),), ids=("owner_id",), any_platform=True,
         names=("owner_name",), texts=("owner_email",)),
    Held("register_access", "pseudonymise", "official accounts they can reach",
         people=(("person_key", "name"),), ids=("user_id",), any_platform=True),
    Held("register_imports", "delete", "register imports they shared and had not applied",
         people=(("by_key", ""),)),
    Held("access_reviews", "pseudonymise", "access reviews they owned, answered or were in",
         people=(("done_by", "done_by_name"),), ids=("owner_id",), any_platform=True,
         names=("owner_name",),
         mentions=("people",), texts=("people",), places=("place",)),
    Held("access_review_decisions", "pseudonymise", "access review decisions about or by them",
         people=(("person_key", "person_name"), ("decided_by", "decided_by_name"))),
    Held("leaver_tasks", "pseudonymise", "leaver tasks about them, opened or confirmed by them",
         people=(("person_key", "leaver_name"), ("opened_by", "opened_by_name"),
                 ("confirmed_by", "confirmed_by_name")),
         ids=("owner_id", "leaver_id"), any_platform=True, names=("owner_name",)),
    # --- assigned training: kept with a pseudonym (its reminders point at it) ----------
    Held("training_assignments", "pseudonymise", "training assigned to them or by them",
         people=(("user_key", "user_name"), ("assigned_by", "assigned_by_name")),
         places=("place",)),
    # --- team self-assessments: kept with a pseudonym (a team's record) ----------------
    Held("assessments", "pseudonymise", "team self-assessments they started or finished",
         people=(("started_by", "started_by_name"), ("finished_by", "finished_by_name")),
         places=("place",)),
    Held("assessment_answers", "pseudonymise", "self-assessment answers they gave",
         people=(("answered_by", "answered_by_name"),)),
    # --- the audit log: never changed ---------------------------------------------------
    Held("audit_log", "keep", "audit entries by them or about them",
         people=(("actor", "actor_name"),)),
):  # fmt: skip
    declare(_held)

# Columns that look like a person's but are not, with the reason.
NOT_PEOPLE: dict[tuple[str, str], str] = {
    ("webchat_messages", "sender"): "'user' or 'bot', not who (author says who)",
    ("audit_log", "subject"): "a pseudonym, never a name or an id",
    ("privacy_keys", "name"): "the name of a key",
    ("leaders", "name"): "what is led, not who",
    ("assessments", "team_name"): "the name of a team, not of a person",
}
# Column names that are never a person, in any table.
NOT_PEOPLE_COLUMNS: dict[str, str] = {
    "claimed_by": "the secbot instance holding a lease, not a person",
}
