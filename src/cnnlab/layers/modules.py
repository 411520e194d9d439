"""Small ``nn.Module``s torch lacks, emitted by the builder: :class:`Maxout`, :class:`ChannelsFirst`,
:class:`SameAvgPool2d`. They import nothing from cnnlab, so every builder module can use them.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Maxout", "ChannelsFirst", "SameAvgPool2d"]


class Maxout(nn.Module):
    """Maxout (Goodfellow et al. 2013): the max over ``pieces`` consecutive channels.

    Shape: (N, C, *) -> (N, C / pieces, *).
    """

    def __init__(self, pieces: int = 2):
        super().__init__()
        self.pieces = int(pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        # (N, C, *) -> (N, C/pieces, pieces, *) -> max over pieces
        return x.reshape(n, c // self.pieces, self.pieces, *x.shape[2:]).amax(dim=2)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


class ChannelsFirst(nn.Module):
    """Swap the last two axes: (N, L, D) -> (N, D, L), so an ``Embedding`` can feed a ``Conv1D``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class SameAvgPool2d(nn.Module):
    """TF "same" average pooling with asymmetric padding; padded cells are left out of each mean.

    ``padding`` is ``(left, right, top, bottom)`` as for ``nn.ZeroPad2d``.
    """

    def __init__(self, kernel_size: Tuple[int, int], stride: Tuple[int, int], padding: Tuple[int, int, int, int]):
        super().__init__()
        self.kernel_size, self.stride, self.padding = tuple(kernel_size), tuple(stride), tuple(padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = F.avg_pool2d(F.pad(x, self.padding), self.kernel_size, self.stride)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        count = F.avg_pool2d(F.pad(ones, self.padding), self.kernel_size, self.stride)
        return total / count

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
