"""Tests for mrishare.decision: every route through the tree, errors, diagram, widget."""

from __future__ import annotations

import dataclasses

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from mrishare import decision  # noqa: E402
from mrishare.decision import TREE, AnswerError, evaluate  # noqa: E402

# Every route, written out by hand from the guide's logic (not generated from the tree),
# so a change in the tree that alters any outcome fails here.
EXPECTED_ROUTES = [
    ({"deidentify": "no"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "not_needed"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "cannot_anymore"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "unsure"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "none"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "conditions"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "healthy_adults"}, "public"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "vulnerable"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "children"}, "restricted"),
]


def _sorted(routes):
    return sorted((tuple(sorted(a.items())), o) for a, o in routes)


def test_tree_is_sound():
    assert decision.check_tree(TREE) == []


def test_all_paths_are_exactly_the_expected_routes():
    assert _sorted(decision.all_paths()) == _sorted(EXPECTED_ROUTES)


@pytest.mark.parametrize(("answers", "outcome"), EXPECTED_ROUTES)
def test_every_route_evaluates_to_its_outcome(answers, outcome):
    result = evaluate(answers)
    assert result.outcome.key == outcome
    assert result.answers == answers
    # one reason per question asked, each non-empty and taken from the chosen answer
    assert len(result.reasons) == len(answers)
    for (question, answer), reason in zip(result.path, result.reasons, strict=True):
        assert answers[question.key] == answer.key
        assert reason == answer.reason and reason.strip()
    report = result.report()
    assert result.outcome.title in report
    assert "not legal advice" in report
    assert result.outcome.title in result._repr_markdown_()


@pytest.mark.parametrize(("answers", "outcome"), EXPECTED_ROUTES)
def test_next_question_is_none_only_when_route_is_complete(answers, outcome):
    assert decision.next_question(answers) is None
    keys = list(answers)
    partial = {k: answers[k] for k in keys[:-1]}
    assert decision.next_question(partial).key == keys[-1]


def test_each_outcome_is_reached_and_has_a_chapter():
    reached = {o for _, o in decision.all_paths()}
    assert reached == set(decision.OUTCOMES) == {"public", "restricted", "derived"}
    for outcome in decision.OUTCOMES.values():
        assert outcome.chapter.startswith("book/") and outcome.steps


def test_answers_off_the_route_are_reported_as_unused():
    result = evaluate({"deidentify": "no", "sample": "children"})
    assert result.outcome.key == "derived"
    assert result.unused == ("sample",)
    assert "sample" in result.report()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({}, r"No answer for question 'deidentify'.*'yes', 'no'"),
        ({"deidentify": "yes"}, r"No answer for question 'legal_basis'"),
        ({"deidentify": "maybe"}, r"'maybe' is not an answer to question 'deidentify'"),
        ({"deidentify": "yes", "legal_basis": "yes", "purposes": "all"},
         r"Expected one of: 'none', 'public', 'conditions'"),
        ({"deidentfy": "yes"}, r"Unknown question\(s\): 'deidentfy'.*'deidentify'"),
    ],
)
def test_bad_answers_raise_with_the_choices(answers, message):
    with pytest.raises(AnswerError, match=message):
        evaluate(answers)


def test_answer_error_is_a_value_error():
    assert issubclass(AnswerError, ValueError)


def _with_answer(tree, qkey, index, **changes):
    question = tree.questions[qkey]
    answers = list(question.answers)
    answers[index] = dataclasses.replace(answers[index], **changes)
    questions = dict(tree.questions)
    questions[qkey] = dataclasses.replace(question, answers=tuple(answers))
    return dataclasses.replace(tree, questions=questions)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"next": "nowhere", "outcome": None}, "unknown question 'nowhere'"),
        ({"next": None, "outcome": "publish_anyway"}, "unknown outcome 'publish_anyway'"),
        ({"next": "sample", "outcome": "public"}, "exactly one of"),
        ({"reason": "  "}, "gives no reason"),
        ({"next": "deidentify", "outcome": None}, "loops back"),
    ],
)
def test_check_tree_reports_broken_trees(changes, problem):
    broken = _with_answer(TREE, "purposes", 0, **changes)
    problems = decision.check_tree(broken)
    assert any(problem in p for p in problems), problems


def test_check_tree_reports_unreachable_parts():
    # route the only way into 'sample' elsewhere: 'sample' and 'public' become unreachable
    broken = _with_answer(TREE, "purposes", 1, next=None, outcome="restricted")
    problems = decision.check_tree(broken)
    assert "Question 'sample' can never be reached." in problems
    assert "Outcome 'public' can never be reached." in problems
    assert decision.check_tree(dataclasses.replace(TREE, start="nope"))


def test_paths_table_has_one_row_per_route():
    table = decision.paths_table()
    assert len(table) == len(EXPECTED_ROUTES)
    assert set(table["Outcome"]) == {o.title for o in decision.OUTCOMES.values()}


def test_draw_makes_a_box_per_node_and_highlights_a_route():
    fig = decision.draw()
    ax = fig.axes[0]
    # unfolded tree: each of the 4 questions is reached once, and one outcome box per route
    assert len(ax.patches) == len(TREE.questions) + len(EXPECTED_ROUTES)
    texts = [t.get_text().replace("\n", " ") for t in ax.texts]
    n_derived = sum(o == "derived" for _, o in EXPECTED_ROUTES)
    assert sum("Share derived data only" in t for t in texts) == n_derived == 4
    for answer in TREE.questions["legal_basis"].answers:  # every arrow is labelled
        assert answer.short in texts
    plt.close(fig)

    chosen = evaluate(EXPECTED_ROUTES[6][0])
    fig = decision.draw(decision=chosen)
    ax = fig.axes[0]
    opaque = [p for p in ax.patches if (p.get_alpha() or 1.0) == 1.0]
    assert len(opaque) == 5  # four questions and the one outcome on the route
    assert "share de-identified data publicly" in ax.get_title(loc="left")
    plt.close(fig)


def test_draw_into_given_axes():
    fig, ax = plt.subplots()
    assert decision.draw(ax=ax) is fig
    plt.close(fig)


def test_widget_shows_only_questions_on_the_route_and_the_outcome():
    pytest.importorskip("ipywidgets")
    w = decision.widget()
    rows = {k: dd for k, dd in w.dropdowns.items()}
    boxes = dict(zip(TREE.questions, w.children[:-1], strict=True))
    assert boxes["legal_basis"].layout.display == "none"
    assert "Answer the question" in w.result.value

    rows["deidentify"].value = "yes"
    assert boxes["legal_basis"].layout.display is None
    rows["legal_basis"].value = "yes"
    rows["purposes"].value = "public"
    rows["sample"].value = "healthy_adults"
    assert "Share de-identified data publicly" in w.result.value

    rows["deidentify"].value = "no"  # an earlier answer changes: later questions hide
    assert boxes["sample"].layout.display == "none"
    assert "Share derived data only" in w.result.value
