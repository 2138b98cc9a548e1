"""Notebook 17 · Interview prep."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as W

from .. import interview
from .panel import panel


def _pre(text: str) -> str:
    return f"<pre style='white-space: pre-wrap; font-family: inherit'>{html.escape(text)}</pre>"


def _question_html(quiz: Sequence[interview.Question], index: int) -> str:
    question = quiz[index]
    options = "".join(f"<li><b>({interview.LETTERS[i]})</b> {html.escape(option.text)}</li>"
                      for i, option in enumerate(question.options))
    topic = interview.INTERVIEW_QUESTIONS[question.topic]
    return (f"<p><b>Question {index + 1} of {len(quiz)}</b> · interview question {question.topic}: "
            f"<i>{html.escape(topic)}</i></p><p>{html.escape(question.prompt)}</p>"
            f"<ul style='list-style: none'>{options}</ul>")


def build_quiz_widget(quiz: Sequence[interview.Question] = interview.QUIZ) -> W.VBox:
    """The self-check quiz, one question at a time: choose, press Check, read why; Next moves on.

    The first checked choice of each question is what counts for the score
    (:func:`esdemo.interview.score`); checking again only explains. After the
    last question, Next shows the summary and starts over. ``panel.question``
    shows the question, ``panel.result`` the explanation and the score.
    """
    quiz = tuple(quiz)
    if not quiz:
        raise ValueError("the quiz has no questions")
    state = {"index": 0, "answers": [None] * len(quiz)}
    controls = {
        "choice": W.RadioButtons(options=[], value=None, description="answer"),
        "check": W.Button(description="Check", button_style="primary"),
        "next": W.Button(description="Next question"),
    }
    question, result = W.HTML(), W.HTML()

    def score_line() -> str:
        marked = interview.score(state["answers"], quiz)
        return f"<p>Score so far: {marked.correct} of {marked.answered} checked ({marked.total} questions).</p>"

    def show_question() -> None:
        index = state["index"]
        question.value = _question_html(quiz, index)
        controls["choice"].options = [(f"({interview.LETTERS[i]})", i) for i in range(len(quiz[index].options))]
        controls["choice"].value = None
        result.value = score_line()

    def on_check(_button: W.Button) -> None:
        choice, index = controls["choice"].value, state["index"]
        if choice is None:
            result.value = "<p>Choose an option first.</p>" + score_line()
            return
        if state["answers"][index] is None:
            state["answers"][index] = choice
        result.value = _pre(interview.explain(quiz[index], choice)) + score_line()

    def on_next(_button: W.Button) -> None:
        if state["index"] + 1 < len(quiz):
            state["index"] += 1
            show_question()
            return
        summary = interview.score(state["answers"], quiz).summary()
        state["index"], state["answers"] = 0, [None] * len(quiz)
        show_question()
        result.value = f"<p><b>End of the quiz.</b> {html.escape(summary)} Starting again.</p>"

    controls["check"].on_click(on_check)
    controls["next"].on_click(on_next)
    show_question()
    box = panel(controls, result)
    box.children = (question, controls["choice"], W.HBox([controls["check"], controls["next"]]), result)
    box.question = question
    return box


def build_decision_guide() -> W.VBox:
    """One checkbox per :class:`~esdemo.interview.SystemProfile` question; the advice updates as you tick.

    ``panel.controls`` is keyed by the profile's field names
    (``panel.controls["audit_required"].value = True``); ``panel.result``
    shows :func:`esdemo.interview.advise`'s reasoning.
    """
    controls = {name: W.Checkbox(value=False, description=text, indent=False, layout=W.Layout(width="auto"))
                for name, text in interview.QUESTIONS_ABOUT_A_SYSTEM.items()}
    result = W.HTML()

    def show(_change: object = None) -> None:
        profile = interview.SystemProfile(**{name: box.value for name, box in controls.items()})
        result.value = _pre(interview.advise(profile).describe())

    for checkbox in controls.values():
        checkbox.observe(show, names="value")
    show()
    box = panel(controls, result)
    box.children = (W.VBox(list(controls.values())), result)
    return box
