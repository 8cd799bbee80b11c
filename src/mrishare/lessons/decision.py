"""Which way to share? The sharing decision tree, read from a data file.

The questions follow the interactive version (2021) of the *Brain MRI data sharing guide for
Dutch researchers* (Huijser et al., 2020, doi:10.5281/zenodo.3822289): can the data still be
de-identified, is informed consent the legal basis (and if not, has the institution confirmed
another way), what sharing did participants consent to, and who are the participants. Each
answer leads to the next question or ends in an outcome: share de-identified data publicly,
share with restricted access, share only derived data, or find support first. Every answer
carries the reason it leads where it leads, so a decision can be explained, not announced.

The tree lives in ``mrishare/rules/decision_tree.yaml``; :func:`load_tree` reads and checks it,
and :data:`TREE` is the shipped tree. The same data drive :func:`evaluate` (in code),
:func:`draw` (a diagram), :func:`click_through` (HTML and JavaScript for the static book),
:func:`widget` (drop-downs in a live notebook) and :func:`all_paths` (every route).

This is a thinking aid, not legal advice: take the outcome and its reasons to your data
protection officer, who advises; your institution, the controller, decides.

Examples
--------
>>> from mrishare.lessons import decision
>>> result = decision.evaluate({"deidentify": "yes", "legal_basis": "yes",
...                             "purposes": "conditions"})
>>> result.outcome.key
'restricted'
>>> len(result.reasons)
3
>>> len(decision.all_paths())
13
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrishare import rules
from mrishare.errors import AnswerError, RuleFileError

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
    "click_through",
    "draw",
    "evaluate",
    "load_tree",
    "next_question",
    "paths_table",
    "widget",
]

RULE_FILE = "decision_tree.yaml"


@dataclass(frozen=True)
class Answer:
    """One answer to a question, and where it leads.

    ``key`` is used in code, ``label`` on buttons, ``short`` in the diagram; ``reason`` says
    why it leads where it leads: to ``next`` (a question key) or to an ``outcome``.
    """

    key: str
    label: str
    short: str
    reason: str
    next: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Question:
    """One question of the tree: ``key``, ``text``, ``short``, ``help`` and its ``answers``."""

    key: str
    text: str
    short: str
    help: str
    answers: tuple[Answer, ...]

    def answer(self, key: str) -> Answer:
        """Return the answer called ``key``.

        Raises
        ------
        AnswerError
            Naming the question and the answers it allows.
        """
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
    """Where a walk ends: ``key``, ``title``, ``summary``, ``steps``, ``chapter``, ``colour``."""

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
        """Return the answers on the path, question key to answer key."""
        return {q.key: a.key for q, a in self.path}

    @property
    def reasons(self) -> list[str]:
        """Return one reason per answered question, in the order asked."""
        return [a.reason for _, a in self.path]

    def report(self) -> str:
        """Return the decision in plain text: outcome, reasons, next steps."""
        lines = [f"Outcome: {self.outcome.title}", "", textwrap.fill(self.outcome.summary, 88),
                 "", "Why:"]
        for i, (q, a) in enumerate(self.path, start=1):
            lines += textwrap.wrap(f"{i}. {q.short} {a.label}.", 88, initial_indent="  ",
                                   subsequent_indent="     ")
            lines += textwrap.wrap(a.reason, 88, initial_indent="     ",
                                   subsequent_indent="     ")
        lines += ["", "Next steps:"]
        lines += [textwrap.fill(s, 88, initial_indent="  - ", subsequent_indent="    ")
                  for s in self.outcome.steps]
        if self.unused:
            lines += ["", "Not needed for this outcome: " + ", ".join(self.unused) + "."]
        lines += ["", "Not legal advice: discuss the outcome with your data protection officer."]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        parts = [f"**Outcome: {self.outcome.title}**", "", self.outcome.summary, "", "Why:", ""]
        parts += [f"{i}. *{q.short}* **{a.label}.** {a.reason}"
                  for i, (q, a) in enumerate(self.path, start=1)]
        parts += ["", "Next steps:", ""] + [f"- {s}" for s in self.outcome.steps]
        parts += ["", "*Not legal advice: discuss the outcome with your data protection officer.*"]
        return "\n".join(parts)

    def __str__(self) -> str:
        """Return :meth:`report`."""
        return self.report()

    def __repr__(self) -> str:
        """Return the outcome key and the answers."""
        return f"Decision(outcome={self.outcome.key!r}, answers={self.answers!r})"


# ----------------------------------------------------------------------------- loading


def _text(value: Any, where: str, name: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        hint = " (quote yes and no: unquoted, YAML reads them as true and false)" if isinstance(
            value, bool) else ""
        raise RuleFileError(f"{source}: {where}: {name} must be non-empty text, got "
                            f"{value!r}{hint}.")
    return " ".join(value.split())


def _mapping(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RuleFileError(f"{source}: {where} must be a mapping of names to entries.")
    return value


def load_tree(path: str | Path = RULE_FILE) -> DecisionTree:
    """Read a decision tree from YAML and check that it is sound.

    Parameters
    ----------
    path : str or Path, default "decision_tree.yaml"
        A shipped rule file name or a path to a file of your own (same shape; see the
        comments at the top of the shipped file).

    Returns
    -------
    DecisionTree

    Raises
    ------
    RuleFileError
        Naming the file and the place (``questions.purposes.answers[2]``) of the first
        malformed entry, or listing every problem :func:`check_tree` finds (an answer that
        leads nowhere, a loop, an unreachable question or outcome).

    Examples
    --------
    >>> load_tree().start
    'deidentify'
    """
    source = rules.path(path).name
    data = _mapping(rules.read_yaml(path), "the file", source)
    for part in ("start", "questions", "outcomes"):
        if part not in data:
            raise RuleFileError(f"{source}: missing top-level entry {part!r}.")
    outcomes: dict[str, Outcome] = {}
    for key, entry in _mapping(data["outcomes"], "outcomes", source).items():
        where = f"outcomes.{key}"
        entry = _mapping(entry, where, source)
        steps = entry.get("steps")
        if not isinstance(steps, list) or not steps:
            raise RuleFileError(f"{source}: {where}: steps must be a list of text.")
        outcomes[str(key)] = Outcome(
            key=str(key), title=_text(entry.get("title"), where, "title", source),
            summary=_text(entry.get("summary"), where, "summary", source),
            steps=tuple(_text(s, f"{where}.steps", "a step", source) for s in steps),
            chapter=_text(entry.get("chapter"), where, "chapter", source),
            colour=_text(entry.get("colour"), where, "colour", source))
    questions: dict[str, Question] = {}
    for key, entry in _mapping(data["questions"], "questions", source).items():
        where = f"questions.{key}"
        entry = _mapping(entry, where, source)
        raw = entry.get("answers")
        if not isinstance(raw, list) or not raw:
            raise RuleFileError(f"{source}: {where}: answers must be a non-empty list.")
        answers = []
        for i, item in enumerate(raw):
            at = f"{where}.answers[{i}]"
            item = _mapping(item, at, source)
            nxt, out = item.get("next"), item.get("outcome")
            answers.append(Answer(
                key=_text(item.get("key"), at, "key", source),
                label=_text(item.get("label"), at, "label", source),
                short=_text(item.get("short"), at, "short", source),
                reason=_text(item.get("reason"), at, "reason", source),
                next=None if nxt is None else _text(nxt, at, "next", source),
                outcome=None if out is None else _text(out, at, "outcome", source)))
        questions[str(key)] = Question(
            key=str(key), text=_text(entry.get("text"), where, "text", source),
            short=_text(entry.get("short"), where, "short", source),
            help=_text(entry.get("help"), where, "help", source), answers=tuple(answers))
    tree = DecisionTree(start=_text(data["start"], "start", "start", source),
                        questions=questions, outcomes=outcomes)
    problems = check_tree(tree)
    if problems:
        raise RuleFileError(f"{source}: " + " ".join(problems))
    return tree


# ----------------------------------------------------------------------------- checking


def check_tree(tree: DecisionTree) -> list[str]:
    """Report problems in a tree rather than raise: an empty list means it is sound.

    Checks that the start question exists, every answer leads to exactly one known question
    or outcome, answers do not repeat, no route loops, and every question and outcome can be
    reached.

    Examples
    --------
    >>> check_tree(TREE)
    []
    """
    if tree.start not in tree.questions:
        return [f"The start question {tree.start!r} is not among the questions."]
    problems: list[str] = []
    for key, question in tree.questions.items():
        seen: set[str] = set()
        for i, a in enumerate(question.answers):
            where = f"questions.{key}.answers[{i}] ({a.key!r})"
            if a.key in seen:
                problems.append(f"{where} appears twice.")
            seen.add(a.key)
            if (a.next is None) == (a.outcome is None):
                problems.append(f"{where} must lead to exactly one of: a question, an outcome.")
            if a.next is not None and a.next not in tree.questions:
                problems.append(f"{where} leads to unknown question {a.next!r}.")
            if a.outcome is not None and a.outcome not in tree.outcomes:
                problems.append(f"{where} leads to unknown outcome {a.outcome!r}.")
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


def all_paths(tree: DecisionTree | None = None) -> list[tuple[dict[str, str], str]]:
    """Return every route through the tree: the answers it takes and the outcome it ends in.

    Raises
    ------
    ValueError
        When a route loops back to a question it already asked.

    Examples
    --------
    >>> all_paths()[0]
    ({'deidentify': 'yes', 'legal_basis': 'yes', 'purposes': 'none'}, 'derived')
    """
    walked: DecisionTree = TREE if tree is None else tree
    paths: list[tuple[dict[str, str], str]] = []

    def visit(key: str, so_far: dict[str, str], seen: tuple[str, ...]) -> None:
        if key in seen:
            raise ValueError(f"The tree loops back to question {key!r} "
                             f"(route: {' -> '.join((*seen, key))}).")
        for answer in walked.questions[key].answers:
            here = {**so_far, key: answer.key}
            if answer.next is not None:
                visit(answer.next, here, (*seen, key))
            else:
                paths.append((here, str(answer.outcome)))

    visit(walked.start, {}, ())
    return paths


TREE: DecisionTree = load_tree()
"""The sharing decision tree used throughout the book (from ``rules/decision_tree.yaml``)."""

OUTCOMES: Mapping[str, Outcome] = TREE.outcomes
"""The outcomes of :data:`TREE`, by key."""


# ----------------------------------------------------------------------------- walking


def _check_keys(answers: Mapping[str, str], tree: DecisionTree) -> None:
    unknown = [k for k in answers if k not in tree.questions]
    if unknown:
        known = ", ".join(repr(k) for k in tree.questions)
        raise AnswerError(f"Unknown question(s): {', '.join(map(repr, unknown))}. "
                          f"The questions are: {known}.")


def next_question(answers: Mapping[str, str], tree: DecisionTree = TREE) -> Question | None:
    """Return the first question on the route that has no answer yet, or None when done.

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
        Question key to answer key. Only the questions on the route are needed; answers to
        others are listed in :attr:`Decision.unused`.
    tree : DecisionTree, default TREE

    Returns
    -------
    Decision

    Raises
    ------
    AnswerError
        If a key is not a question of the tree, a question on the route has no answer, or an
        answer is not one the question allows; the message names the question and the choices.

    Examples
    --------
    >>> d = evaluate({"deidentify": "yes", "legal_basis": "yes", "purposes": "public",
    ...               "sample": "healthy_adults"})
    >>> d.outcome.title
    'Share de-identified data publicly'
    >>> evaluate({"deidentify": "yes", "legal_basis": "unsure"}).outcome.key
    'support'
    """
    _check_keys(answers, tree)
    path: list[tuple[Question, Answer]] = []
    key: str | None = tree.start
    outcome_key = ""
    while key is not None:
        question = tree.questions[key]
        given = answers.get(key)
        if given is None:
            choices = ", ".join(repr(a.key) for a in question.answers)
            raise AnswerError(f"No answer for question {key!r}: {question.text} "
                              f"Give one of: {choices}.")
        answer = question.answer(given)
        path.append((question, answer))
        key, outcome_key = answer.next, answer.outcome or ""
    on_path = {q.key for q, _ in path}
    unused = tuple(k for k in answers if k not in on_path)
    return Decision(outcome=tree.outcomes[outcome_key], path=tuple(path), unused=unused)


# ----------------------------------------------------------------------------- views


def draw(tree: DecisionTree = TREE, decision: Decision | None = None,
         ax: matplotlib.axes.Axes | None = None) -> matplotlib.figure.Figure:
    """Draw the tree as an indented diagram that fits a page (see :mod:`.decision_views`).

    Examples
    --------
    >>> fig = draw()
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    from mrishare.lessons import decision_views

    return decision_views.draw(tree, decision, ax)


def click_through(tree: DecisionTree = TREE) -> Any:
    """Return a click-through of the tree for the static book (HTML + JavaScript, offline).

    Examples
    --------
    >>> "aria-live" in click_through().html
    True
    """
    from mrishare.lessons import decision_views

    return decision_views.click_through(tree)


def paths_table(tree: DecisionTree = TREE) -> Any:
    """Return all routes as a DataFrame, one row per route (see :mod:`.decision_views`).

    Examples
    --------
    >>> paths_table().shape
    (13, 7)
    """
    from mrishare.lessons import decision_views

    return decision_views.paths_table(tree)


def widget(tree: DecisionTree = TREE) -> Any:
    """Return drop-downs for a live notebook (needs ipywidgets and a kernel).

    Examples
    --------
    >>> w = widget()
    >>> w.dropdowns["deidentify"].value = "no"
    >>> "derived data only" in w.result.value
    True
    """
    from mrishare.lessons import decision_views

    return decision_views.widget(tree)
