"""Colour preservation for style transfer by luminance-only transfer (Gatys, Bethge, Hertzmann &
Shechtman, "Preserving Color in Neural Artistic Style Transfer", 2016): keep the stylised image's
luminance (Y of YIQ) and put back the content image's chrominance (I, Q).
"""

from __future__ import annotations

import torch

from cnnlab.art.images import resize

# NTSC RGB -> YIQ; rows give Y, I, Q.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.595716, -0.274453, -0.321263],
                            [0.211456, -0.522591, 0.311135]])


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 3, H, W) YIQ."""
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) YIQ -> (N, 3, H, W) RGB (exact inverse of :func:`rgb_to_yiq`)."""
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_YIQ).to(x), x)


def preserve_color(stylised: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Luminance of ``stylised`` with the chrominance of ``content`` (resized to match), clipped to [0, 1]."""
    content = resize(content, tuple(stylised.shape[-2:]))
    y = rgb_to_yiq(stylised)[:, :1]
    iq = rgb_to_yiq(content)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], dim=1)).clamp(0, 1)
