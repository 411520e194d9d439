"""TextCNN (Kim 2014, "Convolutional Neural Networks for Sentence Classification"), registered as ``textcnn``.

Token ids (N, L) -> ``embed`` (one or two embedding channels, (N, C·D, L)) -> ``head``, a Keras-style
:class:`~cnnlab.layers.Sequential`: ``Concatenate`` of one branch per window size k (``Conv1D(maps, k,
activation="relu")`` -> ``GlobalMaxPooling1D``, i.e. max over time) -> ``Flatten`` (N, maps·windows) ->
``Dropout(0.5)`` -> ``Dense`` (``classifier``). Each filter covers whole embedding vectors and slides along the
sentence only: a 1-D convolution.

Variants (Kim's table):
- ``rand``: one embedding channel, randomly initialised, trained;
- ``static``: one channel holding pretrained vectors, frozen;
- ``nonstatic``: one channel holding pretrained vectors, fine-tuned;
- ``multichannel``: two channels (fine-tuned ``embedding`` + frozen ``embedding_static``); each filter sees
  both, which is Kim's two-channel convolution (a sum over channels) written as a 1-D convolution over
  2·D input channels.

Kim's initialisation: filters uniform in ±0.01, zero biases, zero output weights, embeddings uniform in
±0.25 with ``<pad>`` (id 0) at zero and never updated (``padding_idx``). Kim's regulariser, an L2 max-norm
of 3 on each output unit's weight vector after every step, is :func:`max_norm_` (applied by the training
callback :class:`cnnlab.apps.text.train.MaxNorm`).

The embedding stays a small torch module (the builder's ``Embedding`` has no frozen or second channel and
no ``padding_idx``); everything after it is built by the Keras-style builder, so ``cnnlab summary textcnn``
lists every stage with its shape, parameters and MACs.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.layers import Concatenate, Conv1D, Dense, Dropout, Flatten, GlobalMaxPooling1D, Sequential
from cnnlab.zoo.registry import register

__all__ = ["TextCNN", "TextEmbedding", "VARIANTS", "max_norm_"]

VARIANTS = ("rand", "static", "nonstatic", "multichannel")


class TextEmbedding(nn.Module):
    """Token ids (N, L) -> stacked embedding channels, channels first: (N, C·D, L).

    ``embedding`` is trainable unless ``frozen``; ``embedding_static`` (multichannel only) is always frozen.
    """

    def __init__(self, vocab_size: int, dim: int, *, frozen: bool = False, multichannel: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.embedding.weight.requires_grad_(not frozen)
        self.embedding_static = None
        if multichannel:
            self.embedding_static = nn.Embedding(vocab_size, dim, padding_idx=0)
            self.embedding_static.weight.requires_grad_(False)
        self.channels = 2 if multichannel else 1

    def tables(self):
        """The embedding modules, channel order."""
        return [m for m in (self.embedding, self.embedding_static) if m is not None]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        vecs = [table(ids) for table in self.tables()]  # C × (N, L, D)
        x = vecs[0] if len(vecs) == 1 else torch.cat(vecs, dim=-1)  # (N, L, C·D)
        return x.transpose(1, 2)  # (N, L, C·D) -> (N, C·D, L)


class TextCNN(nn.Module):
    """Kim's sentence CNN; see the module docstring.

    Args:
        vocab_size: V (ids 0..V-1; 0 is ``<pad>``).
        embed_dim: D.
        num_classes: K.
        variant: ``rand`` | ``static`` | ``nonstatic`` | ``multichannel``.
        windows: filter widths (Kim: 3, 4, 5).
        maps: feature maps per width (Kim: 100).
        dropout: drop rate before the classifier (Kim: 0.5).
        max_norm: the L2 bound on each output unit's weights (Kim: 3; applied by :class:`MaxNorm`).
        input_shape: ``(L,)``, the padded sentence length the summary uses (any L ≥ max(windows) runs).
        word_dropout: in training, the probability that a word (not ``<pad>``) is read as ``<unk>`` (Kim: 0).
        embed_dropout: in training, dropout on the embedded vectors' entries (Kim: 0).

    Shape: (N, L) int64 -> (N, K) logits.
    """

    def __init__(self, vocab_size: int = 20000, embed_dim: int = 50, num_classes: int = 2, variant: str = "rand",
                 windows: Sequence[int] = (3, 4, 5), maps: int = 100, dropout: float = 0.5, max_norm: float = 3.0,
                 input_shape: Sequence[int] = (64,), word_dropout: float = 0.0, embed_dropout: float = 0.0):
        super().__init__()
        for name, value in (("word_dropout", word_dropout), ("embed_dropout", embed_dropout), ("dropout", dropout)):
            if not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"`{name}` must be in [0, 1); got {value!r} (textcnn)")
        if variant not in VARIANTS:
            raise ConfigError(f"`variant` must be one of {', '.join(VARIANTS)}; got {variant!r}")
        windows = tuple(int(k) for k in windows)
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim), ("maps", maps)):
            if int(value) < 1:
                raise ConfigError(f"`{name}` must be a positive int; got {value!r} (textcnn)")
        if int(num_classes) < 2:
            raise ConfigError(f"`num_classes` must be ≥ 2; got {num_classes!r} (textcnn)")
        if not windows or min(windows) < 1 or len(set(windows)) != len(windows):
            raise ConfigError(f"`windows` must be distinct positive ints like (3, 4, 5); got {windows!r} (textcnn)")
        if len(tuple(input_shape)) != 1 or int(tuple(input_shape)[0]) < max(windows):
            raise ConfigError(f"`input_shape` must be (L,) with L ≥ the widest window {max(windows)}; "
                              f"got {tuple(input_shape)!r} (textcnn)")
        self.variant = variant
        self.windows = windows
        self.max_norm = float(max_norm)
        self.input_shape = (int(tuple(input_shape)[0]),)
        self.word_dropout = float(word_dropout)
        self.embed_dropout = nn.Dropout(float(embed_dropout)) if embed_dropout else None
        self.embed = TextEmbedding(vocab_size, embed_dim, frozen=variant == "static",
                                   multichannel=variant == "multichannel")
        channels = self.embed.channels * embed_dim
        # the part the Keras-style builder describes: Conv1D windows -> GlobalMaxPooling1D, concatenated, dense
        self.head = Sequential([
            Concatenate([[Conv1D(maps, k, activation="relu", name=f"conv{k}"),
                          GlobalMaxPooling1D(keepdims=True, name=f"pool{k}")] for k in windows], name="windows"),
            Flatten(name="flatten"), Dropout(dropout, name="dropout"), Dense(num_classes, name="classifier"),
        ], input_shape=(channels, self.input_shape[0]))
        self.reset_parameters()

    @property
    def classifier(self) -> nn.Linear:
        """The output layer (its rows are what the max-norm constraint bounds)."""
        return self.head.classifier

    def conv(self, k: int) -> nn.Conv1d:
        """The convolution of window ``k``."""
        return getattr(getattr(self.head.windows, f"branch{self.windows.index(k) + 1}"), f"conv{k}")

    def window_maps(self, x: torch.Tensor) -> dict:
        """``{k: relu(conv_k(x))}`` for embedded input ``x`` (N, C·D, L): the maps before max-over-time, (N, maps, T)."""
        return {k: torch.relu(self.conv(k)(x)) for k in self.windows}

    def reset_parameters(self) -> None:
        """Kim's initialisation (see the module docstring); a no-op on the meta device."""
        if self.classifier.weight.is_meta:
            return
        with torch.no_grad():
            for table in self.embed.tables():
                table.weight.uniform_(-0.25, 0.25)
                table.weight[0] = 0.0
            for k in self.windows:
                self.conv(k).weight.uniform_(-0.01, 0.01)
                self.conv(k).bias.zero_()
            self.classifier.weight.zero_()
            self.classifier.bias.zero_()

    def load_vectors(self, weight: torch.Tensor) -> None:
        """Copy a (V, D) embedding table into every embedding channel (row 0 is forced to zero)."""
        with torch.no_grad():
            for table in self.embed.tables():
                if table.weight.shape != weight.shape:
                    raise ConfigError(f"embedding table must be {tuple(table.weight.shape)}; got {tuple(weight.shape)}")
                table.weight.copy_(weight)
                table.weight[0] = 0.0

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The pooled features (N, maps·windows) before dropout."""
        return self.head.flatten(self.head.windows(self.embed(ids)))

    def trim(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids`` without the trailing columns that are ``<pad>`` in every row, keeping ``max(windows)`` of them.

        Exact: each sentence keeps at least one all-``<pad>`` window of every width (or all its columns), so
        max-over-time sees the same set of values; the dropped windows only repeat that all-pad value. Sentences
        padded to the corpus's longest one mostly end in pads, so this saves a fifth of the work per batch.
        """
        if ids.dim() != 2 or ids.shape[1] == 0 or ids.is_meta:  # shape-only passes (cnnlab summary): no data
            return ids
        used = ids.ne(0).any(dim=0).nonzero()
        keep = (int(used[-1]) + 1 if len(used) else 0) + max(self.windows)
        return ids[:, :keep] if keep < ids.shape[1] else ids

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = self.trim(ids)
        if self.training and self.word_dropout and not ids.is_meta:
            drop = torch.rand(ids.shape, device=ids.device) < self.word_dropout
            ids = torch.where(drop & ids.ne(0), torch.ones_like(ids), ids)  # 1 = <unk>
        x = self.embed(ids)
        if self.embed_dropout is not None:
            x = self.embed_dropout(x)
        return self.head(x)


def max_norm_(model: nn.Module, limit: float | None = None) -> float:
    """Rescale each output unit's weight row of ``model.classifier`` to L2 norm ≤ ``limit``, in place.

    Kim applies this after every update (``sqr_norm_lim`` = 9, i.e. norm 3) to the softmax layer only.

    Returns:
        The largest row norm after the rescale.
    """
    limit = float(model.max_norm if limit is None else limit)
    weight = model.classifier.weight
    with torch.no_grad():
        weight.renorm_(2, 0, limit)  # rows with norm > limit scaled to limit
        return float(weight.norm(dim=1).max())


@register("textcnn", (64,), "TextCNN (Kim 2014): embedding, Conv1D windows 3/4/5 x 100, max-over-time, dense")
def textcnn(vocab_size: int = 20000, embed_dim: int = 50, num_classes: int = 2, variant: str = "rand",
            windows: Tuple[int, ...] = (3, 4, 5), maps: int = 100, dropout: float = 0.5, max_norm: float = 3.0,
            input_shape: Tuple[int, ...] = (64,), word_dropout: float = 0.0, embed_dropout: float = 0.0) -> TextCNN:
    """Kim's sentence CNN (default: 20,000 words × 50-d, CNN-rand, 1,060,902 parameters)."""
    return TextCNN(vocab_size, embed_dim, num_classes, variant, windows, maps, dropout, max_norm, input_shape,
                   word_dropout, embed_dropout)
