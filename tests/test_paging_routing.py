"""The routing file: the shipped example loads, rules pick teams, mistakes are named."""

from __future__ import annotations

import pytest

from incidents.paging import IncidentInfo, RoutingError, load_routing
from incidents.paging.routing import DEFAULT_ROUTING

BASE = """
default_team: duty
targets:
  pd: {type: pagerduty, routing_key_env: PD_KEY, fallback: sms}
  sms: {type: notify_sms, phone: "07700 900123", template_id: t1}
  room: {type: chat, platform: web, channel: incidents, drill_safe: true}
teams:
  duty:
    members: [slack:U1]
    escalation:
      steps:
        - {targets: [pd, room], wait_minutes: 5}
  dfe:
    members: [U2]
    escalation: {steps: [{targets: room}], repeat: 2}
rules:
  - {team: dfe, department: Department for Education, min_severity: 2}
  - {team: dfe, account: ["@HMRCgovuk"], platform: x}
"""


def incident(**kw) -> IncidentInfo:
    fields = dict(
        id="I1",
        summary="s",
        platform="x",
        account="@Someone",
        department=None,
        severity=3,
        drill=False,
        reporter="slack:U9",
    )
    fields.update(kw)
    return IncidentInfo(**fields)


def write(tmp_path, text: str):
    path = tmp_path / "routing.yml"
    path.write_text(text)
    return path


def error_for(tmp_path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(RoutingError) as e:
        load_routing(path)
    assert str(path) in str(e.value)
    return str(e.value)


def test_the_shipped_example_loads():
    config = load_routing(DEFAULT_ROUTING)
    assert config.default_team in config.teams
    assert config.team_for(incident(severity=1)).name == "major-incident"
    assert config.team_for(incident(severity=2)).name == "social-media-duty"
    # the example pages the local web chat first, so it works with no accounts at all
    assert config.targets["duty-chat"].drill_safe


def test_first_matching_rule_wins_with_a_default(tmp_path):
    config = load_routing(write(tmp_path, BASE))
    dfe = "department for education"
    assert config.team_for(incident(department=dfe, severity=1)).name == "dfe"
    assert config.team_for(incident(department=dfe, severity=2)).name == "dfe"
    assert config.team_for(incident(department=dfe, severity=3)).name == "duty"
    assert config.team_for(incident(account="hmrcgovuk")).name == "dfe"  # "@" and case optional
    assert config.team_for(incident(account="@HMRCgovuk", platform="facebook")).name == "duty"
    dfe_team = config.teams["dfe"]
    assert dfe_team.escalation.repeat == 2 and dfe_team.escalation.steps[0].targets == ["room"]
    assert dfe_team.is_member("slack:U2") and dfe_team.is_member("teams:U2")
    assert config.teams["duty"].is_member("slack:U1")
    assert not config.teams["duty"].is_member("teams:U1")


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "targets: [pd, room]",
            "targets: [pd, nope]",
            "teams.duty.escalation.steps[0].targets[1]: unknown target 'nope' (defined: pd, room",
        ),
        ("wait_minutes: 5", "wait_minutes: -1", "teams.duty.escalation.steps[0].wait_minutes"),
        (
            "routing_key_env: PD_KEY",
            "routing_key_env: 'PD KEY'",
            "routing_key_env: routing_key_env must be the name of an environment variable",
        ),
        ("fallback: sms}", "fallback: smss}", "targets.pd.fallback: unknown target 'smss'"),
        ("default_team: duty", "default_team: nobody", "default_team: unknown team 'nobody'"),
        ("min_severity: 2", "min_severity: 5", "rules[0].min_severity"),
        ("channel: incidents,", "channel: incidents, colour: red,", "targets.room.colour: unknown"),
        ("type: notify_sms", "type: fax", "targets.sms: Input tag 'fax'"),
        ('phone: "07700 900123"', "phone: call me", "targets.sms.phone"),
        ("{targets: room}", "{targets: []}", "teams.dfe.escalation.steps[0].targets"),
        ("repeat: 2", "repeat: 99", "teams.dfe.escalation.repeat"),
    ],
)
def test_mistakes_name_the_file_and_the_field(tmp_path, old, new, expected):
    assert old in BASE
    assert expected in error_for(tmp_path, BASE.replace(old, new, 1))


def test_fallback_loops_and_bad_chat_targets_are_refused(tmp_path):
    loop = BASE.replace("template_id: t1}", "template_id: t1, fallback: pd}")
    assert "go round in a circle (pd -> sms -> pd)" in error_for(tmp_path, loop)
    teams_user = BASE.replace("platform: web, channel: incidents", "platform: teams, user: x")
    assert "conversation id as channel" in error_for(tmp_path, teams_user)
    two_places = BASE.replace("channel: incidents", "channel: incidents, user: u")
    assert "exactly one of channel, user or origin" in error_for(tmp_path, two_places)


def test_unreadable_files_are_explained(tmp_path):
    with pytest.raises(RoutingError, match="was not found: set SECBOT_ROUTING"):
        load_routing(tmp_path / "missing.yml")
    assert "is given twice" in error_for(tmp_path, BASE + "default_team: dfe\n")
    assert "not valid YAML at line 2" in error_for(tmp_path, "a: 1\n  b: [\n")
    assert "must be a mapping" in error_for(tmp_path, "- just a list\n")


def test_a_bad_routing_file_stops_start_up_with_a_config_error(tmp_path):
    from bot.settings import ConfigError

    assert issubclass(RoutingError, ConfigError)  # app.main prints it as one line, exit 2
