"""The lecture's worked examples, computed by the NumPy engine (shown by ``cnnlab scratch ...``).

- :func:`edge_example`: the 3×3 vertical-edge kernel on the 6×6 image (top-left −5);
- :func:`learn_edge_kernel`: gradient descent recovers an edge kernel from (image, edge map) pairs;
- :func:`formula_checks`: output-size and parameter-count formulas (:mod:`cnnlab.shapes`) against
  what the engine actually produces;
- :func:`pooling_example`: back-propagation through 2×2 max and mean pooling (max id vs even spread);
- :func:`vanishing_gradients`: per-layer gradient norms of a deep sigmoid net vs the same net with
  ReLU: σ' ≤ 1/4 shrinks δ by at least 4× at every sigmoid.

Each returns plain data (dicts, lists, arrays); printing is the CLI's job.
"""

from __future__ import annotations

import numpy as np

from cnnlab import shapes
from cnnlab.scratch.conv import conv2d, conv2d_backward
from cnnlab.scratch.layers import softmax_cross_entropy, softmax_cross_entropy_backward
from cnnlab.scratch.model import Linear, ReLU, Sequential, Sigmoid
from cnnlab.scratch.textbook import correlate2d

EDGE_IMAGE = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=float)
VERTICAL_EDGE = np.array([[1, 0, -1]] * 3, dtype=float)


def edge_example() -> dict:
    """The 6×6 worked example: ``{"image", "kernel", "output", "top_left_terms"}``.

    Shape:
        image (6, 6) ⋆ kernel (3, 3) -> output (4, 4), output[0, 0] = −5
    """
    out = correlate2d(EDGE_IMAGE, VERTICAL_EDGE)
    terms = [(EDGE_IMAGE[a, b], VERTICAL_EDGE[a, b]) for b in range(3) for a in range(3)]
    return {"image": EDGE_IMAGE, "kernel": VERTICAL_EDGE, "output": out, "top_left_terms": terms}


def learn_edge_kernel(steps: int = 150, lr: float = 0.5, images: int = 8, size: int = 10,
                      seed: int = 0, target=VERTICAL_EDGE) -> dict:
    """Learn a 3×3 kernel by gradient descent so that conv(X, K) reproduces conv(X, K_true).

    Loss L = ½·mean((conv(X, K) − Y)²) over random images X; ∂L/∂K comes from ``conv2d_backward``.

    Returns:
        ``{"kernel", "target", "losses"}`` with the loss before every step and after the last.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((images, 1, size, size))
    w_true = np.asarray(target, dtype=float)[None, None]                   # (1, 1, KH, KW)
    y, _ = conv2d(x, w_true)
    w = rng.standard_normal(w_true.shape) * 0.1
    losses = []
    for step in range(steps + 1):
        y_hat, cache = conv2d(x, w)
        diff = y_hat - y                                                     # ∂L/∂ŷ·size
        losses.append(0.5 * float(np.mean(diff ** 2)))
        if step == steps:
            break
        _, dw, _ = conv2d_backward(diff / diff.size, cache)                 # ∂L/∂K = X ⋆ δ
        w -= lr * dw
    return {"kernel": w[0, 0], "target": w_true[0, 0], "losses": losses}


def formula_checks() -> list:
    """Rows ``(what, formula value, engine value)`` for output sizes and parameter counts."""
    from cnnlab.scratch.models import lecture_cnn, lenet5

    rows = []
    x = np.zeros((1, 3, 100, 100))
    measured = conv2d(x, np.zeros((4, 3, 3, 3)), padding=2)[0].shape[2]
    rows.append(("Conv 3×3, pad 2 on 100×100: ⌊(n+2p−f)/s⌋+1", shapes.conv_output_size(100, 3, 1, 2),
                 measured))
    measured = conv2d(np.zeros((1, 1, 28, 28)), np.zeros((1, 1, 5, 5)), stride=2)[0].shape[2]
    rows.append(("Conv 5×5, stride 2 on 28×28", shapes.conv_output_size(28, 5, 2), measured))
    measured = conv2d(np.zeros((1, 1, 28, 28)), np.zeros((1, 1, 3, 3)), dilation=2)[0].shape[2]
    rows.append(("Conv 3×3, dilation 2 on 28×28", shapes.conv_output_size(28, 3, 1, 0, 2), measured))
    rows.append(("params of Conv 3×3, 3→10: n·m·k²+m", shapes.conv_params(3, 10, 3), 3 * 10 * 9 + 10))
    rows.append(("params of FC 3×256×256 → 1000", shapes.dense_params(3 * 256 * 256, 1000),
                 3 * 256 * 256 * 1000 + 1000))
    net = lecture_cnn()
    conv_params = sum(p for name, _, p in net.summary((1, 28, 28)) if name.startswith("Conv2d"))
    rows.append(("lecture CNN conv params (Σ n·m·k²+m)",
                 sum(shapes.conv_params(a, b, 3) for a, b in ((1, 32), (32, 64), (64, 64))), conv_params))
    rows.append(("lecture CNN params", 55744 + shapes.dense_params(576, 64) + shapes.dense_params(64, 10),
                 net.num_params()))
    rows.append(("LeNet-5 params", shapes.conv_params(1, 6, 5) + shapes.conv_params(6, 16, 5)
                 + shapes.dense_params(400, 120) + shapes.dense_params(120, 84)
                 + shapes.dense_params(84, 10), lenet5().num_params()))
    # receptive field of three stacked 3×3 convs: one output pixel depends on a 7×7 input patch
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 4, 4] = 1.0
    h = x
    for _ in range(3):
        h = conv2d(h, np.ones((1, 1, 3, 3)), padding=1)[0]
    rows.append(("receptive field of 3 stacked 3×3 convs", shapes.receptive_field([(3, 1, 0, 1)] * 3).rf,
                 int(np.count_nonzero(h[0, 0, 4]))))
    return rows


POOL_IMAGE = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 6, 1, 2], [7, 8, 3, 4]], dtype=float)


def pooling_example() -> dict:
    """2×2 stride-2 max and mean pooling of a 4×4 map, forward and backward with δ = [[1, 2], [3, 4]].

    Max pooling sends each δ to the window's maximum ("max id"), mean pooling spreads δ/4 over the
    window; both keep the total gradient (Σ dx = Σ δ = 10).

    Returns:
        ``{"x", "delta", "max_out", "max_dx", "mean_out", "mean_dx"}`` as (H, W) arrays.
    """
    from cnnlab.scratch.pool import (avg_pool2d, avg_pool2d_backward, max_pool2d,
                                     max_pool2d_backward)

    x = POOL_IMAGE[None, None]                                             # (1, 1, 4, 4)
    delta = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    max_out, max_cache = max_pool2d(x, 2)
    mean_out, mean_cache = avg_pool2d(x, 2)
    return {"x": POOL_IMAGE, "delta": delta[0, 0],
            "max_out": max_out[0, 0], "max_dx": max_pool2d_backward(delta, max_cache)[0, 0],
            "mean_out": mean_out[0, 0], "mean_dx": avg_pool2d_backward(delta, mean_cache)[0, 0]}


def vanishing_gradients(depth: int = 8, width: int = 32, batch: int = 64, seed: int = 0) -> dict:
    """Gradient norms per layer of a deep MLP with sigmoid vs ReLU (same weights, same data).

    For each hidden activation the record holds ``‖∂L/∂W‖`` of the Linear before it, and the gain
    ``‖∂L/∂z‖ / ‖∂L/∂a‖`` through the activation a = f(z): σ'(z) ≤ 1/4 makes it ≤ 0.25 for sigmoid.

    Returns:
        ``{"sigmoid": {"weight_grad_norms", "activation_gains"}, "relu": {...}}``, layers listed from
        the input side (layer 1) to the output side.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    labels = rng.integers(0, 10, size=batch)
    result = {}
    for name, act in (("sigmoid", Sigmoid), ("relu", ReLU)):
        layers = []
        for i in range(depth):
            layers += [Linear(width, width, rng=seed + i), act()]
        net = Sequential(*layers, Linear(width, 10, rng=seed + depth))
        logits = net.forward(x, training=True)
        _, cache = softmax_cross_entropy(logits, labels)
        dout = softmax_cross_entropy_backward(1.0, cache)
        gains = []
        for layer in reversed(net.layers):
            upstream = dout
            dout = layer.backward(dout)
            if isinstance(layer, act):
                gains.append(float(np.linalg.norm(dout) / np.linalg.norm(upstream)))
        grad_norms = [float(np.linalg.norm(layer.grads["weight"])) for layer in net.layers
                      if isinstance(layer, Linear)][:depth]
        result[name] = {"weight_grad_norms": grad_norms, "activation_gains": gains[::-1]}
    return result
