"""Policy CNNs for Go, registered in the zoo as ``go_policy`` (no pooling) and ``go_policy_pool``.

``go_policy`` follows the supervised policy networks of Maddison et al. (2015) and AlphaGo (Silver et al.
2016) at small scale: a 5×5 convolution, then same-size 3×3 convolutions (zero padding keeps every layer at
the board's size, ReLU after each; batch normalisation as an option), no pooling; a 1×1 convolution to one
plane gives one logit per point, and a linear unit on the globally averaged last features gives the pass
logit. Illegal moves (the ``legal`` input plane is 0) get a logit of −10⁴, so the softmax over the
size² + 1 moves puts no mass on them and cross-entropy trains only among legal moves.

``go_policy_pool`` is the same network with 2×2 max-pooling (stride 2, ceil mode: 9 → 5) inserted after
the convolutions named by ``pool_after``; to still give one logit per point it upsamples the last features
back to the board (bilinear, corners aligned, so 5 → 9 puts the coarse cells on every other point) before
the same 1×1 convolution. That is the lecture's claim made measurable: after sub-sampling, neighbouring
intersections share one cell, and only interpolation can tell them apart.

Training-time 8-fold symmetry augmentation lives in the model (``augment=True``): in training mode each
example goes through a random board symmetry and the logits are mapped back, like dropout (identity in eval
mode), so ``fit`` needs no Go-specific data path.

Inputs are the uint8 planes of :mod:`cnnlab.apps.go.features`; the model converts them to float.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from cnnlab.apps.go import symmetry
from cnnlab.apps.go.features import LEGAL_PLANE, NUM_PLANES
from cnnlab.errors import ConfigError
from cnnlab.zoo.registry import register

MASKED = -1.0e4

__all__ = ["GoPolicy", "SymmetryAugment", "MASKED"]


class SymmetryAugment(nn.Module):
    """In training mode: a random board symmetry per example on the input, and its inverse on the move logits."""

    def __init__(self, size: int):
        super().__init__()
        n = size * size
        fwd = torch.stack([torch.from_numpy(symmetry.gather_index(size, k)) for k in range(symmetry.COUNT)])
        back = torch.stack([torch.from_numpy(symmetry.move_index(size, k)) for k in range(symmetry.COUNT)])
        self.register_buffer("gather", fwd.long(), persistent=False)  # (8, n): source point of each target point
        self.register_buffer("moves", back.long(), persistent=False)  # (8, n + 1): where each move goes
        self.n = n

    def draw(self, batch: int, device) -> torch.Tensor:
        return torch.randint(0, symmetry.COUNT, (batch,), device=device)

    def planes(self, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        idx = self.gather[k][:, None, :].expand(N, C, self.n)  # (N, C, H*W)
        return x.reshape(N, C, H * W).gather(2, idx).reshape(N, C, H, W)

    def logits_back(self, logits: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        # the logit of original move p sits at the transformed move moves[k, p]
        return logits.gather(1, self.moves[k])


class GoPolicy(nn.Module):
    """Planes (N, C, S, S) uint8/float -> move logits (N, S² + 1), illegal moves at −10⁴, pass last.

    Attributes:
        features: the convolution stack (``nn.Sequential``; max-pool layers in the pooling variant).
        upsample: ``nn.Upsample`` back to S × S (pooling variant) or None.
        head: the 1×1 convolution to one plane.
        pass_head: linear unit on the averaged last features -> pass logit.
    """

    def __init__(self, size: int = 9, in_planes: int = NUM_PLANES, filters: int = 64, layers: int = 6,
                 first_kernel: int = 5, batchnorm: bool = True, pool_after: Tuple[int, ...] = (),
                 augment: bool = True, legal_plane: int = LEGAL_PLANE):
        super().__init__()
        if layers < 1 or filters < 1:
            raise ConfigError(f"`layers` and `filters` must be ≥ 1; got {layers} and {filters}")
        if first_kernel % 2 != 1:
            raise ConfigError(f"`first_kernel` must be odd (same-size padding); got {first_kernel}")
        bad = [p for p in pool_after if not 1 <= p <= layers]
        if bad:
            raise ConfigError(f"`pool_after` names conv layers 1..{layers}; got {bad}")
        self.size, self.legal_plane = size, legal_plane
        mods: list[nn.Module] = []
        side = size
        for i in range(layers):
            k = first_kernel if i == 0 else 3
            mods.append(nn.Conv2d(in_planes if i == 0 else filters, filters, k, padding=k // 2, bias=not batchnorm))
            if batchnorm:
                mods.append(nn.BatchNorm2d(filters))
            mods.append(nn.ReLU(inplace=True))
            if i + 1 in pool_after:
                mods.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                side = (side + 1) // 2
        self.features = nn.Sequential(*mods)
        self.upsample = nn.Upsample(size=(size, size), mode="bilinear", align_corners=True) if side != size else None
        self.head = nn.Conv2d(filters, 1, 1)
        self.pass_head = nn.Linear(filters, 1)
        self.augment = SymmetryAugment(size) if augment else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N = x.shape[0]
        x = x.float() if not x.is_floating_point() else x
        k = None
        if self.training and self.augment is not None:
            k = self.augment.draw(N, x.device)
            x = self.augment.planes(x, k)
        legal = x[:, self.legal_plane].reshape(N, -1) > 0.5  # (N, S*S)
        h = self.features(x)
        pass_logit = self.pass_head(h.mean(dim=(2, 3)))  # (N, 1)
        if self.upsample is not None:
            h = self.upsample(h)
        board = self.head(h).reshape(N, -1)  # (N, 1, S, S) -> (N, S*S)
        board = board.masked_fill(~legal, MASKED)
        logits = torch.cat([board, pass_logit], dim=1)
        if k is not None:
            logits = self.augment.logits_back(logits, k)
        return logits


@register("go_policy", (NUM_PLANES, 9, 9), "Go policy CNN (Maddison 2015 style): 5x5 then 3x3 same-size convs, "
          "no pooling, 1x1 conv to one plane + pass, illegal moves masked")
def go_policy(size: int = 9, filters: int = 64, layers: int = 6, batchnorm: bool = True, augment: bool = True,
              in_planes: int = NUM_PLANES) -> GoPolicy:
    return GoPolicy(size, in_planes, filters, layers, 5, batchnorm, (), augment)


@register("go_policy_pool", (NUM_PLANES, 9, 9), "go_policy with 2x2 max-pooling inserted (9->5) and bilinear "
          "upsampling before the 1x1 head: the lecture's no-pooling claim measured")
def go_policy_pool(size: int = 9, filters: int = 64, layers: int = 6, batchnorm: bool = True, augment: bool = True,
                   pool_after: Tuple[int, ...] = (2,), in_planes: int = NUM_PLANES) -> GoPolicy:
    return GoPolicy(size, in_planes, filters, layers, 5, batchnorm, tuple(pool_after), augment)
