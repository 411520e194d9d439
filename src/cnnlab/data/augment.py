"""Batched tensor augmentation: random shifts and small rotations ("expand the training data").

One affine warp per batch (``affine_grid`` + ``grid_sample``) instead of a Python loop over images; the
random parameters come from an explicit generator so a resumed run draws the same augmentations.
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


def make_augment(spec) -> RandomAffine | None:
    """``True`` -> default shifts/rotations, ``False``/``None`` -> none, a :class:`RandomAffine` as is."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return RandomAffine()
    if isinstance(spec, RandomAffine):
        return spec
    raise TypeError(f"`augment` must be a bool or a RandomAffine; got {type(spec).__name__}")
