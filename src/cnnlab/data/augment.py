"""Batched tensor augmentation: random shifts and small rotations ("expand the training data").

One affine warp per batch (``affine_grid`` + ``grid_sample``) instead of a Python loop over images; the
random parameters come from an explicit generator so a resumed run draws the same augmentations.

The protocol :func:`cnnlab.fit` uses (``augment=``) is two methods, so an application brings its own
augmenter (e.g. :class:`cnnlab.apps.speech.augment.SpeechAugment` for waveforms):

- ``sample(n, generator) -> Tensor`` of shape (n, ...): every random number of ``n`` examples, drawn from
  the run's augmentation generator (saved in checkpoints, so a resumed run draws the same ones);
- ``apply(x, rand) -> Tensor``: the augmented batch, a deterministic function of ``x`` and those numbers
  (it may change the shape, e.g. waveforms in, features out, as long as the model takes the result).

An augmenter with ``images_only = True`` (like :class:`RandomAffine`) is refused for non-image datasets. A
dataclass augmenter is recorded in ``config.json`` as its fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class RandomAffine:
    """Random translation (up to ``shift`` of the image side) and rotation (up to ``degrees``).

    Works on raw [0, 1] images; areas moved in from outside are 0 (the MNIST background).

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    shift: float = 0.1
    degrees: float = 10.0
    images_only = True  # a class attribute, not a field: (N, C, H, W) inputs only

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """The random numbers of ``n`` warps, (N, 3) in [0, 1) (drawn on the CPU: reproducible anywhere)."""
        return torch.rand(n, 3, generator=generator)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.apply(x, self.sample(x.shape[0], generator))

    def apply(self, x: torch.Tensor, rand: torch.Tensor) -> torch.Tensor:
        """Warp ``x`` with the parameters drawn by :meth:`sample`."""
        rand = rand.to(x.device)
        angle = (rand[:, 0] * 2 - 1) * math.radians(self.degrees)
        # affine_grid works in normalised [-1, 1] coordinates: a shift of s·side pixels is 2·s.
        tx, ty = (rand[:, 1] * 2 - 1) * 2 * self.shift, (rand[:, 2] * 2 - 1) * 2 * self.shift
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (N, 2, 3)
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def is_augmenter(obj) -> bool:
    """Whether ``obj`` has the ``sample``/``apply`` methods of the augmentation protocol (module docstring)."""
    return callable(getattr(obj, "sample", None)) and callable(getattr(obj, "apply", None))


def make_augment(spec):
    """``True`` -> default shifts/rotations, ``False``/``None`` -> none, an augmenter (:class:`RandomAffine` or
    any object with ``sample``/``apply``) as is."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return RandomAffine()
    if is_augmenter(spec):
        return spec
    if isinstance(spec, dict):  # the fields a stored config holds; the object itself is not rebuilt
        from cnnlab.errors import ConfigError

        raise ConfigError("this run was trained with an augmenter object; pass the same one again as `augment=` "
                          f"(stored fields: {spec})")
    raise TypeError(f"`augment` must be a bool or an augmenter with sample/apply (e.g. RandomAffine); "
                    f"got {type(spec).__name__}")


_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # (rows down, columns right): as is, down, up, right, left


@dataclass(frozen=True)
class PixelShifts:
    """Each image as is or moved by ``pixels`` up, down, left or right, the five chosen with equal odds.

    This is Nielsen's "expanded training data" (``expand_mnist.py``: every image plus its four one-pixel
    shifts, the row or column moved in set to 0) drawn afresh every epoch instead of stored five times:
    an epoch of N draws sees the same distribution as his 5·N expanded set. :func:`expand_shifts` builds
    the stored expansion itself.

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    pixels: int = 1
    images_only = True

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """One choice per image: 0 as is, 1 down, 2 up, 3 right, 4 left, (N,) int64."""
        return torch.randint(0, 5, (n,), generator=generator)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.apply(x, self.sample(x.shape[0], generator))

    def apply(self, x: torch.Tensor, rand: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"PixelShifts expects (N, C, H, W) images; got shape {tuple(x.shape)}")
        rand = rand.to(x.device)
        out = x.clone()
        for choice, (dy, dx) in enumerate(_SHIFTS[1:], start=1):
            idx = (rand == choice).nonzero(as_tuple=True)[0]
            if len(idx):
                out[idx] = shift_images(x[idx], dy * self.pixels, dx * self.pixels)
        return out


def shift_images(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``x`` (…, H, W) moved ``dy`` rows down and ``dx`` columns right; what moves in is 0 (``np.roll`` with
    the wrapped rows/columns zeroed, as Nielsen's ``expand_mnist.py``)."""
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def expand_shifts(x: torch.Tensor, y: torch.Tensor, pixels: int = 1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Nielsen's expanded training set: every image of ``x`` (N, C, H, W) and its four ``pixels``-shifts,
    5·N images in a seeded random order, with their labels."""
    xs = torch.cat([shift_images(x, dy * pixels, dx * pixels) for dy, dx in _SHIFTS])
    ys = y.repeat(len(_SHIFTS))
    order = torch.randperm(len(ys), generator=torch.Generator().manual_seed(seed))
    return xs[order], ys[order]
