"""The training benchmarks' images: the first N MNIST training images (random ones without the package)."""

from __future__ import annotations

import torch


def mnist_tensors(n: int):
    from cnnlab import data

    try:
        ds = data.load("mnist")
        return ds.x_train[:n].clone(), ds.y_train[:n].clone(), "MNIST"
    except ImportError:
        g = torch.Generator().manual_seed(0)
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g), "random MNIST-sized"
