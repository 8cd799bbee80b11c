"""Tests for mrishare.lessons.decision: the tree data file, its loader, walking and views."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mrishare import rules  # noqa: E402
from mrishare.errors import AnswerError, MrishareError, RuleFileError  # noqa: E402
from mrishare.lessons import decision  # noqa: E402
from mrishare.lessons.decision import TREE, evaluate  # noqa: E402

# Every route, written out by hand from the 2021 interactive guide (with the deviations that
# notebook 08 lists): if the data file changes a route, this table must change with it.
EXPECTED_ROUTES = [
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "none"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "healthy_adults"}, "public"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "vulnerable"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
      "sample": "children"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "yes", "purposes": "conditions"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "yes",
      "sample_no_consent": "healthy_adults"}, "public"),
    ({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "yes",
      "sample_no_consent": "vulnerable"}, "restricted"),
    ({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "yes",
      "sample_no_consent": "children"}, "support"),
    ({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "unsure"}, "support"),
    ({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "no"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "cannot_anymore"}, "derived"),
    ({"deidentify": "yes", "legal_basis": "unsure"}, "support"),
    ({"deidentify": "no"}, "derived"),
]


def test_every_route_leads_where_the_guide_says():
    assert decision.all_paths() == EXPECTED_ROUTES
    for answers, outcome in EXPECTED_ROUTES:
        result = evaluate(answers)
        assert result.outcome.key == outcome
        assert len(result.reasons) == len(answers)
        assert result.unused == ()


def test_the_original_no_consent_path_goes_through_the_dpo_to_the_sample_question():
    route = evaluate({"deidentify": "yes", "legal_basis": "not_needed", "no_consent": "yes",
                      "sample_no_consent": "healthy_adults"})
    assert [q.key for q, _ in route.path] == [
        "deidentify", "legal_basis", "no_consent", "sample_no_consent"]
    assert "data protection officer" in route.path[2][0].text


def test_research_only_consent_is_a_condition_not_any_purpose():
    purposes = TREE.questions["purposes"]
    assert "all purposes" in purposes.answer("public").label
    assert "research only" in purposes.answer("conditions").label
    assert '"for any research purpose"' in purposes.help


def test_a_wrong_answer_names_the_question_and_the_allowed_answers():
    with pytest.raises(AnswerError) as info:
        evaluate({"deidentify": "maybe"})
    message = str(info.value)
    assert "'maybe' is not an answer to question 'deidentify'" in message
    assert "Expected one of: 'yes', 'no'." in message
    assert isinstance(info.value, MrishareError)


def test_a_missing_answer_and_an_unknown_question_are_refused():
    with pytest.raises(AnswerError, match=r"No answer for question 'legal_basis'.*'not_needed'"):
        evaluate({"deidentify": "yes"})
    with pytest.raises(AnswerError, match=r"Unknown question\(s\): 'colour'"):
        evaluate({"deidentify": "no", "colour": "blue"})


def test_unused_answers_and_next_question():
    result = evaluate({"deidentify": "no", "sample": "children"})
    assert result.unused == ("sample",)
    assert "Not needed for this outcome: sample." in result.report()
    assert decision.next_question({"deidentify": "yes", "legal_basis": "not_needed"}).key == (
        "no_consent")


def test_report_names_the_dpo_and_the_steps():
    result = evaluate({"deidentify": "yes", "legal_basis": "yes", "purposes": "conditions"})
    text = " ".join(result.report().split())
    assert text.startswith("Outcome: Share with restricted access")
    assert "processing agreement (GDPR Art. 28)" in text
    assert all(" ".join(step.split()) in text for step in result.outcome.steps)
    assert "data protection officer" in text


# ----------------------------------------------------------------------------- the data file


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "tree.yaml"
    shutil.copy(rules.path(decision.RULE_FILE), target)
    return target


def _edit(tmp_path: Path, old: str, new: str) -> Path:
    target = _copy(tmp_path)
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_the_shipped_file_loads_into_the_same_tree():
    assert decision.load_tree() == TREE
    assert set(TREE.outcomes) == {"public", "restricted", "derived", "support"}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("        outcome: restricted\n\n  sample:", "        outcome: nowhere\n\n  sample:",
     r"questions\.purposes\.answers\[2\] \('conditions'\) leads to unknown outcome 'nowhere'"),
    ("        next: legal_basis", "        next: legal_basics",
     r"leads to unknown question 'legal_basics'"),
    ("        next: sample_no_consent", "        next: deidentify", r"loops back to question"),
    ("      - key: \"yes\"\n        label: \"Yes\"", "      - key: yes\n        label: \"Yes\"",
     r"questions\.deidentify\.answers\[0\]: key must be non-empty text.*quote yes and no"),
    ("        outcome: support\n\n  no_consent:", "        outcome: derived\n\n  no_consent:",
     None),
    ("start: deidentify", "start: nowhere", r"start question 'nowhere'"),
    ("        next: purposes", "        next: purposes\n        outcome: derived",
     r"exactly one of: a question, an outcome"),
])
def test_a_broken_file_says_what_and_where(tmp_path, old, new, message):
    path = _edit(tmp_path, old, new)
    if message is None:  # legal_basis 'unsure' no longer reaches 'support' but others still do
        assert decision.load_tree(path).outcomes["support"].key == "support"
        return
    with pytest.raises(RuleFileError, match=message) as info:
        decision.load_tree(path)
    assert str(info.value).startswith("tree.yaml")


def test_unreachable_question_and_outcome_are_refused(tmp_path):
    path = _edit(tmp_path, "        next: sample\n", "        outcome: public\n")
    with pytest.raises(RuleFileError, match=r"Question 'sample' can never be reached"):
        decision.load_tree(path)
    text = _copy(tmp_path).read_text(encoding="utf-8")
    extra = text.replace("questions:\n", "  spare:\n    title: Spare\n    summary: s\n"
                         "    steps: [a]\n    chapter: c\n    colour: \"#000000\"\n\nquestions:\n")
    (tmp_path / "spare.yaml").write_text(extra, encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"Outcome 'spare' can never be reached"):
        decision.load_tree(tmp_path / "spare.yaml")


def test_invalid_yaml_names_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: deidentify\nquestions: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"bad\.yaml, line \d+, column \d+"):
        decision.load_tree(bad)


# ----------------------------------------------------------------------------- views


def test_paths_table_has_one_row_per_route():
    table = decision.paths_table()
    assert len(table) == len(EXPECTED_ROUTES)
    assert set(table["Outcome"]) == {o.title for o in TREE.outcomes.values()}


def test_diagram_is_readable_at_page_width():
    fig = decision.draw()
    ax = fig.axes[0]
    width, _ = fig.get_size_inches()
    assert width <= 6.6  # shown unscaled in the book's text column (about 670 px at 100 dpi)
    assert min(t.get_fontsize() for t in ax.texts) >= 9
    n_routes = len(EXPECTED_ROUTES)
    n_question_boxes = len(ax.patches) - n_routes
    assert n_question_boxes == len(TREE.questions)  # each question is reached once
    texts = [t.get_text().replace("\n", " ") for t in ax.texts]
    for answer in TREE.questions["legal_basis"].answers:  # every arrow is labelled
        assert answer.short in texts
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # pyright: ignore[reportAttributeAccessIssue]
    figure_box = fig.bbox
    for text in ax.texts:  # nothing is cut off at the figure's edge
        box = text.get_window_extent(renderer)
        assert box.x1 <= figure_box.x1 + 1 and box.x0 >= figure_box.x0 - 1, text.get_text()
    plt.close(fig)


def test_diagram_highlights_a_route():
    chosen = evaluate(EXPECTED_ROUTES[5][0])
    fig = decision.draw(decision=chosen)
    ax = fig.axes[0]
    opaque = [p for p in ax.patches if (p.get_alpha() or 1.0) == 1.0]
    assert len(opaque) == 5  # four questions and the one outcome on the route
    assert "share de-identified data publicly" in ax.get_title(loc="left")
    plt.close(fig)


def test_click_through_carries_the_tested_tree():
    view = decision.click_through()
    assert view._repr_html_() == view.html
    blob = re.search(r"tree = (\{.*?\});\n", view.html, re.S)
    assert blob is not None
    data = json.loads(blob.group(1).replace("<\\/", "</"))
    assert data == view.data
    assert data["start"] == TREE.start
    for key, question in TREE.questions.items():
        assert [a["key"] for a in data["questions"][key]["answers"]] == [
            a.key for a in question.answers]
    # offline and accessible: no external script, a live region, real buttons
    assert "http" not in view.html
    assert 'aria-live="polite"' in view.html
    assert "el('button'" in view.html and "b.type = 'button'" in view.html
    assert decision.click_through().html != view.html  # each copy has its own element id


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
def test_click_through_works_in_a_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    page_file = tmp_path / "tree.html"
    page_file.write_text("<!doctype html><meta charset='utf-8'>" + decision.click_through().html,
                         encoding="utf-8")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        live = page.locator(".mrs-live")
        assert live.inner_text().startswith("Question 1:")
        for answer in ("Yes", "Yes, consent", "Sharing under conditions"):
            page.get_by_role("button", name=answer).first.click()
        assert live.inner_text().startswith("Outcome: Share with restricted access")
        page.get_by_role("button", name="Back one question").click()
        assert live.inner_text().startswith("Question 3:")
        # after "Back", the first answer has the keyboard focus: Enter chooses it
        page.keyboard.press("Enter")
        assert live.inner_text().startswith("Outcome: Share derived data only")
        browser.close()
    assert errors == []


def test_widget_shows_only_questions_on_the_route_and_the_outcome():
    pytest.importorskip("ipywidgets")
    w = decision.widget()
    rows = w.dropdowns
    boxes = dict(zip(TREE.questions, w.children[:-1], strict=True))
    assert boxes["legal_basis"].layout.display == "none"
    assert "Answer the question" in w.result.value
    rows["deidentify"].value = "yes"
    rows["legal_basis"].value = "not_needed"
    assert boxes["no_consent"].layout.display is None
    assert boxes["purposes"].layout.display == "none"
    rows["no_consent"].value = "yes"
    rows["sample_no_consent"].value = "healthy_adults"
    assert "Share de-identified data publicly" in w.result.value
    rows["deidentify"].value = "no"  # an earlier answer changes: later questions hide
    assert boxes["sample_no_consent"].layout.display == "none"
    assert "Share derived data only" in w.result.value
