"""Which way to share? The sharing decision tree as data.

The questions follow the order of the *Brain MRI data sharing guide for Dutch researchers*
(Huijser et al., 2020, doi:10.5281/zenodo.3822289): can the data still be de-identified, is
informed consent the legal basis, what sharing did participants consent to, and who are the
participants. Each answer either leads to the next question or ends in one of three
outcomes: share de-identified data publicly, share with restricted access, or share only
derived data. Every answer carries the reason it leads where it leads, so a decision can be
explained, not just announced. The wording and the reasons are mrishare's own.

The tree is a plain value (:data:`TREE`, a :class:`DecisionTree` of :class:`Question`,
:class:`Answer` and :class:`Outcome` records), so the same data drive :func:`evaluate` (in
code), :func:`draw` (a diagram for the static book), :func:`widget` (clickable, in a live
notebook), :func:`all_paths` (every route, for tests and tables) and :func:`check_tree`.

This is a thinking aid, not legal advice: take the outcome and its reasons to your data
protection officer.

Examples
--------
>>> from mrishare import decision
>>> result = decision.evaluate({"deidentify": "yes", "legal_basis": "yes",
...                             "purposes": "conditions"})
>>> result.outcome.key
'restricted'
>>> len(result.reasons)
3
>>> len(decision.all_paths())
9
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mrishare.errors import AnswerError

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes
    import matplotlib.figure

__all__ = [
    "OUTCOMES",
    "TREE",
    "Answer",
    "AnswerError",
    "Decision",
    "DecisionTree",
    "Outcome",
    "Question",
    "all_paths",
    "check_tree",
    "draw",
    "evaluate",
    "next_question",
    "paths_table",
    "widget",
]



@dataclass(frozen=True)
class Answer:
    """One possible answer to a question.

    Parameters
    ----------
    key : str
        What you pass to :func:`evaluate`, e.g. ``"yes"``.
    label : str
        The answer in words, as shown in the widget.
    short : str
        A few words for the diagram's arrow.
    reason : str
        Why this answer leads where it leads.
    next : str or None
        The key of the next question, or None when the answer ends in an outcome.
    outcome : str or None
        The key of the outcome (see :data:`OUTCOMES`) when the answer ends the walk.
    """

    key: str
    label: str
    short: str
    reason: str
    next: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Question:
    """One question of the tree.

    Parameters
    ----------
    key : str
        Its name in the answers mapping, e.g. ``"legal_basis"``.
    text : str
        The full question.
    short : str
        The question in a few words, for the diagram.
    help : str
        Where to find the answer, or what the words mean.
    answers : tuple of Answer
        The possible answers, in the order they are offered.
    """

    key: str
    text: str
    short: str
    help: str
    answers: tuple[Answer, ...]

    def answer(self, key: str) -> Answer:
        """Return the answer called ``key``, or raise :class:`AnswerError`."""
        for a in self.answers:
            if a.key == key:
                return a
        choices = ", ".join(repr(a.key) for a in self.answers)
        raise AnswerError(
            f"{key!r} is not an answer to question {self.key!r} ({self.short}). "
            f"Expected one of: {choices}."
        )


@dataclass(frozen=True)
class Outcome:
    """Where a walk through the tree ends.

    Parameters
    ----------
    key : str
        ``"public"``, ``"restricted"`` or ``"derived"``.
    title : str
        The outcome in a few words.
    summary : str
        What it means, in two or three sentences.
    steps : tuple of str
        What to do next.
    chapter : str
        The book chapter that explains how (a path as used by ``{doc}``).
    colour : str
        Its colour in the diagram (colour-blind safe, Okabe-Ito palette).
    """

    key: str
    title: str
    summary: str
    steps: tuple[str, ...]
    chapter: str
    colour: str


@dataclass(frozen=True)
class DecisionTree:
    """Questions, answers and outcomes; the walk starts at ``questions[start]``."""

    start: str
    questions: Mapping[str, Question]
    outcomes: Mapping[str, Outcome]


@dataclass(frozen=True)
class Decision:
    """The result of :func:`evaluate`: an outcome and the path that led to it."""

    outcome: Outcome
    path: tuple[tuple[Question, Answer], ...]
    unused: tuple[str, ...] = field(default=())

    @property
    def answers(self) -> dict[str, str]:
        """The answers on the path, as a mapping from question key to answer key."""
        return {q.key: a.key for q, a in self.path}

    @property
    def reasons(self) -> list[str]:
        """One reason per answered question, in the order asked."""
        return [a.reason for _, a in self.path]

    def report(self) -> str:
        """Return the decision in plain text: outcome, reasons, next steps."""
        lines = [f"Outcome: {self.outcome.title}", "", textwrap.fill(self.outcome.summary, 88),
                 "", "Why:"]
        for i, (q, a) in enumerate(self.path, start=1):
            lines.extend(textwrap.wrap(f"{i}. {q.short} {a.label}.", 88, initial_indent="  ",
                                       subsequent_indent="     "))
            lines.extend(textwrap.wrap(a.reason, 88, initial_indent="     ",
                                       subsequent_indent="     "))
        lines += ["", "Next steps:"]
        lines += [textwrap.fill(s, 88, initial_indent="  - ", subsequent_indent="    ")
                  for s in self.outcome.steps]
        if self.unused:
            lines += ["", "Not needed for this outcome: " + ", ".join(self.unused) + "."]
        lines += ["", "This is not legal advice: discuss the outcome with your privacy officer."]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        parts = [f"**Outcome: {self.outcome.title}**", "", self.outcome.summary, "", "Why:", ""]
        for i, (q, a) in enumerate(self.path, start=1):
            parts.append(f"{i}. *{q.short}* **{a.label}.** {a.reason}")
        parts += ["", "Next steps:", ""]
        parts += [f"- {s}" for s in self.outcome.steps]
        parts += ["", "*Not legal advice: discuss the outcome with your privacy officer.*"]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return f"Decision(outcome={self.outcome.key!r}, answers={self.answers!r})"


# --------------------------------------------------------------------------------------
# The tree itself (data, not logic). Keys are stable: code and tests use them.
# --------------------------------------------------------------------------------------

OUTCOMES: dict[str, Outcome] = {
    "public": Outcome(
        key="public",
        title="Share de-identified data publicly",
        summary=(
            "Remove identifiers from headers, file names and tables, remove the face from "
            "structural scans, check the result, and publish in an open repository under an "
            "open licence. Anyone can download the data, and a public release cannot be undone."
        ),
        steps=(
            "Ask your privacy officer to confirm that the prepared data no longer identify "
            "anyone for a public audience (OpenNeuro, for example, asks uploaders to affirm "
            "that the data are not subject to the GDPR).",
            "De-identify DICOM headers, sidecars and file names; deface every structural scan "
            "and check it; coarsen ages and other quasi-identifiers.",
            "Audit the whole dataset and go through the checklist; the key file and any "
            "transformation matrices stay at home.",
            "Choose a repository and an open licence (CC0 or CC-BY).",
        ),
        chapter="book/repositories",
        colour="#009E73",
    ),
    "restricted": Outcome(
        key="restricted",
        title="Share with restricted access",
        summary=(
            "Describe the dataset openly, but release the files only to identified "
            "researchers who accept a data use agreement: no attempt to re-identify, no "
            "linkage with other data, no passing on. De-identify and deface all the same."
        ),
        steps=(
            "Check that the consent or other legal basis covers sharing under these "
            "conditions, and agree the plan with your privacy officer.",
            "Pick a data use agreement (for example the Open Brain Consent template or your "
            "repository's standard one); an authorised signatory signs it, not you alone.",
            "De-identify and deface as for public sharing: a DUA adds protection, it does not "
            "replace it.",
            "Prefer a repository that keeps the data in the EU and logs who got access.",
        ),
        chapter="book/consent",
        colour="#E69F00",
    ),
    "derived": Outcome(
        key="derived",
        title="Share derived data only",
        summary=(
            "Keep the individual scans inside your institution. Share what you computed from "
            "them: group statistical maps, tables of region values, normalised images without "
            "their transforms, synthetic data, or take part in federated analyses where code "
            "travels to the data."
        ),
        steps=(
            "Decide which derived data answer re-users' questions (group maps, ROI tables, "
            "summary statistics).",
            "Check that the derived data cannot single anyone out: small groups, rare values "
            "and individual maps can.",
            "Never share key files or transformation matrices.",
            "Offer federated analysis or collaboration for questions that need the raw data.",
        ),
        chapter="book/derived_data",
        colour="#56B4E9",
    ),
}

_QUESTIONS: tuple[Question, ...] = (
    Question(
        key="deidentify",
        text=(
            "Can the MRI data still be de-identified (identifiers removed from headers, file "
            "names and tables, faces removed from structural scans), and can the other data "
            "you want to share, such as questionnaires and demographics, be made anonymous?"
        ),
        short="Can the scans be de-identified and the other data anonymised?",
        help=(
            "Answer no if, for example, only identifiable exports remain, if removing the "
            "face would destroy what you study, or if the other data hold rare combinations "
            "you cannot coarsen."
        ),
        answers=(
            Answer(
                "yes", "Yes", "yes",
                "The data can be prepared so that nobody is recognised directly; whether that "
                "is enough depends on the legal basis and on what participants agreed to.",
                next="legal_basis",
            ),
            Answer(
                "no", "No", "no",
                "Data that cannot be de-identified identify people directly, so individual "
                "data should not leave your institution; results computed from them can.",
                outcome="derived",
            ),
        ),
    ),
    Question(
        key="legal_basis",
        text=(
            "Is the participants' informed consent the legal basis on which you process their "
            "data, including sharing them?"
        ),
        short="Is informed consent the legal basis?",
        help=(
            "Look in the data management plan, the information letter or the DPIA. Consent to "
            "take part in a study (an ethical requirement) is not automatically consent as a "
            "legal basis under the GDPR; your privacy officer knows which applies."
        ),
        answers=(
            Answer(
                "yes", "Yes, consent", "yes",
                "Participants gave consent, so what you may share depends on exactly what "
                "they agreed to.",
                next="purposes",
            ),
            Answer(
                "not_needed", "Not needed: another legal basis applies", "not needed",
                "Without consent to share, a public release is hard to justify. Research "
                "under another legal basis, with the safeguards of GDPR Art. 89, can allow "
                "sharing with identified researchers under a data use agreement, if your "
                "privacy officer agrees.",
                outcome="restricted",
            ),
            Answer(
                "cannot_anymore", "Consent was not asked and cannot be asked anymore",
                "cannot ask now",
                "Participants cannot be asked now. Research without consent is allowed only "
                "when asking is impossible or disproportionate and safeguards are in place "
                "(UAVG Art. 24); handing individual scans to others goes beyond that in most "
                "cases. Share derived data, or ask your privacy officer whether restricted "
                "sharing is defensible.",
                outcome="derived",
            ),
            Answer(
                "unsure", "Not sure", "unsure",
                "Until the legal basis is known, treat the data in the most careful way: only "
                "derived data leave. Find the basis in the protocol or DPIA, ask your privacy "
                "officer, and walk the tree again.",
                outcome="derived",
            ),
        ),
    ),
    Question(
        key="purposes",
        text="What sharing did participants consent to?",
        short="What sharing did participants consent to?",
        help=(
            "Read the consent form and information letter they signed, word by word. Sharing "
            "that is not mentioned there was not agreed to."
        ),
        answers=(
            Answer(
                "none", "No sharing outside the study team", "none",
                "Participants agreed to take part, not to have their data passed on, so their "
                "individual data stay in the study. Derived data that identify nobody can "
                "still be shared.",
                outcome="derived",
            ),
            Answer(
                "public", "Public sharing, for any purpose, also outside the EU",
                "public sharing",
                "Participants agreed to broad public sharing; one more question concerns who "
                "they are.",
                next="sample",
            ),
            Answer(
                "conditions", "Sharing under conditions (e.g. research only, with an agreement)",
                "with conditions",
                "Consent covers sharing only under conditions, so access must enforce them: a "
                "repository with controlled access and a data use agreement that repeats the "
                "conditions.",
                outcome="restricted",
            ),
        ),
    ),
    Question(
        key="sample",
        text="Who are the participants?",
        short="Who are the participants?",
        help=(
            "Vulnerable groups include patients and people who cannot consent for themselves. "
            "In the Netherlands, children under 16 need consent from a parent or guardian "
            "(UAVG Art. 5)."
        ),
        answers=(
            Answer(
                "healthy_adults", "Healthy adults", "healthy adults",
                "Healthy adults consented to public sharing and the data can be de-identified: "
                "the conditions for public sharing are met, provided your privacy officer "
                "agrees the prepared data no longer identify anyone.",
                outcome="public",
            ),
            Answer(
                "vulnerable", "Patients or another vulnerable group", "vulnerable",
                "A diagnosis makes data more sensitive and rare conditions make people easier "
                "to single out, so harm from re-identification is greater. Restricted access "
                "with a data use agreement limits who can try.",
                outcome="restricted",
            ),
            Answer(
                "children", "Children under 16", "children < 16",
                "Parents consented for their children, who may later disagree with a public "
                "release that cannot be undone. Restricted access keeps the release "
                "controllable.",
                outcome="restricted",
            ),
        ),
    ),
)

TREE = DecisionTree(
    start="deidentify",
    questions={q.key: q for q in _QUESTIONS},
    outcomes=OUTCOMES,
)
"""The sharing decision tree used throughout the book."""


# --------------------------------------------------------------------------------------
# Walking the tree
# --------------------------------------------------------------------------------------


def _check_keys(answers: Mapping[str, str], tree: DecisionTree) -> None:
    unknown = [k for k in answers if k not in tree.questions]
    if unknown:
        known = ", ".join(repr(k) for k in tree.questions)
        raise AnswerError(
            f"Unknown question(s): {', '.join(map(repr, unknown))}. "
            f"The questions are: {known}."
        )


def next_question(answers: Mapping[str, str], tree: DecisionTree = TREE) -> Question | None:
    """Return the first question on the path that has no answer yet, or None when done.

    Parameters
    ----------
    answers : mapping of str to str
        Answers so far, question key to answer key (may be empty).
    tree : DecisionTree, default TREE

    Returns
    -------
    Question or None

    Examples
    --------
    >>> next_question({}).key
    'deidentify'
    >>> next_question({"deidentify": "yes"}).key
    'legal_basis'
    >>> next_question({"deidentify": "no"}) is None
    True
    """
    _check_keys(answers, tree)
    key: str | None = tree.start
    while key is not None:
        question = tree.questions[key]
        if answers.get(key) is None:
            return question
        key = question.answer(answers[key]).next
    return None


def evaluate(answers: Mapping[str, str], tree: DecisionTree = TREE) -> Decision:
    """Walk the tree with ``answers`` and return the outcome with its reasons.

    Parameters
    ----------
    answers : mapping of str to str
        Question key to answer key, e.g. ``{"deidentify": "yes", "legal_basis": "yes", ...}``.
        Only the questions on the path are needed; answers to others are listed in
        :attr:`Decision.unused`.
    tree : DecisionTree, default TREE

    Returns
    -------
    Decision
        ``.outcome`` (an :class:`Outcome`), ``.reasons`` (one per answered question),
        ``.path`` and ``.report()``.

    Raises
    ------
    AnswerError
        If a key is not a question of the tree, if a question on the path has no answer,
        or if an answer is not one of the question's answers. The message lists the choices.

    Examples
    --------
    >>> d = evaluate({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
    ...               "sample": "healthy_adults"})
    >>> d.outcome.title
    'Share de-identified data publicly'
    >>> evaluate({"deidentify": "no"}).outcome.key
    'derived'
    """
    _check_keys(answers, tree)
    path: list[tuple[Question, Answer]] = []
    key: str | None = tree.start
    outcome_key: str | None = None
    while key is not None:
        question = tree.questions[key]
        given = answers.get(key)
        if given is None:
            choices = ", ".join(repr(a.key) for a in question.answers)
            raise AnswerError(
                f"No answer for question {key!r}: {question.text} "
                f"Give one of: {choices} (for example answers[{key!r}] = "
                f"{question.answers[0].key!r})."
            )
        answer = question.answer(given)
        path.append((question, answer))
        key, outcome_key = answer.next, answer.outcome
    assert outcome_key is not None  # guaranteed by check_tree(TREE) in the tests
    on_path = {q.key for q, _ in path}
    unused = tuple(k for k in answers if k not in on_path)
    return Decision(outcome=tree.outcomes[outcome_key], path=tuple(path), unused=unused)


def all_paths(tree: DecisionTree = TREE) -> list[tuple[dict[str, str], str]]:
    """Every route through the tree: the answers it takes and the outcome it ends in.

    Returns
    -------
    list of (dict, str)
        One ``(answers, outcome_key)`` per leaf, in the order the diagram draws them.

    Examples
    --------
    >>> answers, outcome = all_paths()[0]
    >>> answers, outcome
    ({'deidentify': 'yes', 'legal_basis': 'yes', 'purposes': 'none'}, 'derived')
    """
    paths: list[tuple[dict[str, str], str]] = []

    def visit(key: str, so_far: dict[str, str], seen: tuple[str, ...]) -> None:
        if key in seen:
            raise ValueError(f"The tree loops back to question {key!r}.")
        for answer in tree.questions[key].answers:
            here = {**so_far, key: answer.key}
            if answer.next is not None:
                visit(answer.next, here, (*seen, key))
            else:
                paths.append((here, str(answer.outcome)))

    visit(tree.start, {}, ())
    return paths


def paths_table(tree: DecisionTree = TREE) -> Any:
    """All routes as a pandas DataFrame: one row per route, one column per question.

    Questions a route does not ask are left empty; the last column is the outcome title.

    Examples
    --------
    >>> table = paths_table()
    >>> table.shape
    (9, 5)
    """
    import pandas as pd

    rows = []
    for answers, outcome in all_paths(tree):
        row = {}
        for qkey, question in tree.questions.items():
            row[question.short] = question.answer(answers[qkey]).label if qkey in answers else ""
        row["Outcome"] = tree.outcomes[outcome].title
        rows.append(row)
    return pd.DataFrame(rows)


def check_tree(tree: DecisionTree = TREE) -> list[str]:
    """Report problems in a tree rather than raise: an empty list means it is sound.

    Checks that the start question exists, every answer leads to exactly one existing
    question or outcome, no route loops, and every question and outcome can be reached.

    Examples
    --------
    >>> check_tree()
    []
    """
    problems: list[str] = []
    if tree.start not in tree.questions:
        return [f"The start question {tree.start!r} is not among the questions."]
    for key, question in tree.questions.items():
        if key != question.key:
            problems.append(f"Question stored under {key!r} calls itself {question.key!r}.")
        if not question.answers:
            problems.append(f"Question {key!r} has no answers.")
        seen_answers: set[str] = set()
        for a in question.answers:
            where = f"Answer {a.key!r} of question {key!r}"
            if a.key in seen_answers:
                problems.append(f"{where} appears twice.")
            seen_answers.add(a.key)
            if (a.next is None) == (a.outcome is None):
                problems.append(f"{where} must lead to exactly one of: a question, an outcome.")
            if a.next is not None and a.next not in tree.questions:
                problems.append(f"{where} leads to unknown question {a.next!r}.")
            if a.outcome is not None and a.outcome not in tree.outcomes:
                problems.append(f"{where} leads to unknown outcome {a.outcome!r}.")
            if not a.reason.strip():
                problems.append(f"{where} gives no reason.")
    if problems:
        return problems
    try:
        paths = all_paths(tree)
    except ValueError as err:
        return [str(err)]
    asked = {k for answers, _ in paths for k in answers}
    reached = {outcome for _, outcome in paths}
    problems += [f"Question {k!r} can never be reached." for k in tree.questions if k not in asked]
    problems += [f"Outcome {k!r} can never be reached." for k in tree.outcomes if k not in reached]
    return problems


# --------------------------------------------------------------------------------------
# Pictures and widgets
# --------------------------------------------------------------------------------------


@dataclass
class _Node:
    kind: str  # "question" or "outcome"
    key: str
    depth: int
    y: float = 0.0
    parent: int | None = None
    via: Answer | None = None  # the answer on the edge from the parent
    path: tuple[tuple[str, str], ...] = ()  # (question, answer) pairs from the start


def _layout(tree: DecisionTree) -> list[_Node]:
    """Unfold the tree (an outcome box per route) and place routes one row each."""
    nodes: list[_Node] = []
    row = [0]

    def visit(key: str, depth: int, parent: int | None, via: Answer | None,
              path: tuple[tuple[str, str], ...]) -> int:
        index = len(nodes)
        nodes.append(_Node("question", key, depth, parent=parent, via=via, path=path))
        ys = []
        for answer in tree.questions[key].answers:
            step = (*path, (key, answer.key))
            if answer.next is not None:
                child = visit(answer.next, depth + 1, index, answer, step)
            else:
                child = len(nodes)
                nodes.append(_Node("outcome", str(answer.outcome), depth + 1, float(row[0]),
                                   index, answer, step))
                row[0] += 1
            ys.append(nodes[child].y)
        nodes[index].y = sum(ys) / len(ys)
        return index

    visit(tree.start, 0, None, None, ())
    return nodes


def draw(
    tree: DecisionTree = TREE,
    decision: Decision | None = None,
    ax: matplotlib.axes.Axes | None = None,
) -> matplotlib.figure.Figure:
    """Draw the tree as a left-to-right diagram with matplotlib (no graphviz needed).

    Questions are white boxes, outcomes coloured boxes (green: public, orange: restricted,
    blue: derived only); each arrow carries its answer. Pass a :class:`Decision` to
    highlight its route and grey out the rest.

    Parameters
    ----------
    tree : DecisionTree, default TREE
    decision : Decision, optional
        A result of :func:`evaluate` whose route is drawn in bold.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made if not given.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = draw()
    >>> len(fig.axes)
    1
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes = _layout(tree)
    n_rows = 1 + max(n.y for n in nodes)
    depth = 1 + max(n.depth for n in nodes)
    col, box_w, box_h = 4.8, 2.9, 0.86
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6 * depth, 0.8 * n_rows + 0.6))
    else:
        fig = ax.figure
    chosen = set(decision.answers.items()) if decision is not None else None

    def on_route(node: _Node) -> bool:
        return chosen is None or set(node.path) <= chosen

    for node in nodes:
        x, y = node.depth * col, node.y
        active = on_route(node)
        alpha = 1.0 if active else 0.3
        emphasis = chosen is not None and active
        if node.kind == "question":
            text = textwrap.fill(tree.questions[node.key].short, 21, break_on_hyphens=False)
            face, edge = "white", "#333333"
        else:
            outcome = tree.outcomes[node.key]
            text = textwrap.fill(outcome.title, 18, break_on_hyphens=False)
            face, edge = outcome.colour, "#333333"
        ax.add_patch(FancyBboxPatch(
            (x - box_w / 2, y - box_h / 2), box_w, box_h,
            boxstyle="round,pad=0.02,rounding_size=0.15", facecolor=face, edgecolor=edge,
            linewidth=2.4 if emphasis else 1.0, alpha=alpha, zorder=2,
        ))
        ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3, alpha=alpha,
                fontweight="bold" if node.kind == "outcome" else "normal")
        if node.parent is not None and node.via is not None:
            parent = nodes[node.parent]
            x0, y0 = parent.depth * col + box_w / 2, parent.y
            x1 = x - box_w / 2
            xm = x0 + 0.15
            ax.plot([x0, xm, xm, x1], [y0, y0, y, y], color="#333333", alpha=alpha,
                    linewidth=2.2 if emphasis else 0.9, zorder=1, solid_joinstyle="round")
            ax.annotate("", xy=(x1, y), xytext=(x1 - 0.05, y), zorder=1,
                        arrowprops={"arrowstyle": "-|>", "color": "#333333", "alpha": alpha})
            ax.text((xm + x1) / 2, y - 0.07, node.via.short, ha="center", va="bottom",
                    fontsize=7.5, style="italic", alpha=alpha, zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.85 * alpha})
    ax.set_xlim(-box_w / 2 - 0.2, (depth - 1) * col + box_w / 2 + 0.2)
    ax.set_ylim(n_rows - 0.4, -0.6)
    ax.set_axis_off()
    title = "Which way to share?"
    if decision is not None:
        title += f"  Your route: {decision.outcome.title.lower()}"
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return fig


def widget(tree: DecisionTree = TREE) -> Any:
    """A small clickable form for a live notebook: one drop-down per question on the route.

    Only the questions your earlier answers lead to are shown; once the route ends, the
    outcome and its reasons appear below. Needs ``ipywidgets`` and a running kernel (in the
    static book it shows nothing; use :func:`evaluate` there).

    Returns
    -------
    ipywidgets.VBox
        With ``.dropdowns`` (question key to Dropdown) and ``.result`` (an HTML widget)
        attached, so code and tests can drive it.

    Examples
    --------
    >>> w = widget()
    >>> w.dropdowns["deidentify"].value = "no"
    >>> "derived data only" in w.result.value
    True
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - ipywidgets is in the Binder environment
        raise ImportError(
            "The decision widget needs ipywidgets: `pip install ipywidgets`, or use "
            "mrishare.decision.evaluate({...}) in plain code."
        ) from err
    from html import escape

    dropdowns: dict[str, Any] = {}
    rows = []
    for key, question in tree.questions.items():
        dd = widgets.Dropdown(
            options=[("Choose an answer", None)] + [(a.label, a.key) for a in question.answers],
            value=None,
            layout=widgets.Layout(width="max-content"),
        )
        label = widgets.HTML(f"<b>{escape(question.text)}</b><br><small>"
                             f"{escape(question.help)}</small>")
        rows.append(widgets.VBox([label, dd]))
        dropdowns[key] = dd
    boxes = dict(zip(tree.questions, rows, strict=True))
    result = widgets.HTML()

    def update(_change: object = None) -> None:
        answers: dict[str, str] = {}
        key: str | None = tree.start
        visible = set()
        while key is not None:
            visible.add(key)
            value = dropdowns[key].value
            if value is None:
                break
            answers[key] = value
            key = tree.questions[key].answer(value).next
        for k, box in boxes.items():
            box.layout.display = None if k in visible else "none"
        if next_question(answers, tree) is not None:
            result.value = "<i>Answer the question above to continue.</i>"
            return
        d = evaluate(answers, tree)
        reasons = "".join(f"<li>{escape(r)}</li>" for r in d.reasons)
        steps = "".join(f"<li>{escape(s)}</li>" for s in d.outcome.steps)
        result.value = (
            f"<div style='border-left: 6px solid {d.outcome.colour}; padding-left: 0.8em'>"
            f"<h4>{escape(d.outcome.title)}</h4><p>{escape(d.outcome.summary)}</p>"
            f"<b>Why</b><ol>{reasons}</ol><b>Next steps</b><ul>{steps}</ul>"
            "<i>Not legal advice: discuss the outcome with your privacy officer.</i></div>"
        )

    for dd in dropdowns.values():
        dd.observe(update, names="value")
    update()
    box = widgets.VBox([*rows, result])
    box.dropdowns = dropdowns
    box.result = result
    return box
