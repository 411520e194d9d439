"""Text explanations rendered for the CLI (plain text) and the HTML report of a text run.

:func:`render_explanation` and :func:`explanation_html` are pure functions over
:class:`~cnnlab.apps.text.explain.TextExplanation` records; :func:`report_sections` gives the sections
``cnnlab report RUN`` adds for a text run (``extra.app`` = ``text``) after the summary and the learning
curves: test accuracy with the confusion matrix, and a few test sentences explained.
"""

from __future__ import annotations

import html
from typing import List, Sequence

from cnnlab.htmlparts import Section
from cnnlab.errors import DataError

__all__ = ["Section", "render_explanation", "explanation_html", "confusion_html", "report_sections"]


def _sentence(e) -> List[int]:
    """Positions of the sentence's tokens (the pads dropped)."""
    return [i for i, t in enumerate(e.tokens) if t != "<pad>"]


def render_explanation(e, classes: Sequence[str]) -> str:
    """The CLI text: decision, per-window n-grams with contributions, per-word scores."""
    t, r = classes[e.target], classes[e.other]
    lines = [f"prediction: {t} (p={e.probabilities[e.target]:.3f}); margin over {r}: {e.margin:+.3f}",
             f"n-grams picked by max-over-time pooling (contribution = feature × (w[{t}] − w[{r}])):"]
    for k, hits in e.ngrams.items():
        for h in hits:
            lines.append(f"  window {k}  map {h.map:>3}  \"{' '.join(h.tokens)}\"  feature {h.activation:.3f}  "
                         f"contribution {h.contribution:+.3f}")
    lines.append(f"  (all maps' contributions + bias difference {e.bias_diff:+.3f} = margin {e.margin:+.3f})")
    lines.append("per word (gradient × input at the embedding / occlusion: margin drop without the word):")
    for i in _sentence(e):
        lines.append(f"  {e.tokens[i]:<16} {e.grad_x_input[i]:+.3f}  {e.occlusion[i]:+.3f}")
    return "\n".join(lines)


def _shade(value: float, scale: float) -> str:
    a = min(1.0, abs(value) / scale) if scale > 0 else 0.0
    color = "46,125,50" if value >= 0 else "198,40,40"  # green supports the decision, red opposes it
    return f"background: rgba({color},{0.75 * a:.2f})"


def explanation_html(e, classes: Sequence[str], true_label: str | None = None) -> str:
    """One sentence as an HTML fragment: words shaded by occlusion, then the top n-gram per window."""
    idx = _sentence(e)
    scale = max([abs(e.occlusion[i]) for i in idx] + [1e-9])
    words = " ".join(f'<span style="{_shade(e.occlusion[i], scale)};padding:1px 2px">{html.escape(e.tokens[i])}</span>'
                     for i in idx)
    truth = f" (true: {html.escape(true_label)})" if true_label is not None else ""
    head = (f"<b>{html.escape(classes[e.target])}</b> p={e.probabilities[e.target]:.2f}{truth}")
    grams = "; ".join(f"{k}: “{html.escape(' '.join(h[0].tokens))}” {h[0].contribution:+.2f}"
                      for k, h in e.ngrams.items() if h)
    return f"<p>{head}<br>{words}<br><small>top n-grams — {grams}</small></p>"


def _examples(y, pred, n: int) -> list:
    """Up to ``n`` test sentences to explain: correct ones taking the classes in turn, and up to two mistakes."""
    by_class = {}
    for i, (t, p) in enumerate(zip(y, pred)):
        if t == p:
            by_class.setdefault(t, []).append(i)
    correct = [i for group in zip(*by_class.values()) for i in group] if by_class else []
    correct += sorted(set(i for v in by_class.values() for i in v) - set(correct))
    wrong = [i for i, (t, p) in enumerate(zip(y, pred)) if t != p]
    chosen = correct[: max(0, n - min(2, len(wrong)))] + wrong[:2]
    rest = [i for i in correct + wrong if i not in chosen]
    return (chosen + rest)[:n]


def confusion_html(cm, classes: Sequence[str]) -> str:
    """The confusion matrix as an HTML table (rows: true class; columns: predicted), with per-class recall."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in classes)
    rows = []
    for i, c in enumerate(classes):
        total = sum(int(v) for v in cm[i])
        cells = "".join(f"<td>{int(v)}</td>" for v in cm[i])
        recall = f"{int(cm[i][i]) / total:.2%}" if total else "-"
        rows.append(f"<tr><td>{html.escape(c)}</td>{cells}<td>{total}</td><td>{recall}</td></tr>")
    return (f"<table><thead><tr><th>true \\ predicted</th>{head}<th>sentences</th><th>recall</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def report_sections(run, *, data=None, n_test=None, n_examples: int = 4, **_options):
    """The text sections of ``cnnlab report RUN`` (the report adds the summary and the learning curves).

    Re-reads the run's corpus, takes its recorded test sentences, and returns ``(subtitle, [test accuracy with
    the confusion matrix, explanations of a few test sentences])``.

    Raises:
        DataError: the corpus changed or is missing (the message says how to get it).
    """
    import torch

    from cnnlab import explain as cx
    from cnnlab.apps.text.explain import explain_ids
    from cnnlab.apps.text.train import prepare
    from cnnlab.apps.text.use import from_run

    tm = from_run(run)
    meta = tm.meta
    td = prepare(meta["data"], text_column=meta.get("text_column", "text"),
                 label_column=meta.get("label_column", "label"))
    idx = torch.as_tensor(meta.get("test_indices") or [], dtype=torch.long)
    if n_test:
        idx = idx[:n_test]
    if not len(idx):
        raise DataError(f"text run `{run.path}` records no test sentences")
    if td.x.shape[1] != tm.model.input_shape[0] or len(td.vocab) != len(tm.vocab):
        raise DataError(f"`{meta['data']}` changed since run `{run.path}` was trained (vocabulary or length differ)")
    x, y = td.x[idx], td.y[idx]
    with torch.no_grad():
        pred = torch.cat([tm.model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    cm = cx.confusion_matrix(y, pred, len(tm.classes)).tolist()
    acc = float((pred == y).float().mean())
    ev = Section("evaluation", "Test accuracy and confusion matrix")
    ev.blocks += [f"<p>Accuracy on {len(y)} test sentences: <b>{acc:.2%}</b></p>", confusion_html(cm, tm.classes)]
    ex = Section("explanations", "Why: the n-gram each window picked, and each word's occlusion score")
    ex.blocks.append('<p class="note">Words are shaded by how much the margin of the predicted class drops without '
                     "them (green supports the decision, red opposes it); the n-gram per window is the top feature "
                     "map's pick (max-over-time position) with its contribution feature × weight difference.</p>")
    for i in _examples(y.tolist(), pred.tolist(), n_examples):
        e = explain_ids(tm.model, x[i].tolist(), tm.vocab.itos, top=1)
        ex.blocks.append(explanation_html(e, tm.classes, true_label=tm.classes[int(y[i])]))
    subtitle = (f"TextCNN-{meta['variant']} · data {meta['data']} · vectors {meta.get('vectors') or 'random'} · "
                f"{len(y)} test sentences")
    return subtitle, [ev, ex]
