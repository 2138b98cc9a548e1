"""Notebook 17's widgets: the quiz, driven by setting the choice and clicking; the decision guide, by ticking."""

from __future__ import annotations

import html
import re

import pytest

from esdemo.interview import QUIZ, Fit, SystemProfile, advise
from esdemo.widgets import build_decision_guide, build_quiz_widget


def choose_and_check(panel, choice):
    panel.controls["choice"].value = choice
    panel.controls["check"].click()
    return html.unescape(panel.result.value)


def test_the_quiz_shows_the_first_question_with_lettered_options():
    panel = build_quiz_widget()
    question = html.unescape(re.sub(r"<[^>]+>", "", panel.question.value))    # the text a learner reads
    assert "Question 1 of 14" in question and QUIZ[0].prompt in question
    assert all(f"({letter}) {option.text}" in question for letter, option in zip("abcd", QUIZ[0].options))
    assert [label for label, _ in panel.controls["choice"].options] == ["(a)", "(b)", "(c)", "(d)"]
    assert panel.controls["choice"].value is None
    assert "Score so far: 0 of 0 checked (14 questions)" in panel.result.value


def test_checking_explains_the_choice_and_scores_the_first_try_only():
    panel = build_quiz_widget()
    wrong = (QUIZ[0].answer + 1) % 4
    shown = choose_and_check(panel, wrong)
    assert "❌ Not quite" in shown and QUIZ[0].options[wrong].why in shown
    assert "Score so far: 0 of 1 checked" in shown
    shown = choose_and_check(panel, QUIZ[0].answer)          # a second try explains, but does not score
    assert "✅ Right" in shown and "Score so far: 0 of 1 checked" in shown


def test_check_without_a_choice_asks_for_one():
    panel = build_quiz_widget()
    panel.controls["check"].click()
    assert "Choose an option first." in panel.result.value and "0 of 0 checked" in panel.result.value


def test_next_moves_on_and_the_end_shows_the_summary_then_starts_again():
    quiz = QUIZ[:3]
    panel = build_quiz_widget(quiz)
    for number, question in enumerate(quiz, start=1):
        assert f"Question {number} of 3" in panel.question.value
        choose_and_check(panel, question.answer if number != 2 else (question.answer + 1) % 4)
        panel.controls["next"].click()
        if number < 3:
            assert panel.controls["choice"].value is None
    summary = html.unescape(panel.result.value)
    assert "End of the quiz." in summary and "2 of 3 correct (3 answered)" in summary
    assert f"Review: {quiz[1].notebook} (Q2)" in summary
    assert "Question 1 of 3" in panel.question.value
    panel.controls["next"].click()
    assert "Score so far: 0 of 0 checked (3 questions)" in panel.result.value


def test_an_empty_quiz_is_refused():
    with pytest.raises(ValueError, match="no questions"):
        build_quiz_widget(())


def test_the_decision_guide_follows_the_checkboxes():
    panel = build_decision_guide()
    assert list(panel.controls) == list(SystemProfile.__dataclass_fields__)
    assert "CQRS: not a good fit" in panel.result.value
    for name in ("complex_domain", "audit_required", "read_write_differ", "event_driven_integration", "team_familiar"):
        panel.controls[name].value = True
    shown = html.unescape(panel.result.value)
    assert "CQRS: good fit" in shown and "Event sourcing: good fit" in shown
    panel.controls["strong_consistency"].value = True
    shown = html.unescape(panel.result.value)
    expected = advise(SystemProfile(complex_domain=True, audit_required=True, read_write_differ=True,
                                    event_driven_integration=True, team_familiar=True, strong_consistency=True))
    assert expected.event_sourcing.fit is Fit.CAREFUL
    assert expected.describe() in shown
