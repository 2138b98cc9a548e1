"""The interview module: the quiz is well-formed, scoring is right, the decision guide reasons as documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from esdemo.interview import (
    INTERVIEW_QUESTIONS,
    QUESTIONS_ABOUT_A_SYSTEM,
    QUIZ,
    Fit,
    Option,
    Question,
    SystemProfile,
    advise,
    explain,
    score,
)

COURSE = ("01_cqrs", "02_event_sourcing", "03_event_store", "05_aggregates", "06_projections",
          "08_rebuilding_projections", "09_snapshots", "10_schema_evolution", "11_eventual_consistency",
          "15_capstone_order_system", "12_throughput_and_gaps", "16_capstone_read_side_and_operations")


# -- the quiz -----------------------------------------------------------------------------------------

def test_every_question_has_one_right_option_and_every_option_a_reason():
    for question in QUIZ:
        assert sum(o.correct for o in question.options) == 1
        assert all(o.text.strip() and len(o.why) > 20 for o in question.options), question.prompt


def test_the_quiz_covers_all_six_interview_questions_and_links_course_notebooks():
    assert {q.topic for q in QUIZ} == set(INTERVIEW_QUESTIONS)
    assert {q.notebook[:-len(".ipynb")] for q in QUIZ} <= set(COURSE)


def test_the_right_answer_is_not_always_in_the_same_place():
    positions = [q.answer for q in QUIZ]
    assert len(set(positions)) == 4
    assert max(positions.count(p) for p in set(positions)) <= len(QUIZ) // 2


def test_a_malformed_question_is_refused_with_the_reason():
    right, wrong = Option("yes", True, "because"), Option("no", False, "because not")
    with pytest.raises(ValueError, match="exactly one correct option, found 2"):
        Question("?", (right, right), 1, "01_cqrs.ipynb")
    with pytest.raises(ValueError, match="exactly one correct option, found 0"):
        Question("?", (wrong, wrong), 1, "01_cqrs.ipynb")
    with pytest.raises(ValueError, match="tuple of 2-8 options"):
        Question("?", (right,), 1, "01_cqrs.ipynb")
    with pytest.raises(ValueError, match="interview questions 1-6"):
        Question("?", (right, wrong), 7, "01_cqrs.ipynb")
    with pytest.raises(ValueError, match="file name"):
        Question("?", (right, wrong), 1, "CQRS notebook")


def test_explain_marks_the_choice_and_gives_every_reason():
    question = QUIZ[0]
    right, wrong = question.answer, (question.answer + 1) % len(question.options)
    assert explain(question, right).startswith(f"✅ Right: ({'abcd'[right]})")
    text = explain(question, wrong)
    assert text.startswith(f"❌ Not quite: you chose ({'abcd'[wrong]}); the answer is ({'abcd'[right]})")
    assert all(option.why in text for option in question.options)
    assert text.count("← your choice") == 1 and question.notebook in text
    with pytest.raises(ValueError, match="options 0-3"):
        explain(question, 4)


def test_score_counts_right_answers_and_skips():
    right = [q.answer for q in QUIZ]
    assert score(right).correct == len(QUIZ) and score(right).answered == len(QUIZ)
    wrong_first = [(right[0] + 1) % 4] + right[1:]
    marked = score(wrong_first)
    assert (marked.correct, marked.answered, marked.total) == (len(QUIZ) - 1, len(QUIZ), len(QUIZ))
    assert marked.to_review() == {QUIZ[0].notebook: [1]}
    assert score([]).correct == 0 and score([]).answered == 0
    assert score({3: right[2], 5: right[4]}).correct == 2
    assert score({3: right[2], 5: right[4]}).answered == 2


def test_summary_names_the_notebooks_to_review_in_course_order():
    right = [q.answer for q in QUIZ]
    answers = list(right)
    missed = [len(QUIZ) - 1, 0]              # the last question and the first, wrong
    for i in missed:
        answers[i] = (right[i] + 1) % 4
    summary = score(answers).summary()
    assert summary.startswith(f"{len(QUIZ) - 2} of {len(QUIZ)} correct ({len(QUIZ)} answered). Review: ")
    first, last = QUIZ[0].notebook, QUIZ[-1].notebook
    assert summary.index(first) < summary.index(last)
    assert f"{last} (Q{len(QUIZ)})" in summary
    assert score(right).summary().endswith("Nothing to review: you are ready.")


def test_score_refuses_answers_it_cannot_mark():
    with pytest.raises(ValueError, match="no question \\[0, 99\\]"):
        score({0: 1, 99: 1})
    with pytest.raises(ValueError, match="question 2 has options 0-3"):
        score([0, 7])
    with pytest.raises(ValueError, match=f"{len(QUIZ) + 1} answers for a quiz of {len(QUIZ)}"):
        score([0] * (len(QUIZ) + 1))
    with pytest.raises(TypeError, match="list of option indexes"):
        score("abcd")
    with pytest.raises(ValueError, match="options 0-3"):
        score([True])


# -- the decision guide -----------------------------------------------------------------------------------

def test_the_seeds_order_system_is_a_good_fit_for_both():
    advice = advise(SystemProfile(complex_domain=True, audit_required=True, read_write_differ=True,
                                  event_driven_integration=True, team_familiar=True))
    assert (advice.cqrs.fit, advice.event_sourcing.fit) == (Fit.GOOD, Fit.GOOD)
    assert len(advice.event_sourcing.reasons_for) == 3 and not advice.event_sourcing.reasons_against
    assert advice.notes == ()


def test_simple_crud_with_nothing_else_fits_neither_and_says_what_to_do_instead():
    advice = advise(SystemProfile(simple_crud=True, team_familiar=True))
    assert (advice.cqrs.fit, advice.event_sourcing.fit) == (Fit.POOR, Fit.POOR)
    assert any("simple CRUD" in r for r in advice.cqrs.reasons_against)
    assert any("one model" in note for note in advice.notes)


def test_different_read_and_write_patterns_alone_call_for_cqrs_but_not_event_sourcing():
    advice = advise(SystemProfile(read_write_differ=True, team_familiar=True))
    assert (advice.cqrs.fit, advice.event_sourcing.fit) == (Fit.GOOD, Fit.POOR)


def test_event_sourcing_pulls_cqrs_up_with_it():
    advice = advise(SystemProfile(audit_required=True, event_driven_integration=True, team_familiar=True))
    assert (advice.cqrs.fit, advice.event_sourcing.fit) == (Fit.GOOD, Fit.GOOD)
    assert any("need projections" in r for r in advice.cqrs.reasons_for)


def test_strong_consistency_and_an_unfamiliar_team_call_for_care():
    strict = advise(SystemProfile(complex_domain=True, audit_required=True, strong_consistency=True, team_familiar=True))
    assert (strict.cqrs.fit, strict.event_sourcing.fit) == (Fit.CAREFUL, Fit.CAREFUL)
    assert any("lag" in r for r in strict.cqrs.reasons_against)
    assert any("read-your-writes" in note for note in strict.notes)
    new_team = advise(SystemProfile(complex_domain=True, audit_required=True))
    assert new_team.event_sourcing.fit is Fit.CAREFUL
    assert any("learning curve" in r for r in new_team.event_sourcing.reasons_against)


def test_simple_crud_outweighs_one_reason_but_not_two():
    audit_only = advise(SystemProfile(simple_crud=True, audit_required=True, team_familiar=True))
    assert audit_only.event_sourcing.fit is Fit.POOR
    assert any("audit table" in note for note in audit_only.notes)
    two = advise(SystemProfile(simple_crud=True, audit_required=True, event_driven_integration=True, team_familiar=True))
    assert two.event_sourcing.fit is Fit.CAREFUL


def test_describe_prints_each_verdict_with_its_reasons():
    advice = advise(SystemProfile(read_write_differ=True, strong_consistency=True, team_familiar=True))
    text = advice.describe()
    assert text.startswith("CQRS: possible, with care\n  + reads and writes differ")
    assert "Event sourcing: not a good fit" in text
    assert all(f"  - {r}" in text for r in advice.cqrs.reasons_against)


def test_every_profile_field_has_a_question_and_bad_input_is_refused():
    assert list(QUESTIONS_ABOUT_A_SYSTEM) == [f.name for f in fields(SystemProfile)]
    with pytest.raises(TypeError, match="True or False; check \\['audit_required'\\]"):
        SystemProfile(audit_required="yes")
    with pytest.raises(TypeError, match="SystemProfile"):
        advise({"audit_required": True})


def test_reasons_point_to_course_notebooks():
    advice = advise(SystemProfile(**{f.name: True for f in fields(SystemProfile)}))
    cited = set()
    for reason in advice.cqrs.reasons_for + advice.event_sourcing.reasons_for:
        refs = re.search(r"\(((?:\d{2}, )*\d{2})\)$", reason)   # each reason ends with "(01, 05)"
        assert refs, reason
        cited |= {int(n) for n in refs.group(1).split(", ")}
    lessons = {int(p.name[:2]) for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert cited and cited <= lessons


def test_option_index_finds_an_option_by_its_first_words():
    question = QUIZ[0]
    for i, option in enumerate(question.options):
        assert question.option_index(option.text[:12]) == i
    with pytest.raises(ValueError, match="0 options start with 'Nonsense'"):
        question.option_index("Nonsense")
    with pytest.raises(ValueError, match="4 options start with ''"):
        question.option_index("")
