"""cnnlab: convolutional neural networks on PyTorch.

Build a CNN (Keras-style layers or any ``torch.nn.Module``), see its shapes and costs, train it on real
data, look inside it, play with it, and check its maths against a NumPy engine written from the
equations. Nothing heavy is imported eagerly: ``import cnnlab`` is cheap, the names below load their
module on first use.
"""

from __future__ import annotations

from cnnlab._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
__all__ = __all__ + ["__version__"]
