"""Which n-grams a TextCNN used for a decision, and how much each word mattered.

For one sentence and the predicted class t (against the runner-up class r):

- **n-grams**: for each window size k, max-over-time pooling keeps one position per feature map j (the
  argmax of ``relu(conv_k(x))_j``); the n-gram is the k tokens starting there. Its contribution to the
  decision is ``feature_j × (W[t, j] − W[r, j])``: at inference (no dropout) the contributions of all maps
  plus ``b[t] − b[r]`` add up exactly to the logit margin ``z_t − z_r``. The top maps per window are those
  with the largest contribution.
- **per-word scores**: gradient × input at the embedding output (summed over the embedding channels) of the
  margin ``z_t − z_r``, and occlusion: how much the margin drops when the word is replaced by ``<pad>``
  (a zero vector), all occluded copies run as one batch.

Positions count in the padded sequence; tokens read ``<pad>`` where a window reaches past the sentence
(Kim pads ``max(windows) − 1`` ids on the left).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

import torch

from cnnlab.errors import ConfigError, ShapeError

__all__ = ["NgramHit", "TextExplanation", "explain_ids"]


@dataclass
class NgramHit:
    """One feature map's pick: window ``k``, map index, start position, its tokens, value and contribution."""

    window: int
    map: int
    position: int
    tokens: List[str]
    activation: float
    weight_diff: float
    contribution: float


@dataclass
class TextExplanation:
    """Everything :func:`explain_ids` found for one sentence (plain data; ``to_dict`` for JSON)."""

    tokens: List[str]
    target: int
    other: int
    probabilities: List[float]
    margin: float
    bias_diff: float
    ngrams: Dict[int, List[NgramHit]] = field(default_factory=dict)
    grad_x_input: List[float] = field(default_factory=list)
    occlusion: List[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ngrams"] = {str(k): [asdict(h) for h in v] for k, v in self.ngrams.items()}
        return out


@torch.no_grad()
def _forward_parts(model, ids: torch.Tensor):
    x = model.embed(ids)  # (1, C·D, L)
    acts = {k: a[0] for k, a in model.window_maps(x).items()}  # k -> (maps, T)
    return x, acts


def explain_ids(model, ids: Sequence[int], itos: Sequence[str], *, target: Optional[int] = None, top: int = 3
                ) -> TextExplanation:
    """Explain a :class:`~cnnlab.apps.text.model.TextCNN` decision on one padded id sequence.

    Args:
        model: the TextCNN (put in eval mode here; its mode is restored).
        ids: the padded token ids of one sentence (L,).
        itos: id -> token (the vocabulary's ``itos``).
        target: class to explain (default: the predicted one).
        top: feature maps listed per window.

    Returns:
        A :class:`TextExplanation`.

    Raises:
        ShapeError: ``ids`` is not 1-D or shorter than the widest window. ConfigError: bad ``target``/``top``.
    """
    ids_t = torch.as_tensor(list(ids), dtype=torch.long)
    if ids_t.dim() != 1 or len(ids_t) < max(model.windows):
        raise ShapeError(f"`ids` must be one padded sentence of ≥ {max(model.windows)} ids; got shape "
                         f"{tuple(ids_t.shape)}")
    if int(top) < 1:
        raise ConfigError(f"`top` must be ≥ 1; got {top}")
    device = model.classifier.weight.device
    ids_t = ids_t.to(device)[None]  # (1, L)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(ids_t)[0]
        K = logits.numel()
        probs = torch.softmax(logits, 0)
        order = torch.argsort(logits, descending=True).tolist()
        t = order[0] if target is None else int(target)
        if not 0 <= t < K:
            raise ConfigError(f"`target` must be a class index in 0..{K - 1}; got {target}")
        r = next(c for c in order if c != t)
        W, b = model.classifier.weight.detach(), model.classifier.bias.detach()
        wdiff = W[t] - W[r]  # (maps·windows,)
        x, acts = _forward_parts(model, ids_t)
        tokens_all = [itos[i] for i in ids_t[0].tolist()]
        ngrams: Dict[int, List[NgramHit]] = {}
        offset = 0
        for k in model.windows:
            a = acts[k]  # (maps, T)
            value, pos = a.max(dim=1)  # max over time: (maps,), (maps,)
            contrib = value * wdiff[offset:offset + a.shape[0]]
            best = torch.argsort(contrib, descending=True)[: int(top)].tolist()
            ngrams[k] = [NgramHit(k, j, int(pos[j]), tokens_all[int(pos[j]):int(pos[j]) + k], float(value[j]),
                                  float(wdiff[offset + j]), float(contrib[j])) for j in best]
            offset += a.shape[0]
        margin = float(logits[t] - logits[r])
        gxi = _grad_x_input(model, x, t, r)
        occ = _occlusion(model, ids_t, t, r, margin)
    finally:
        model.train(was_training)
    return TextExplanation(tokens_all, t, r, probs.tolist(), margin, float(b[t] - b[r]), ngrams, gxi, occ)


def _grad_x_input(model, x: torch.Tensor, t: int, r: int) -> List[float]:
    x = x.detach().clone().requires_grad_(True)  # (1, C·D, L)
    with torch.enable_grad():
        out = model.head(x)[0]
        (out[t] - out[r]).backward()
    return (x.grad * x).sum(dim=1)[0].tolist()  # (1, C·D, L) -> (L,)


@torch.no_grad()
def _occlusion(model, ids: torch.Tensor, t: int, r: int, margin: float) -> List[float]:
    L = ids.shape[1]
    batch = ids.repeat(L, 1)  # (L, L): row i has word i replaced by <pad>
    batch[torch.arange(L), torch.arange(L)] = 0
    out = model(batch)
    drop = margin - (out[:, t] - out[:, r])
    drop[ids[0] == 0] = 0.0  # a pad replaced by a pad changes nothing
    return drop.tolist()
