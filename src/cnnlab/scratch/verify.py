"""The torch bridge: copy a torch model into the NumPy engine and compare them layer by layer.

This is the one module of :mod:`cnnlab.scratch` that imports torch. :func:`to_scratch` maps each leaf
module of a model that is a plain chain of layers (``nn.Sequential``, nested ``nn.Sequential``s, or a
module whose ``forward`` calls its children in registration order, which is checked) onto a
:class:`~cnnlab.scratch.model.Sequential` with the same weights. :func:`verify` runs one random batch
through both, back-propagates a loss (cross-entropy against random labels for 2-D outputs, otherwise
Σ out·R for a fixed random R), and records per layer the max |difference| of the outputs, of the
gradients w.r.t. the weights and biases, and of the gradient w.r.t. the layer's input.

The NumPy side always computes in float64 from the torch weights. Tolerances: a difference passes if
``max|Δ| ≤ rtol·max|torch| + atol`` for that tensor, with (rtol, atol) = (1e-4, 1e-6) when torch runs in
float32 (its own rounding, ~1e-7 per op, accumulates over layers) and (1e-10, 1e-12) in float64.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.scratch import model as sm
from cnnlab.scratch.layers import softmax_cross_entropy, softmax_cross_entropy_backward

TOLERANCES = {"float32": (1e-4, 1e-6), "float64": (1e-10, 1e-12)}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.float64).numpy().copy()


def _conv2d(m):
    if m.padding_mode != "zeros":
        raise ConfigError(f"padding_mode={m.padding_mode!r} (only 'zeros')")
    return sm.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                     m.groups, m.bias is not None)


def _conv1d(m):
    if m.padding_mode != "zeros":
        raise ConfigError(f"padding_mode={m.padding_mode!r} (only 'zeros')")
    padding = m.padding if isinstance(m.padding, str) else m.padding[0]
    return sm.Conv1d(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0], padding,
                     m.dilation[0], m.groups, m.bias is not None)


def _maxpool(m):
    if m.return_indices:
        raise ConfigError("return_indices=True")
    return sm.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)


def _avgpool(m):
    if m.divisor_override is not None:
        raise ConfigError("divisor_override")
    return sm.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)


def _flatten(m):
    if m.end_dim != -1:
        raise ConfigError(f"end_dim={m.end_dim} (only -1)")
    return sm.Flatten(m.start_dim)


def _batchnorm(m):
    if not m.track_running_stats:
        raise ConfigError("track_running_stats=False")
    # momentum=None (cumulative average) only changes the running statistics, which are not compared
    return sm.BatchNorm(m.num_features, m.eps, 0.1 if m.momentum is None else m.momentum, m.affine)


def _zeropad(m):
    return sm.ZeroPad2d(tuple(m.padding))


MAPPERS = {
    nn.Conv2d: _conv2d,
    nn.Conv1d: _conv1d,
    nn.MaxPool2d: _maxpool,
    nn.AvgPool2d: _avgpool,
    nn.LPPool2d: lambda m: sm.LPPool2d(m.norm_type, m.kernel_size, m.stride, m.ceil_mode),
    nn.Linear: lambda m: sm.Linear(m.in_features, m.out_features, m.bias is not None),
    nn.ReLU: lambda m: sm.ReLU(),
    nn.Sigmoid: lambda m: sm.Sigmoid(),
    nn.Tanh: lambda m: sm.Tanh(),
    nn.Softmax: lambda m: sm.Softmax(1 if m.dim is None else m.dim),
    nn.Flatten: _flatten,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.Dropout: lambda m: sm.Dropout(m.p),
    nn.ZeroPad2d: _zeropad,
    nn.Identity: lambda m: sm.Identity(),
    nn.AdaptiveAvgPool2d: lambda m: sm.AdaptiveAvgPool2d(m.output_size),
}


def leaves(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The model's leaf modules (no children) in registration order, with their dotted names."""
    found = [(name, m) for name, m in model.named_modules() if not any(True for _ in m.children())]
    return found or [("", model)]


def to_scratch(model: nn.Module) -> Tuple[List[str], sm.Sequential]:
    """Map every leaf of ``model`` onto a NumPy layer with the same (float64) weights and buffers.

    Returns:
        ``(names, net)``: the torch names of the layers and the NumPy :class:`Sequential`.

    Raises:
        ConfigError: a leaf module has no NumPy counterpart (named in the message), or an option
            of a supported one is not (``padding_mode="reflect"``, ``return_indices`` ...).
    """
    names, layers = [], []
    known = ", ".join(sorted(cls.__name__ for cls in MAPPERS))
    for name, module in leaves(model):
        mapper = MAPPERS.get(type(module))
        label = f"{name or '<model>'} ({type(module).__name__})"
        if mapper is None:
            raise ConfigError(f"unsupported layer {label}: the NumPy engine maps {known}")
        try:
            layer = mapper(module)
        except ConfigError as exc:
            raise ConfigError(f"unsupported option in layer {label}: {exc}") from None
        for key, value in module.named_parameters(recurse=False):
            layer.params[key] = _np(value)
        for key, value in module.named_buffers(recurse=False):
            if key in layer.buffers:
                layer.buffers[key] = _np(value)
        names.append(name)
        layers.append(layer)
    return names, sm.Sequential(*layers)


@dataclass
class LayerCheck:
    """Max |difference| NumPy − torch for one layer, next to the torch tensors' max magnitudes."""

    index: int
    name: str
    kind: str
    shape: Tuple[int, ...]
    diffs: Dict[str, float] = field(default_factory=dict)   # "out", "d_weight", "d_bias", "d_input"
    scales: Dict[str, float] = field(default_factory=dict)
    ok: bool = True


@dataclass
class VerifyReport:
    """Result of :func:`verify`: per-layer checks, the loss difference and the tolerances used."""

    layers: List[LayerCheck]
    loss: float
    loss_diff: float
    dtype: str
    rtol: float
    atol: float
    batch_shape: Tuple[int, ...]
    mode: str

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        return out


_NOT_A_CHAIN = ("the model is not a plain chain of its layers ({}): its forward does more than call "
                "its children in order (a residual connection, a functional flatten ...); verify "
                "supports sequential models")


def _torch_chain(model, pairs, x):
    """Run the leaves one by one (each on a clone, so in-place layers keep earlier outputs) and check
    that this chain is what the model computes."""
    try:
        with torch.no_grad():
            whole = model(x)
    except RuntimeError as exc:
        raise ShapeError(f"input shape {tuple(x.shape[1:])} does not fit the model: "
                         f"{str(exc).splitlines()[0]}") from None
    x = x.clone().requires_grad_(True)
    outs, h = [], x
    for name, module in pairs:
        try:
            h = module(h.clone())
        except RuntimeError:
            raise ConfigError(_NOT_A_CHAIN.format(f"layer {name} fails on its predecessor's output")
                              ) from None
        h.retain_grad()
        outs.append(h)
    if whole.shape != h.shape or not torch.allclose(whole, h, rtol=1e-5, atol=1e-6):
        raise ConfigError(_NOT_A_CHAIN.format("running its layers in order gives another output"))
    return x, outs


def verify(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 4, seed: int = 0,
           dtype: str = "float32", mode: str = "eval", rtol: Optional[float] = None,
           atol: Optional[float] = None) -> VerifyReport:
    """Compare ``model`` with its NumPy copy on one random batch, forward and backward.

    Args:
        model: a torch module that is a chain of supported layers (left untouched: a copy is used).
        input_shape: (C, H, W) or (C, L) without the batch axis.
        dtype: "float32" (the model as is) or "float64" (a float64 copy of it).
        mode: "eval" (running batch-norm statistics, no dropout) or "train" (batch statistics;
            dropout must then have p = 0, random masks cannot be compared).
        rtol, atol: override the tolerances of :data:`TOLERANCES`.

    Raises:
        ConfigError: an unsupported layer, a model that is not a chain, bad options.

    Shape:
        a batch (batch_size, *input_shape) of standard-normal values
    """
    if dtype not in TOLERANCES:
        raise ConfigError(f"`dtype` must be float32 or float64; got {dtype!r}")
    if mode not in ("eval", "train"):
        raise ConfigError(f"`mode` must be eval or train; got {mode!r}")
    d_rtol, d_atol = TOLERANCES[dtype]
    rtol, atol = (d_rtol if rtol is None else rtol), (d_atol if atol is None else atol)
    tmodel = copy.deepcopy(model).to(dtype=getattr(torch, dtype)).train(mode == "train")
    pairs = leaves(tmodel)
    _, net = to_scratch(tmodel)
    training = mode == "train"
    if training and any(isinstance(m, nn.Dropout) and m.p > 0 for _, m in pairs):
        raise ConfigError("dropout with p > 0 cannot be compared in train mode (random masks); "
                          "use --mode eval")
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal((batch_size,) + tuple(input_shape))
    x_leaf, outs_t = _torch_chain(tmodel, pairs, torch.tensor(x_np, dtype=getattr(torch, dtype)))
    out_t = outs_t[-1]
    if out_t.ndim == 2:      # logits: cross-entropy against random labels
        labels = rng.integers(0, out_t.shape[1], size=batch_size)
        loss_t = nn.functional.cross_entropy(out_t, torch.tensor(labels))
    else:                    # anything else: a fixed random projection Σ out·R
        proj = rng.standard_normal(tuple(out_t.shape))
        loss_t = (out_t * torch.tensor(proj, dtype=out_t.dtype)).sum()
    loss_t.backward()
    dins_t = [x_leaf.grad] + [o.grad for o in outs_t[:-1]]

    # NumPy side, float64, layer by layer
    outs_np, h = [], x_np
    for layer in net.layers:
        h = layer.forward(h, training)
        outs_np.append(h)
    if out_t.ndim == 2:
        loss_np, cache = softmax_cross_entropy(h, labels)
        dout = softmax_cross_entropy_backward(1.0, cache)
    else:
        loss_np, dout = float((h * proj).sum()), proj
    dins_np = [None] * len(net.layers)
    for i in range(len(net.layers) - 1, -1, -1):
        dout = net.layers[i].backward(dout)
        dins_np[i] = dout

    checks = []
    for i, ((name, module), layer) in enumerate(zip(pairs, net.layers)):
        check = LayerCheck(i, name or "<model>", type(module).__name__, tuple(outs_np[i].shape[1:]))
        compared = {"out": (outs_np[i], outs_t[i]), "d_input": (dins_np[i], dins_t[i])}
        for key, param in module.named_parameters(recurse=False):
            compared[f"d_{key}"] = (layer.grads[key], param.grad)
        for key, (ours, theirs) in compared.items():
            theirs = _np(theirs)
            diff = float(np.max(np.abs(ours - theirs), initial=0.0))
            scale = float(np.max(np.abs(theirs), initial=0.0))
            check.diffs[key], check.scales[key] = diff, scale
            check.ok &= diff <= rtol * scale + atol
        checks.append(check)
    loss_t = loss_t.item()
    return VerifyReport(checks, loss_t, abs(loss_np - loss_t), dtype, rtol, atol,
                        (batch_size,) + tuple(input_shape), mode)


def render(report: VerifyReport) -> str:
    """Plain-text per-layer table of a :class:`VerifyReport` (pure function)."""
    header = ("#", "layer", "type", "output", "max|Δ out|", "max|Δ ∂L/∂W|", "max|Δ ∂L/∂b|",
              "max|Δ ∂L/∂in|", "")

    def cell(check, key):
        return f"{check.diffs[key]:.2e}" if key in check.diffs else "-"

    rows = [header] + [(str(c.index), c.name, c.kind, "×".join(map(str, c.shape)), cell(c, "out"),
                        cell(c, "d_weight"), cell(c, "d_bias"), cell(c, "d_input"),
                        "ok" if c.ok else "FAIL") for c in report.layers]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) if i < 4 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
             .rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    verdict = "PASS" if report.ok else "FAIL"
    lines.append(f"loss {report.loss:.6f} (|Δ| {report.loss_diff:.1e}); batch "
                 f"{'×'.join(map(str, report.batch_shape))}, torch {report.dtype}, NumPy float64, "
                 f"{report.mode} mode; tolerance max|Δ| ≤ {report.rtol:g}·max|torch| + {report.atol:g}: "
                 f"{verdict}")
    return "\n".join(lines)
