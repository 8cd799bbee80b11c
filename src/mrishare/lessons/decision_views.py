"""Pictures and click-throughs of the sharing decision tree, all from the same tree data.

* :func:`draw`: an indented diagram (matplotlib, no graphviz) that fits a page at 9 pt text;
* :func:`click_through`: buttons in plain HTML and JavaScript that work in the static book,
  without a kernel and without loading anything from the internet;
* :func:`widget`: drop-downs for a live notebook (Binder), with ipywidgets.

Use them through :mod:`mrishare.lessons.decision` (``decision.draw()`` and so on).

Examples
--------
>>> from mrishare.lessons import decision, decision_views
>>> view = decision_views.click_through(decision.TREE)
>>> view.data["start"]
'deidentify'
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from html import escape
from itertools import count
from typing import TYPE_CHECKING, Any, cast

from mrishare.lessons.decision import (
    Answer,
    Decision,
    DecisionTree,
    all_paths,
    evaluate,
    next_question,
)

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes
    import matplotlib.figure

__all__ = ["ClickThrough", "click_through", "draw", "paths_table", "tree_data", "widget"]

_FONT = 9  # points: the smallest text in the diagram
_WIDTH = 6.5  # inches: at 100 dpi the diagram fits the text column (about 670 px) unscaled


@dataclass
class _Node:
    kind: str  # "question" or "outcome"
    key: str
    depth: int
    row: int
    via: Answer | None
    parent: int | None
    path: tuple[tuple[str, str], ...]


def _unfold(tree: DecisionTree) -> list[_Node]:
    """Unfold the tree into rows: a node per visit, depth-first, one row each."""
    nodes: list[_Node] = []

    def visit(kind: str, key: str, depth: int, via: Answer | None, parent: int | None,
              path: tuple[tuple[str, str], ...]) -> None:
        index = len(nodes)
        nodes.append(_Node(kind, key, depth, index, via, parent, path))
        if kind == "question":
            for answer in tree.questions[key].answers:
                step = (*path, (key, answer.key))
                if answer.next is not None:
                    visit("question", answer.next, depth + 1, answer, index, step)
                else:
                    visit("outcome", str(answer.outcome), depth + 1, answer, index, step)

    visit("question", tree.start, 0, None, None, ())
    return nodes


def draw(tree: DecisionTree, decision: Decision | None = None,
         ax: matplotlib.axes.Axes | None = None) -> matplotlib.figure.Figure:
    """Draw the tree top to bottom, one box per row, children indented under their question.

    Questions are white boxes, outcomes coloured (Okabe-Ito palette: green public, orange
    restricted, blue derived only, purple find support); the answer that leads to a box is
    written in italics on its left. Text is at least 9 pt when the 6.5-inch figure is shown at
    its natural size. A :class:`Decision` highlights its route and fades the rest.

    Parameters
    ----------
    tree : DecisionTree
    decision : Decision, optional
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made if not given.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from mrishare.lessons.decision import TREE
    >>> fig = draw(TREE)
    >>> min(t.get_fontsize() for t in fig.axes[0].texts) >= 9
    True
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes = _unfold(tree)
    row_h, indent, box_w = 0.6, 1.2, 3.2  # inches
    height = row_h * len(nodes) + 0.4
    if ax is None:
        fig, ax = plt.subplots(figsize=(_WIDTH, height))
    else:
        fig = cast("matplotlib.figure.Figure", ax.get_figure(root=True))
    chosen = set(decision.answers.items()) if decision is not None else None
    for node in nodes:
        active = chosen is None or set(node.path) <= chosen
        alpha = 1.0 if active else 0.3
        bold = chosen is not None and active
        x, y = node.depth * indent, node.row * row_h
        if node.kind == "question":
            text, face = tree.questions[node.key].short, "white"
        else:
            text, face = tree.outcomes[node.key].title, tree.outcomes[node.key].colour
        width = min(box_w, _WIDTH - x - 0.1)
        wrapped = textwrap.fill(text, int(width * 12), break_on_hyphens=False)
        ax.add_patch(FancyBboxPatch((x, y - 0.24), width, 0.48,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=face, edgecolor="#333333", alpha=alpha,
                                    linewidth=2.2 if bold else 0.9, zorder=2))
        ax.text(x + 0.08, y, wrapped, ha="left", va="center", fontsize=_FONT, alpha=alpha,
                zorder=3, fontweight="bold" if node.kind == "outcome" else "normal")
        if node.parent is not None and node.via is not None:
            parent = nodes[node.parent]
            px = parent.depth * indent + 0.12
            ax.plot([px, px, x], [parent.row * row_h + 0.24, y, y], color="#333333",
                    alpha=alpha, linewidth=2.0 if bold else 0.8, zorder=1)
            ax.text(px + 0.06, y - 0.04, node.via.short, ha="left", va="bottom",
                    fontsize=_FONT, style="italic", alpha=alpha, zorder=3,
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"})
    ax.set_xlim(0, _WIDTH)
    ax.set_ylim(height - 0.6, -0.45)
    ax.set_axis_off()
    title = "Which way to share?"
    if decision is not None:
        title += f"  Your route: {decision.outcome.title.lower()}"
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.45 / height, bottom=0.01)
    return fig


def paths_table(tree: DecisionTree) -> Any:
    """Return all routes as a pandas DataFrame: one row per route, one column per question.

    Questions a route does not ask are left empty; the last column is the outcome title.

    Examples
    --------
    >>> from mrishare.lessons.decision import TREE
    >>> paths_table(TREE).shape
    (13, 7)
    """
    import pandas as pd

    rows = []
    for answers, outcome in all_paths(tree):
        row = {q.short: q.answer(answers[k]).label if k in answers else ""
               for k, q in tree.questions.items()}
        row["Outcome"] = tree.outcomes[outcome].title
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- click-through


def tree_data(tree: DecisionTree) -> dict[str, Any]:
    """Return the tree as plain data (for JSON): start, questions and outcomes.

    Examples
    --------
    >>> from mrishare.lessons.decision import TREE
    >>> sorted(tree_data(TREE)["outcomes"])
    ['derived', 'public', 'restricted', 'support']
    """
    return {
        "start": tree.start,
        "questions": {k: {"text": q.text, "help": q.help, "answers": [
            {"key": a.key, "label": a.label, "reason": a.reason, "next": a.next,
             "outcome": a.outcome} for a in q.answers]} for k, q in tree.questions.items()},
        "outcomes": {k: {"title": o.title, "summary": o.summary, "steps": list(o.steps),
                         "colour": o.colour} for k, o in tree.outcomes.items()},
    }


_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s), tree = %(data)s;
  var stage = root.querySelector('.mrs-stage'), live = root.querySelector('.mrs-live');
  var trail = [];
  function el(tag, text, cls) {
    var e = document.createElement(tag); if (text) { e.textContent = text; }
    if (cls) { e.className = cls; } return e;
  }
  function button(text, onclick) {
    var b = el('button', text, 'mrs-button'); b.type = 'button'; b.onclick = onclick; return b;
  }
  function show() {
    stage.innerHTML = '';
    var list = el('ol', '', 'mrs-trail');
    trail.forEach(function (step) {
      var li = el('li'); li.appendChild(el('strong', step.q.text + ' '));
      li.appendChild(el('span', step.a.label + '. ')); li.appendChild(el('em', step.a.reason));
      list.appendChild(li);
    });
    if (trail.length) { stage.appendChild(list); }
    var last = trail.length ? trail[trail.length - 1].a : null;
    if (last && last.outcome) {
      var o = tree.outcomes[last.outcome], box = el('div', '', 'mrs-outcome');
      box.style.borderLeft = '8px solid ' + o.colour;
      box.appendChild(el('h4', 'Outcome: ' + o.title)); box.appendChild(el('p', o.summary));
      var steps = el('ul'); o.steps.forEach(function (s) { steps.appendChild(el('li', s)); });
      box.appendChild(steps); stage.appendChild(box);
      live.textContent = 'Outcome: ' + o.title + '. ' + o.summary;
    } else {
      var key = last ? last.next : tree.start, q = tree.questions[key];
      var fs = el('fieldset', '', 'mrs-question'), legend = el('legend', q.text);
      fs.appendChild(legend); fs.appendChild(el('p', q.help, 'mrs-help'));
      q.answers.forEach(function (a) {
        fs.appendChild(button(a.label, function () { trail.push({q: q, a: a}); show(); }));
      });
      stage.appendChild(fs);
      live.textContent = 'Question ' + (trail.length + 1) + ': ' + q.text;
      var first = fs.querySelector('button'); if (trail.length && first) { first.focus(); }
    }
    var nav = el('p', '', 'mrs-nav');
    if (trail.length) {
      nav.appendChild(button('Back one question', function () { trail.pop(); show(); }));
      nav.appendChild(button('Start again', function () { trail = []; show(); }));
    }
    stage.appendChild(nav);
  }
  show();
})();
"""

_STYLE = """
<style>
.mrs-click { border: 1px solid #888; border-radius: 6px; padding: 0.8em 1em; margin: 1em 0; }
.mrs-click fieldset { border: none; padding: 0; margin: 0; }
.mrs-click legend { font-weight: bold; font-size: 1.05em; }
.mrs-click .mrs-help { font-size: 0.92em; opacity: 0.85; }
.mrs-click .mrs-button { margin: 0.25em 0.4em 0.25em 0; padding: 0.35em 0.8em;
  border: 1px solid #555; border-radius: 4px; background: #f4f4f4; color: #111;
  cursor: pointer; font: inherit; text-align: left; }
.mrs-click .mrs-button:focus { outline: 3px solid #0072B2; outline-offset: 2px; }
.mrs-click .mrs-outcome { padding-left: 0.8em; margin-top: 0.8em; }
.mrs-sr { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
</style>
"""


@dataclass(frozen=True)
class ClickThrough:
    """A self-contained HTML snippet (``html``) built from the tree data (``data``).

    Shown as HTML in a notebook, so the click-through is part of the static page.
    """

    html: str
    data: dict[str, Any]

    def _repr_html_(self) -> str:
        return self.html


_IDS = count(1)


def click_through(tree: DecisionTree) -> ClickThrough:
    """Return buttons that walk the tree in any browser, with no kernel and no download.

    Each question is a group of buttons (reachable with the keyboard); the route so far, with
    each answer's reason, stays above the current question; a polite live region announces
    each new question and the outcome to screen readers; "Back one question" and "Start
    again" undo. The tree travels as JSON inside the snippet, so it is exactly the tested data.

    Examples
    --------
    >>> from mrishare.lessons.decision import TREE
    >>> view = click_through(TREE)
    >>> '<div class="mrs-live mrs-sr" aria-live="polite"' in view.html
    True
    """
    data = tree_data(tree)
    ident = f"mrs-click-{next(_IDS)}"
    payload = json.dumps(data).replace("</", "<\\/")
    script = _SCRIPT % {"id": json.dumps(ident), "data": payload}
    html = (f'{_STYLE}<div class="mrs-click" id="{ident}" role="group" '
            f'aria-label="Which way to share? Click through the decision tree">'
            f'<div class="mrs-live mrs-sr" aria-live="polite"></div>'
            f'<div class="mrs-stage"><noscript>This click-through needs JavaScript; the '
            f'diagram and the table of routes below show the same tree.</noscript></div>'
            f'</div><script>{script}</script>')
    return ClickThrough(html=html, data=data)


# ----------------------------------------------------------------------------- live widget


def widget(tree: DecisionTree) -> Any:
    """Return drop-downs for a live notebook: only the questions on the route are shown.

    Returns
    -------
    ipywidgets.VBox
        With ``.dropdowns`` (question key to Dropdown) and ``.result`` (an HTML widget).
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - ipywidgets is in the Binder environment
        raise ImportError("The decision widget needs ipywidgets: `pip install ipywidgets`, "
                          "or use decision.click_through() or decision.evaluate({...}).") from err
    dropdowns: dict[str, Any] = {}
    rows = []
    for key, question in tree.questions.items():
        dd = widgets.Dropdown(options=[("Choose an answer", None)]
                              + [(a.label, a.key) for a in question.answers],
                              value=None, layout=widgets.Layout(width="max-content"))
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
            "<i>Not legal advice: discuss the outcome with your data protection officer.</i>"
            "</div>")

    for dd in dropdowns.values():
        dd.observe(update, names="value")
    update()
    box = widgets.VBox([*rows, result])
    box.dropdowns = dropdowns  # pyright: ignore[reportAttributeAccessIssue]
    box.result = result  # pyright: ignore[reportAttributeAccessIssue]
    return box
