"""Named feature maps from any ``torch.nn.Module``, computing no more of the network than needed.

:class:`FeatureExtractor` works on a private frozen copy of the model (eval mode, no parameter
gradients, in-place activations switched off so a captured map is never overwritten), so the caller's
model is never touched. A ``nn.Sequential`` is cut after the child that holds the last requested layer;
any other model stops its forward pass as soon as every requested layer has fired. Either way the cost
of a call ends at the last layer that is needed (the main speed lever of style transfer). In the copy,
every eval-mode ``BatchNorm2d`` that directly follows a ``Conv2d`` in a ``nn.Sequential`` is folded into
that convolution (exact: ``w' = w·γ/√(σ²+ε)``, ``b' = (b − μ)·γ/√(σ²+ε) + β``) unless the convolution's own
output is requested; the BatchNorm's name stays valid (it becomes an identity that passes the folded
output on).
"""

from __future__ import annotations

import copy
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from cnnlab.preprocess import Normalize
from cnnlab.errors import UnknownNameError


class _Enough(Exception):
    """Raised from a forward hook once every requested layer has produced its output."""


#: the art tools' name for the one input pipeline: ``Preprocess(mean, std, scale=255, bgr=True)``
Preprocess = Normalize


def layer_names(model: nn.Module) -> list[str]:
    """Names of every sub-module of ``model`` in definition order (the names ``layers=`` accepts)."""
    return [name for name, _ in model.named_modules() if name]


def vgg_aliases(features: nn.Module, prefix: str = "") -> dict[str, str]:
    """Friendly names (``conv1_1``, ``bn1_1``, ``relu1_1``, ``pool1``, ...) for a VGG-style Sequential.

    Blocks are counted by max-pooling layers, convolutions within a block from 1 — the naming of
    Gatys et al. and Simonyan & Zisserman.
    """
    aliases: dict[str, str] = {}
    block, conv = 1, 0
    for name, module in features.named_children():
        full = f"{prefix}{name}"
        if isinstance(module, nn.Conv2d):
            conv += 1
            aliases[f"conv{block}_{conv}"] = full
        elif isinstance(module, nn.BatchNorm2d) and conv:
            aliases[f"bn{block}_{conv}"] = full
        elif isinstance(module, (nn.ReLU, nn.ReLU6)) and conv:
            aliases[f"relu{block}_{conv}"] = full
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            aliases[f"pool{block}"] = full
            block, conv = block + 1, 0
    return aliases


def resolve_layers(model: nn.Module, layers: Iterable[str], aliases: dict[str, str] | None = None,
                   *, argument: str = "layer") -> list[str]:
    """Map user layer names (module names or aliases) to module names; one-line error for unknown ones."""
    aliases = aliases or {}
    known = layer_names(model)
    known_set = set(known)
    out = []
    for layer in layers:
        name = aliases.get(layer, layer)
        if name not in known_set:
            listed = list(aliases) + [n for n in known if n not in set(aliases.values())]
            raise UnknownNameError(f"unknown `{argument}` {layer!r}; valid names: {', '.join(listed)}")
        out.append(name)
    if not out:
        raise UnknownNameError(f"`{argument}` needs at least one layer name")
    return out


def fold_batchnorm(net: nn.Module, keep: set[str] = frozenset()) -> list[str]:
    """Fold every ``BatchNorm2d`` that follows a ``Conv2d`` in a ``nn.Sequential`` of ``net`` into the conv.

    Works in place on ``net`` (pass a copy) and only on BatchNorms that use running statistics (eval mode
    or no batch statistics), so the folded network computes the same function. A pair is left alone when
    the convolution's name is in ``keep`` (its own output must stay observable). Returns the names of
    the folded BatchNorms, which become ``nn.Identity``.
    """
    folded = []
    for prefix, seq in list(net.named_modules()):
        if not isinstance(seq, nn.Sequential):
            continue
        names = [n for n, _ in seq.named_children()]
        for a, b in zip(names, names[1:]):
            conv, bn = getattr(seq, a), getattr(seq, b)
            conv_name = f"{prefix}.{a}" if prefix else a
            if not (type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d and conv_name not in keep):
                continue
            if bn.training or bn.running_mean is None or bn.num_features != conv.out_channels:
                continue
            with torch.no_grad():
                scale = bn.running_var.add(bn.eps).rsqrt()
                if bn.affine:
                    scale = scale * bn.weight
                shift = -bn.running_mean * scale + (bn.bias if bn.affine else 0.0)
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                bias = conv.bias * scale + shift if conv.bias is not None else shift
                conv.bias = nn.Parameter(bias.detach().clone(), requires_grad=False)
            setattr(seq, b, nn.Identity())
            folded.append(f"{prefix}.{b}" if prefix else b)
    return folded


class FeatureExtractor(nn.Module):
    """Return ``{layer: feature map}`` for the requested layers of a model.

    Args:
        model: any module; it is copied, never modified.
        layers: module names (see :func:`layer_names`) or alias keys.
        preprocess: callable applied to the [0, 1] image first (e.g. :class:`Preprocess`).
        aliases: friendly name -> module name (e.g. from :func:`vgg_aliases`).
        channels_last: run the copy in channels-last memory format.
        bf16: run under CPU bfloat16 autocast; the returned maps are cast back to float32.

    Shape:
        input (N, 3, H, W) in [0, 1]; output maps (N, C_l, H_l, W_l), float32.
    """

    def __init__(self, model: nn.Module, layers: Sequence[str], preprocess: Callable | None = None, *,
                 aliases: dict[str, str] | None = None, channels_last: bool = False, bf16: bool = False):
        super().__init__()
        self.requested = list(layers)
        resolved = resolve_layers(model, self.requested, aliases)
        self.modules_of = dict(zip(self.requested, resolved))
        net = copy.deepcopy(model).eval()
        net.requires_grad_(False)
        self.folded = fold_batchnorm(net, keep=set(resolved))
        for module in net.modules():
            if hasattr(module, "inplace") and isinstance(module.inplace, bool):
                module.inplace = False
        self.net = self._truncate(net, set(resolved))
        self.preprocess = preprocess if preprocess is not None else nn.Identity()
        self.channels_last = channels_last
        self.bf16 = bf16
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self._wanted = set(resolved)
        self._store: dict[str, torch.Tensor] = {}
        named = dict(self.net.named_modules())
        self._handles = [named[name].register_forward_hook(self._hook(name)) for name in self._wanted]

    @staticmethod
    def _truncate(net: nn.Module, wanted: set[str]) -> nn.Module:
        if not isinstance(net, nn.Sequential):
            return net
        children = [name for name, _ in net.named_children()]
        last = max(i for i, c in enumerate(children) if any(w == c or w.startswith(c + ".") for w in wanted))
        for name in children[last + 1:]:
            delattr(net, name)  # keeps the remaining children's names, so layer names stay valid
        return net

    def _hook(self, name: str):
        def hook(module, inputs, output):
            if name not in self._store:
                self._store[name] = output
            if len(self._store) == len(self._wanted):
                raise _Enough

        return hook

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        self._store = {}
        x = self.preprocess(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                self.net(x)
        except _Enough:
            pass
        store, self._store = self._store, {}
        missing = [r for r in self.requested if self.modules_of[r] not in store]
        if missing:
            raise RuntimeError(f"layers {missing} did not run in the forward pass")  # internal invariant
        return {r: store[self.modules_of[r]].float() for r in self.requested}
