"""Layer objects and a small Sequential model on top of the functional NumPy ops.

Each layer keeps its parameters in ``params`` under torch's names (``weight``, ``bias``,
``running_mean`` ...), so a torch ``state_dict`` maps onto it one to one, and after ``backward`` its
gradients in ``grads`` under the same names. ``forward(x, training)`` stores the cache the matching
``*_backward`` needs; ``backward(dout)`` returns ∂L/∂x and fills ``grads``.
"""

from __future__ import annotations

import math
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np

from cnnlab.errors import ShapeError
from cnnlab.scratch import conv as C
from cnnlab.scratch import layers as L
from cnnlab.scratch import pool as P
from cnnlab.shapes import pair


_NOT_RUN = object()


class Layer:
    """Base class; subclasses implement ``_forward(x, training) -> (out, cache)`` and
    ``_backward(dout, cache) -> dx`` (filling ``grads``)."""

    def __init__(self):
        self.params: Dict[str, np.ndarray] = {}
        self.grads: Dict[str, np.ndarray] = {}
        self.buffers: Dict[str, np.ndarray] = {}     # state that is not trained (batch-norm stats)
        self._cache = _NOT_RUN

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out, self._cache = self._forward(x, training)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        """Fill ``grads`` and return ∂L/∂x (None when ``need_dx`` is False and the layer can skip it)."""
        if self._cache is _NOT_RUN:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        if not need_dx and isinstance(self, Conv2d):
            return self._backward(dout, self._cache, need_dx=False)
        return self._backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


def _he_uniform(rng, shape, fan_in):
    """He/Kaiming uniform U(−√(6/fan_in), √(6/fan_in)): keeps the activation variance through ReLUs."""
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape)


class Conv2d(Layer):
    """2-D convolution layer. Shape: (N, C, H, W) -> (N, F, OH, OW)"""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, rng=None):
        super().__init__()
        KH, KW = pair(kernel_size, "kernel_size")
        if in_channels % groups or out_channels % groups:
            raise ShapeError(f"Conv2d: channels {in_channels}→{out_channels} must be divisible by "
                             f"groups={groups}")
        rng = np.random.default_rng(rng)
        fan_in = in_channels // groups * KH * KW
        self.params["weight"] = _he_uniform(rng, (out_channels, in_channels // groups, KH, KW), fan_in)
        if bias:
            self.params["bias"] = np.zeros(out_channels)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (KH, KW)

    _conv, _conv_backward = staticmethod(C.conv2d), staticmethod(C.conv2d_backward)

    def _forward(self, x, training):
        return self._conv(x, self.params["weight"], self.params.get("bias"), self.stride, self.padding,
                          self.dilation, self.groups)

    def _backward(self, dout, cache, need_dx=True):
        dx, self.grads["weight"], db = self._conv_backward(dout, cache, need_dx)
        if db is not None:
            self.grads["bias"] = db
        return dx

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class Conv1d(Conv2d):
    """1-D convolution layer. Shape: (N, C, L) -> (N, F, OL)"""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, rng=None):
        (k,) = pair(kernel_size, "kernel_size", 1)
        super().__init__(in_channels, out_channels, (1, k), 1, 0, 1, groups, bias, rng)
        self.params["weight"] = self.params["weight"][:, :, 0, :]        # (F, C/groups, K)
        self.stride, self.padding, self.dilation, self.kernel_size = stride, padding, dilation, (k,)

    _conv, _conv_backward = staticmethod(C.conv1d), staticmethod(C.conv1d_backward)


class Linear(Layer):
    """Fully connected layer. Shape: (N, I) -> (N, O)"""

    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.params["weight"] = _he_uniform(rng, (out_features, in_features), in_features)
        if bias:
            self.params["bias"] = np.zeros(out_features)
        self.in_features, self.out_features = in_features, out_features

    def _forward(self, x, training):
        return L.linear(x, self.params["weight"], self.params.get("bias"))

    def _backward(self, dout, cache):
        dx, self.grads["weight"], db = L.linear_backward(dout, cache)
        if db is not None:
            self.grads["bias"] = db
        return dx

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


class BatchNorm(Layer):
    """Batch normalisation over channel axis 1 (``nn.BatchNorm1d``/``2d``). Shape: (N, C, ...) -> same"""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        if affine:
            self.params["weight"] = np.ones(num_features)
            self.params["bias"] = np.zeros(num_features)
        self.buffers["running_mean"] = np.zeros(num_features)
        self.buffers["running_var"] = np.ones(num_features)
        self.eps, self.momentum, self.num_features = eps, momentum, num_features

    def _forward(self, x, training):
        return L.batch_norm(x, self.buffers["running_mean"], self.buffers["running_var"],
                            self.params.get("weight"), self.params.get("bias"), training,
                            self.momentum, self.eps)

    def _backward(self, dout, cache):
        dx, dw, db = L.batch_norm_backward(dout, cache)
        if dw is not None:
            self.grads["weight"], self.grads["bias"] = dw, db
        return dx

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class _Stateless(Layer):
    """A layer whose op is ``fwd(x, *args) -> (out, cache)`` / ``bwd(dout, cache)``."""

    fwd = bwd = None

    def __init__(self, *args):
        super().__init__()
        self.args = args

    def _forward(self, x, training):
        return type(self).fwd(x, *self.args)

    def _backward(self, dout, cache):
        return type(self).bwd(dout, cache)

    def extra_repr(self):
        return ", ".join(map(repr, self.args))


def _identity(x, *args):
    return x, None


class Identity(_Stateless):
    """Pass-through (``nn.Identity``). Shape: any -> same"""
    fwd, bwd = staticmethod(_identity), staticmethod(lambda dout, cache: dout)


class ReLU(_Stateless):
    """max(x, 0). Shape: any -> same"""
    fwd, bwd = staticmethod(L.relu), staticmethod(L.relu_backward)


class Sigmoid(_Stateless):
    """σ(x). Shape: any -> same"""
    fwd, bwd = staticmethod(L.sigmoid), staticmethod(L.sigmoid_backward)


class Tanh(_Stateless):
    """tanh(x). Shape: any -> same"""
    fwd, bwd = staticmethod(L.tanh), staticmethod(L.tanh_backward)


class Softmax(_Stateless):
    """Softmax along ``dim``. Shape: any -> same"""
    fwd, bwd = staticmethod(L.softmax), staticmethod(L.softmax_backward)

    def __init__(self, dim=1):
        super().__init__(dim)


class Flatten(_Stateless):
    """Flatten from ``start_dim``. Shape: (N, C, H, W) -> (N, C·H·W)"""
    fwd, bwd = staticmethod(L.flatten), staticmethod(L.flatten_backward)

    def __init__(self, start_dim=1):
        super().__init__(start_dim)


class ZeroPad2d(_Stateless):
    """Zero padding (left, right, top, bottom). Shape: (N, C, H, W) -> (N, C, H + t + b, W + l + r)"""
    fwd, bwd = staticmethod(L.pad2d), staticmethod(L.pad2d_backward)


class MaxPool2d(_Stateless):
    """Max pooling. Shape: (N, C, H, W) -> (N, C, OH, OW)"""
    fwd, bwd = staticmethod(P.max_pool2d), staticmethod(P.max_pool2d_backward)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)


class AvgPool2d(_Stateless):
    """Average pooling. Shape: (N, C, H, W) -> (N, C, OH, OW)"""
    fwd, bwd = staticmethod(P.avg_pool2d), staticmethod(P.avg_pool2d_backward)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class LPPool2d(_Stateless):
    """Power-average pooling (L2 pooling for ``norm_type=2``). Shape: (N, C, H, W) -> (N, C, OH, OW)"""
    fwd, bwd = staticmethod(P.lp_pool2d), staticmethod(P.lp_pool2d_backward)

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__(norm_type, kernel_size, stride, ceil_mode)


class AdaptiveAvgPool2d(Layer):
    """Average pooling to a fixed output size (``nn.AdaptiveAvgPool2d``): output cell (i, j) averages
    rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉−1 and the same for columns. Shape: (N, C, H, W) -> (N, C, OH, OW)"""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    @staticmethod
    def _bounds(n, out):
        return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]

    def _forward(self, x, training):
        H, W = x.shape[2:]
        OH, OW = (H if o is None else o for o in pair(self.output_size, "output_size"))
        rows, cols = self._bounds(H, OH), self._bounds(W, OW)
        out = np.empty(x.shape[:2] + (OH, OW), dtype=x.dtype)
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
        return out, (x.shape, rows, cols)

    def _backward(self, dout, cache):
        shape, rows, cols = cache
        dx = np.zeros(shape, dtype=dout.dtype)
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                dx[:, :, r0:r1, c0:c1] += dout[:, :, i:i + 1, j:j + 1] / ((r1 - r0) * (c1 - c0))
        return dx

    def extra_repr(self):
        return repr(self.output_size)


class Dropout(Layer):
    """Inverted dropout, identity in eval mode. Shape: any -> same"""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p, self.rng = p, np.random.default_rng(rng)

    def _forward(self, x, training):
        return L.dropout(x, self.p, training, self.rng)

    def _backward(self, dout, cache):
        return L.dropout_backward(dout, cache)

    def extra_repr(self):
        return f"p={self.p}"


class Sequential:
    """A chain of layers: ``forward`` runs them in order, ``backward`` in reverse.

    Parameter names are ``"<index>.<name>"`` (e.g. ``"0.weight"``), the keys of a torch
    ``nn.Sequential`` state dict.

    Example:
        >>> net = Sequential(Conv2d(1, 2, 3, rng=0), ReLU(), Flatten(), Linear(2 * 2 * 2, 3, rng=0))
        >>> net.forward(np.zeros((5, 1, 4, 4))).shape
        (5, 3)
    """

    def __init__(self, *layers: Layer):
        self.layers: List[Layer] = list(layers)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Shape: (N, ...) input -> (N, ...) output of the last layer.

        Raises:
            ShapeError: a layer does not fit its input; the message names the layer.
        """
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x, training)
            except ShapeError as exc:
                raise ShapeError(f"{exc} at layer {i} ({type(layer).__name__})") from None
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray:
        """Back-propagate ∂L/∂out through every layer; fills each layer's ``grads``; returns ∂L/∂x
        (``input_grad=False`` lets a first conv layer skip it: training does not need it)."""
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, need_dx=input_grad or i > 0)
        return dout

    def named_parameters(self) -> Iterator[Tuple[str, Layer, str]]:
        """Yield (full name, layer, key) for every trainable parameter."""
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                yield f"{i}.{key}", layer, key

    def state_dict(self) -> Dict[str, np.ndarray]:
        """Parameters and buffers by name (torch's keys for the same nn.Sequential)."""
        state = {}
        for i, layer in enumerate(self.layers):
            for key, value in {**layer.params, **layer.buffers}.items():
                state[f"{i}.{key}"] = value
        return state

    def num_params(self) -> int:
        return sum(layer.params[key].size for _, layer, key in self.named_parameters())

    def astype(self, dtype) -> "Sequential":
        """Cast every parameter and buffer in place (float32 to train fast, float64 to verify)."""
        for layer in self.layers:
            for store in (layer.params, layer.buffers):
                for key in store:
                    store[key] = store[key].astype(dtype)
        return self

    def summary(self, input_shape: Sequence[int]) -> List[Tuple[str, tuple, int]]:
        """(layer, output shape without the batch axis, parameter count) per layer, by a dry run."""
        x = np.zeros((1,) + tuple(input_shape))
        rows = []
        for layer in self.layers:
            x = layer.forward(x, training=False)
            rows.append((repr(layer), x.shape[1:], sum(v.size for v in layer.params.values())))
        return rows

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
