"""Rendering text explanations: a plain-text block for the CLI and an HTML fragment for the run report.

Pure functions over :class:`~cnnlab.apps.text.explain.TextExplanation` records (no torch).
"""

from __future__ import annotations

import html
from typing import List, Sequence

__all__ = ["render_explanation", "explanation_html"]


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
