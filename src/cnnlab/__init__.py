"""cnnlab: convolutional neural networks on PyTorch.

Build a CNN (Keras-style layers or any ``torch.nn.Module``), see its shapes and costs, train it on real
data, look inside it, play with it, and check its maths against a NumPy engine written from the
equations. Nothing heavy is imported eagerly: ``import cnnlab`` is cheap, the names below load their
module on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> "module:attribute"
_LAZY = {
    "Sequential": "cnnlab.layers:Sequential",
    "summary": "cnnlab.analysis:summary",
    "fit": "cnnlab.train:fit",
    "zoo": "cnnlab.zoo",
    "layers": "cnnlab.layers",
    "data": "cnnlab.data",
    "explain": "cnnlab.explain",
    "scratch": "cnnlab.scratch",
    "art": "cnnlab.art",
    "shapes": "cnnlab.shapes",
    "errors": "cnnlab.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__():
    return __all__
