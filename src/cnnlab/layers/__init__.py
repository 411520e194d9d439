"""Keras-style layers mapped onto plain ``torch.nn`` modules, with shape inference at construction.

``Sequential([...], input_shape=(C, H, W))`` walks the layer list once, computes every output shape with
:mod:`cnnlab.shapes` (⌊(n + 2p − d·(f−1) − 1)/s⌋ + 1), and emits ordinary modules (``nn.Conv2d``,
``nn.MaxPool2d``, ``nn.Linear``, ``nn.ReLU``, ``nn.Flatten``, ``nn.BatchNorm2d``, ...), so every tool
(summary, the NumPy engine, explain) sees a normal ``torch.nn.Sequential``. Shapes are channels-first
and exclude the batch axis, as in torch.

Naming (Keras-like): each layer gets ``conv2d``, ``conv2d_1``, ``max_pooling2d``, ``dense_2``, ... (a
counter per kind, per model) unless given ``name=``. A layer that needs several modules adds them with a
suffix: ``conv2d_relu`` (the ``activation=``), ``conv2d_pad`` (asymmetric "same" padding, an
``nn.ZeroPad2d``/``nn.ConstantPad*d`` before the window), ``global_average_pooling2d_flatten``,
``global_max_pooling1d_flatten``,
``embedding_transpose``. Three small non-torch modules exist where torch has none: :class:`Maxout`,
:class:`ChannelsFirst` (after ``Embedding``, so ``Conv1D`` can follow) and :class:`SameAvgPool2d`
(TF "same" average pooling that needs asymmetric padding; padded cells are not counted).

Keras conventions kept: ``padding="same"`` follows TF (extra pixel after), ``strides`` of a pooling
layer default to ``pool_size``, ``BatchNormalization(momentum=0.99, epsilon=1e-3)`` means a running
average keeping 99% (torch ``momentum=0.01``). ``leaky_relu`` uses torch's slope 0.01 by default.
Layer indices in error messages are 0-based positions in the list given to ``Sequential``.

Layers: ``Conv2D``, ``Conv1D`` (:mod:`.conv`); ``MaxPooling2D``, ``MaxPooling1D``, ``AveragePooling2D``,
``AveragePooling1D``, ``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``, ``GlobalAveragePooling1D``,
``GlobalMaxPooling1D`` (:mod:`.pool`); ``Flatten``, ``Dense``, ``Dropout``, ``BatchNormalization``,
``Activation``, ``Embedding`` (:mod:`.basic`); blocks ``ResidualBlock``, ``InceptionModule``,
``Concatenate`` (:mod:`.blocks`, also importable from :mod:`cnnlab.blocks`).

Modules, bottom up (each imports only the ones before it): :mod:`.modules` (small torch modules),
:mod:`.core` (``Layer``, the registry, ``Where``, argument checks), :mod:`.conv`, :mod:`.pool`,
:mod:`.basic`, :mod:`.sequential` (``build_chain``, ``Sequential``), :mod:`.blocks`. Importing any of
them imports this package first, so every layer class is registered for :func:`layer_from_config`.
"""

from cnnlab.layers.modules import ChannelsFirst, Maxout, SameAvgPool2d
from cnnlab.layers.core import (  # noqa: F401  (private helpers kept importable from here, as before the split)
    ACTIVATIONS, Layer, Shape, Where, _LAYER_TYPES, _activation_arg, _jsonable, _pad_module, _padding_arg,
    _positive_int, _positive_tuple, _resolve_padding, fmt_shape, layer_from_config, make_activation)
from cnnlab.layers.conv import Conv1D, Conv2D, _Conv  # noqa: F401
from cnnlab.layers.pool import (  # noqa: F401
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
    GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D, _GlobalPool, _GlobalPool1D, _Pool)
from cnnlab.layers.basic import Activation, BatchNormalization, Dense, Dropout, Embedding, Flatten
from cnnlab.layers.sequential import LayerRecord, Sequential, build_chain, check_input_shape  # noqa: F401
from cnnlab.layers.blocks import Concatenate, InceptionModule, ResidualBlock  # noqa: F401  (registers the blocks)

__all__ = [
    "Layer", "Sequential", "Conv2D", "Conv1D", "MaxPooling2D", "MaxPooling1D", "AveragePooling2D",
    "AveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
    "GlobalMaxPooling1D", "Flatten", "Dense", "Dropout", "BatchNormalization", "Activation", "Embedding", "Maxout",
    "ChannelsFirst", "SameAvgPool2d", "ACTIVATIONS", "layer_from_config", "fmt_shape",
]
