"""CNN by hand: a NumPy-only reference engine written from the equations, checked against PyTorch.

Two tiers for every op (d2l / cs231n style): the vectorised functions exported here (im2col and
stride tricks, fast enough to train on full MNIST) and loop versions in :mod:`cnnlab.scratch.naive`
that read like the formulas of the lecture notes. Every op is ``op(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads`` with the semantics of ``torch.nn.functional``.

>>> import numpy as np
>>> from cnnlab import scratch
>>> out, cache = scratch.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), stride=2, padding=1)
>>> out.shape
(1, 2, 3, 3)

Nothing in this package imports torch, except :mod:`cnnlab.scratch.verify` (the bridge that copies a
torch model into the engine and compares them layer by layer), which is not imported here.
"""

from cnnlab.scratch.conv import conv1d, conv1d_backward, conv2d, conv2d_backward
from cnnlab.scratch.gradcheck import numerical_gradient, rel_error
from cnnlab.scratch.layers import (
    batch_norm, batch_norm_backward, dropout, dropout_backward, flatten, flatten_backward, linear,
    linear_backward, pad2d, pad2d_backward, relu, relu_backward, sigmoid, sigmoid_backward, softmax,
    softmax_backward, softmax_cross_entropy, softmax_cross_entropy_backward, tanh, tanh_backward,
)
from cnnlab.scratch.pool import (
    avg_pool2d, avg_pool2d_backward, lp_pool2d, lp_pool2d_backward, max_pool2d, max_pool2d_backward,
)
from cnnlab.scratch.textbook import convolve1d, convolve2d, correlate1d, correlate2d

__all__ = [
    "conv2d", "conv2d_backward", "conv1d", "conv1d_backward",
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "lp_pool2d", "lp_pool2d_backward", "l2_pool2d", "l2_pool2d_backward",
    "linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward",
    "tanh", "tanh_backward", "softmax", "softmax_backward",
    "softmax_cross_entropy", "softmax_cross_entropy_backward",
    "batch_norm", "batch_norm_backward", "dropout", "dropout_backward",
    "flatten", "flatten_backward", "pad2d", "pad2d_backward",
    "correlate2d", "convolve2d", "correlate1d", "convolve1d",
    "numerical_gradient", "rel_error",
]


def l2_pool2d(x, kernel_size, stride=None, ceil_mode=False):
    """L2 pooling √(Σ_window x²): :func:`lp_pool2d` with ``norm_type=2``.

    Shape:
        x: (N, C, H, W) -> (N, C, OH, OW)
    """
    return lp_pool2d(x, 2, kernel_size, stride, ceil_mode)


l2_pool2d_backward = lp_pool2d_backward
