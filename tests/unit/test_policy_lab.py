"""The policy evaluation against answers known by hand, through the app's own policy functions."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shared.domain.ip_policy import IpPolicy
from shared.domain.policy import Policy
from shared.domain.policy_lab import LabSettings, Strategy, attack_row, evaluate, honest_row
from shared.services.policy_evaluation import markdown

LAB = LabSettings(Policy(), IpPolicy())


@pytest.mark.parametrize("spoofs", [1, 2, 3, 5])
def test_an_attacker_that_always_fails_is_flagged_after_exactly_the_spoof_threshold(spoofs):
    lab = replace(LAB, policy=replace(LAB.policy, spoofs_to_flag=spoofs))
    row = attack_row(Strategy.ONE_GUID, 0.0, lab, seed=7)
    assert row.attempts_before_flag == spoofs and row.never_flagged == 0 and row.passes_before_stopped == 0


def test_an_honest_person_who_never_fails_is_never_refused():
    row = honest_row(0.0, LAB, seed=7)
    assert (row.timed_out_per_10000, row.flagged_per_10000, row.blocked_per_10000) == (0, 0, 0)


def test_raising_a_threshold_never_lowers_the_attempts_an_attacker_gets():
    before_flag = []
    for spoofs in (2, 3, 4, 6):
        lab = replace(LAB, policy=replace(LAB.policy, spoofs_to_flag=spoofs))
        before_flag.append(attack_row(Strategy.ONE_GUID, 0.01, lab, seed=3).attempts_before_flag)
    assert before_flag == sorted(before_flag)


def test_rotating_guids_under_the_threshold_is_caught_by_the_address_rule_and_not_by_the_subject_rule():
    row = attack_row(Strategy.ROTATE_GUIDS, 0.0, LAB, seed=3)
    assert row.attempts_before_first_refusal == LAB.ip_policy.failed_checks_limit and row.never_flagged == 1


def test_erasing_between_attempts_resumes_the_counts():
    erasing = attack_row(Strategy.ERASE_BETWEEN, 0.0, LAB, seed=3)
    assert erasing.attempts_before_flag == LAB.policy.spoofs_to_flag


def test_more_attempts_per_session_let_a_pre_issuing_attacker_attempt_more_before_the_flag_is_read():
    one = attack_row(Strategy.PRE_ISSUE, 0.0, LAB, seed=3).attempts_before_flag
    three = attack_row(Strategy.PRE_ISSUE, 0.0, replace(LAB, client_attempts=3), seed=3).attempts_before_flag
    assert one == LAB.policy.spoofs_to_flag and three is not None and three >= one


def test_the_same_settings_give_byte_identical_answers_and_a_fingerprint_of_them():
    first, again = evaluate(LAB, seed=1), evaluate(LAB, seed=1)
    assert json.dumps(first.as_dict(), default=str) == json.dumps(again.as_dict(), default=str)
    other = replace(LAB, policy=replace(LAB.policy, spoofs_to_flag=4))
    assert first.fingerprint != other.fingerprint()
    assert len(first.honest) == 3 and len(first.attackers) == 15  # bounded: 18 rows whatever the settings
    assert markdown(first).count("\n|") >= 18


def test_the_abuse_policy_doc_carries_the_evaluation_of_the_defaults():
    """Regenerate with `python -m shared.services.policy_evaluation --markdown` after a policy change."""
    from pathlib import Path

    from shared.services.policy_evaluation import evaluation, lab_settings
    from shared.settings import load_settings
    from shared.settings_catalog import sample

    doc = (Path(__file__).resolve().parents[2] / "docs" / "abuse-policy.md").read_text()
    shown = doc.split("<!-- policy evaluation: python -m shared.services.policy_evaluation --markdown -->\n", 1)[1]
    shown = shown.split("<!-- end of policy evaluation -->", 1)[0]
    assert shown == markdown(evaluation(lab_settings(load_settings(sample()["Values"]))))


def test_the_cli_prints_the_table_for_candidate_settings_and_names_an_impossible_one(capsys):
    from shared.services.policy_evaluation import main

    assert main(["--set", "POLICY_SPOOFS_TO_FLAG=4", "--markdown"]) == 0
    assert "| one_guid | 0.5% pass | 4 | 4 |" in capsys.readouterr().out
    assert main(["--set", "POLICY_SPOOFS_TO_FLAG=0"]) == 2
    assert "POLICY_SPOOFS_TO_FLAG" in capsys.readouterr().err
