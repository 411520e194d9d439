"""Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch over the image and watch the output.

Window positions follow Captum's ``Occlusion``: along each spatial axis there are
``ceil((H - h) / sh) + 1`` positions starting at ``i * sh``; a window reaching past the border is cut.

- ``attribute``: each input element gets the mean, over every window covering it, of the drop of the
  target score ``s(f(x)) − s(f(x_occluded))`` (Captum's definition; the model's raw outputs): a class
  output ``f(x)_c`` or any callable score of the output (one output pixel, an embedding similarity).
- ``probability_map``: the lecture's maps (keras "occlusion" recipe): for each window position, the
  softmax probability of the target class and the predicted class of the occluded image.

All occluded copies are evaluated in batches of ``batch_size``; the result does not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain._core import check_input, explaining, is_score, resolve_target, scores


def _pair(v, name: str) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v, v)
    try:
        a, b = (int(t) for t in v)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be an int or a pair (h, w) of ints; got {v!r}") from None
    if a < 1 or b < 1:
        raise ConfigError(f"`{name}` must be ≥ 1 in both directions; got {(a, b)}")
    return a, b


def axis_masks(size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Which rows (OH, H) and columns (OW, W) each window position covers; a window's mask is their outer product."""
    (H, W), (h, w), (sh, sw) = size, window, stride
    if h > H or w > W:
        raise ShapeError(f"`window` must fit in the input ({H}×{W}); got {h}×{w}")
    oh, ow = math.ceil((H - h) / sh) + 1, math.ceil((W - w) / sw) + 1
    r0 = (torch.arange(oh) * sh)[:, None]
    c0 = (torch.arange(ow) * sw)[:, None]
    rows, cols = torch.arange(H)[None, :], torch.arange(W)[None, :]
    return (rows >= r0) & (rows < r0 + h), (cols >= c0) & (cols < c0 + w)  # (OH, H), (OW, W)


def window_masks(size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    """Boolean masks of every window position. Shape (OH, OW, H, W) (memory O(positions·pixels): small inputs)."""
    r_in, c_in = axis_masks(size, window, stride)
    return r_in[:, None, :, None] & c_in[None, :, None, :]


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(2 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    C = x.shape[1]
    xp = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    xp = F.conv2d(xp, k.view(1, 1, 1, -1).expand(C, 1, 1, -1), groups=C)
    return F.conv2d(xp, k.view(1, 1, -1, 1).expand(C, 1, -1, 1), groups=C)


def resolve_baseline(x: torch.Tensor, baseline, window: tuple[int, int]) -> torch.Tensor:
    """The replacement values, shape (N, C, H, W): a number, a tensor, "zero", "mean" or "blur"."""
    if isinstance(baseline, str):
        if baseline == "zero":
            return torch.zeros_like(x)
        if baseline == "mean":  # per image and channel
            return x.mean(dim=(2, 3), keepdim=True).expand_as(x)
        if baseline == "blur":
            return _gaussian_blur(x, sigma=max(window) / 2)
        raise ConfigError(f"`baseline` must be a number, a tensor, 'zero', 'mean' or 'blur'; got {baseline!r}")
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(x, float(baseline))
    if isinstance(baseline, torch.Tensor):
        try:
            return baseline.to(x).expand_as(x)
        except RuntimeError:
            raise ShapeError(f"`baseline` must broadcast to the input {tuple(x.shape)}; got {tuple(baseline.shape)}") from None
    raise TypeError(f"`baseline` must be a number, a tensor or a string; got {type(baseline).__name__}")


@dataclass
class OcclusionMaps:
    """The lecture's occlusion maps, one value per window position.

    probability: (N, OH, OW) softmax probability of ``target`` with the window occluded.
    predicted: (N, OH, OW) predicted class with the window occluded.
    target: (N,) the class followed; clean_probability: (N,) its probability without occlusion.
    """

    probability: torch.Tensor
    predicted: torch.Tensor
    target: torch.Tensor
    clean_probability: torch.Tensor
    window: tuple[int, int]
    stride: tuple[int, int]

    def upsampled(self, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pixel maps (N, H, W): each pixel takes the value of the last window covering it (the recipe's painting)."""
        N, oh, ow = self.probability.shape
        r_in, c_in = axis_masks(size, self.window, self.stride)
        prob = torch.full((N, *size), float("nan"))
        pred = torch.full((N, *size), -1, dtype=torch.long)
        for p in range(oh * ow):
            m = r_in[p // ow][:, None] & c_in[p % ow][None, :]  # (H, W)
            prob[:, m] = self.probability.reshape(N, -1)[:, p : p + 1].float()
            pred[:, m] = self.predicted.reshape(N, -1)[:, p : p + 1]
        return prob, pred


class Occlusion:
    """Occlusion attribution and the lecture's probability / predicted-class maps.

    Example:
        >>> occ = Occlusion(model)                                                  # doctest: +SKIP
        >>> attr = occ.attribute(x, window=(4, 4), stride=(1, 1), baseline=0.0)    # doctest: +SKIP
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def _clean(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, ndim=4)
        with explaining(self.model), torch.no_grad():
            return self.model(x.detach())

    def _occluded(self, x, window, stride, baseline, batch_size, keep):
        """Run the model on every occluded copy of ``x``, in batches of ``batch_size``.

        ``keep(out, n_idx)`` turns each batch of outputs of the copies of images ``n_idx`` (B,) into what is
        kept (B, ...). Returns the kept values (N, P, ...), the axis masks (OH, H), (OW, W), the window and
        the stride.
        """
        window = _pair(window, "window")
        stride = window if stride is None else _pair(stride, "stride")
        if int(batch_size) < 1:
            raise ConfigError(f"`batch_size` must be ≥ 1; got {batch_size}")
        N, C, H, W = x.shape
        r_in, c_in = (m.to(x.device) for m in axis_masks((H, W), window, stride))
        OW = c_in.shape[0]
        P = r_in.shape[0] * OW
        x = x.detach()
        base = resolve_baseline(x, baseline, window)
        kept = []
        with explaining(self.model), torch.no_grad():
            for start in range(0, N * P, int(batch_size)):
                k = torch.arange(start, min(start + int(batch_size), N * P), device=x.device)
                n_idx, p_idx = k // P, k % P
                m = (r_in[p_idx // OW][:, :, None] & c_in[p_idx % OW][:, None, :])[:, None]  # (B, 1, H, W)
                batch = torch.where(m, base[n_idx], x[n_idx])  # (B, C, H, W)
                kept.append(keep(self.model(batch), n_idx))
        kept = torch.cat(kept)
        return kept.reshape(N, P, *kept.shape[1:]), (r_in, c_in), window, stride

    def attribute(self, x: torch.Tensor, target=None, window=(4, 4), stride=None, baseline=0.0,
                  batch_size: int = 64) -> torch.Tensor:
        """Mean drop of the target score over the windows covering each element. Shaped like ``x``.

        Args:
            target: class index / indices, ``None`` (the predicted class of the clean input) or a callable
                row-wise ``score(output) -> (N,)`` (called on the clean batch and on batches of occluded
                copies; see :func:`cnnlab.explain._core.scores`).
            window: (h, w) of the occluding patch (all channels are occluded).
            stride: (sh, sw); ``None`` = the window size (non-overlapping).
            baseline: replacement value in model-input units: a number, a tensor broadcasting to the input,
                "zero", "mean" (per image and channel) or "blur" (Gaussian, σ = window/2).
            batch_size: occluded copies per forward pass (does not change the result).
        """
        clean = self._clean(x)
        if is_score(target):
            def score_copies(out, n_idx):
                return scores(out, target)
        else:
            target = resolve_target(clean, target)  # (N,): the clean input's class, followed in every copy

            def score_copies(out, n_idx):
                return scores(out, target[n_idx])
        occluded, masks, _, _ = self._occluded(x, window, stride, baseline, batch_size, score_copies)
        drop = scores(clean, target)[:, None] - occluded  # (N, P)
        r_in, c_in = (m.to(drop.dtype) for m in masks)  # (OH, H), (OW, W)
        # Σ_p drop_p · mask_p with mask_(i,j) = r_in[i] ⊗ c_in[j]:  r_inᵀ · D · c_in per image
        total = torch.einsum("nij,ih,jw->nhw", drop.reshape(-1, r_in.shape[0], c_in.shape[0]), r_in, c_in)
        counts = r_in.sum(0)[:, None] * c_in.sum(0)[None, :]
        attr = torch.where(counts > 0, total / counts.clamp(min=1), torch.zeros_like(total))
        return attr[:, None].expand(-1, x.shape[1], -1, -1).contiguous()

    def probability_map(self, x: torch.Tensor, target=None, window=(4, 4), stride=None, baseline=0.5,
                        batch_size: int = 64) -> OcclusionMaps:
        """Target-class probability and predicted class for each window position (see :class:`OcclusionMaps`).

        ``baseline`` defaults to 0.5, the lecture's grey square, in model-input units: pass
        ``(0.5 - mean) / std`` for a normalised model.
        """
        if is_score(target):
            raise TypeError("`target` of probability_map must be a class index (the maps are class probabilities); "
                            "got a callable")
        clean = self._clean(x)
        N = x.shape[0]
        clean = clean.reshape(N, -1)
        t = resolve_target(clean, target)
        occluded, masks, window, stride = self._occluded(x, window, stride, baseline, batch_size,
                                                         lambda out, n_idx: out.reshape(len(n_idx), -1))
        oh, ow = masks[0].shape[0], masks[1].shape[0]
        probs = occluded.softmax(dim=2)
        idx = t.view(-1, 1, 1).expand(-1, probs.shape[1], 1)
        return OcclusionMaps(
            probability=probs.gather(2, idx).squeeze(2).reshape(-1, oh, ow),
            predicted=occluded.argmax(dim=2).reshape(-1, oh, ow),
            target=t,
            clean_probability=clean.softmax(dim=1).gather(1, t.view(-1, 1)).squeeze(1),
            window=window,
            stride=stride,
        )
