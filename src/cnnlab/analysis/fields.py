"""Receptive-field propagation through the executed op graph.

Every tensor the forward pass makes may carry a :class:`TensorField`: one :class:`cnnlab.shapes.Field`
(size ``rf``, effective stride ``jump``, ``start``) per trailing spatial axis, plus those axes' sizes.
The model input starts with rf 1, jump 1, start 0.5 on every axis after (N, C). Each op maps the fields
of its inputs to its outputs (Araujo et al., Distill 2019, "Computing receptive fields of CNNs"):

- convolution and pooling: r' = r + (k−1)·d·j, j' = j·s, start' = start + ((k−1)·d/2 − p)·j;
  transposed convolution divides the jump by the stride;
- adaptive pooling: a window of ⌈n/m⌉ with stride n/m; a reduction over spatial axes with
  ``keepdim`` (global pooling) takes the whole axis; upsampling by f divides the jump by f
  (linear modes add one input tap); padding moves ``start``;
- any other op keeps the field when its output ends in the same spatial sizes (elementwise ops,
  batch norm, activations, channel concatenation, channel shuffles…). When several inputs carry
  fields (a residual add, an inception concatenation, a squeeze-excitation product), the output takes
  the largest field per axis, i.e. the largest path, and is marked ``merged`` (a 1×1 gate broadcast
  over the map, as in squeeze-excitation, is not a path);
- an op whose output loses the spatial axes (flatten, matmul) drops the field.

A convolution or pooling op on a tensor without a field (after an embedding or a reshape) starts a
fresh one on that tensor's grid. Nothing here imports torch; tensors are read through ``.shape``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

from cnnlab.analysis.opcount import (ADAPTIVE_POOL_OPS, INTERP_TAPS, POOL_OPS, base_name)
from cnnlab.shapes import Field


@dataclass(frozen=True)
class TensorField:
    """Receptive fields of a tensor's trailing spatial axes (``fields[i]`` for ``spatial[i]``)."""

    fields: Tuple[Field, ...]
    spatial: Tuple[int, ...]
    merged: bool = False
    global_pool: bool = False  # made by (or after) a pooling over whole axes


Lookup = Callable[[Any], Optional[TensorField]]


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _shape(t: Any) -> Tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


def _tensors(x: Any) -> List[Any]:
    if _is_tensor(x):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _tensors(item)]
    return []


def _ints(value: Any, dims: int, default: Sequence[int] = ()) -> Tuple[int, ...]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        value = default
    if isinstance(value, (int, float)):
        return (int(value),) * dims
    vals = tuple(int(v) for v in value)
    return vals * dims if len(vals) == 1 else vals


def input_field(shape: Sequence[int]) -> Optional[TensorField]:
    """The field of a model input of ``shape`` (N, C, *spatial); ``None`` below rank 3."""
    if len(shape) < 3:
        return None
    spatial = tuple(int(s) for s in shape[2:])
    return TensorField(tuple(Field() for _ in spatial), spatial)


def _field_of(x: Any, dims: int, lookup: Lookup) -> TensorField:
    """The field of ``x``'s last ``dims`` axes, or a fresh one on ``x``'s grid."""
    info = lookup(x)
    spatial = _shape(x)[-dims:]
    if info is not None and len(info.fields) == dims and info.spatial == spatial:
        return info
    return TensorField(tuple(Field() for _ in spatial), spatial)


def _window(info: TensorField, out: Any, kernel, stride, padding, dilation) -> TensorField:
    fields = tuple(f.through(k, s, p, d) for f, k, s, p, d in zip(info.fields, kernel, stride, padding, dilation))
    dims = len(fields)
    return TensorField(fields, _shape(out)[-dims:], info.merged, info.global_pool)


def _conv(args, out, lookup) -> Optional[TensorField]:
    x, w = args[0], args[1]
    dims = len(_shape(w)) - 2
    if dims < 1:
        return None
    stride, padding, dilation = (_ints(args[i], dims) for i in (3, 4, 5))
    transposed = bool(args[6]) if len(args) > 6 else False
    info = _field_of(x, dims, lookup)
    kernel = _shape(w)[2:]
    if not transposed:
        return _window(info, out, kernel, stride, padding, dilation)
    # Transposed: output o sees inputs (o + p − t·d)/s, t < k: span (k−1)·d/s input units.
    fields = tuple(Field(rf=f.rf + (k - 1) * d / s * f.jump, jump=f.jump / s,
                         start=f.start + (p - (k - 1) * d / 2) / s * f.jump)
                   for f, k, s, p, d in zip(info.fields, kernel, stride, padding, dilation))
    return TensorField(fields, _shape(out)[-dims:], info.merged, info.global_pool)


def pool_geometry(name: str, args: Sequence[Any], kwargs: dict) -> Tuple[Tuple[int, ...], ...]:
    """(kernel, stride, padding, dilation) of a max/avg pooling op from its arguments."""
    x = args[0]
    dims = 1 if name in ("max_pool1d", "avg_pool1d", "max_pool1d_with_indices") else len(_shape(x)) - 2
    dims = max(dims, 1)

    def arg(i, key, default):
        if len(args) > i:
            return args[i]
        return kwargs.get(key, default)

    kernel = _ints(arg(1, "kernel_size", None), dims)
    stride = _ints(arg(2, "stride", None), dims, default=kernel)
    padding = _ints(arg(3, "padding", 0), dims)
    dilation = (1,) * dims if name.startswith("avg") else _ints(arg(4, "dilation", 1), dims)
    return kernel, stride, padding, dilation


def _pool(name, args, kwargs, out, lookup) -> Optional[TensorField]:
    kernel, stride, padding, dilation = pool_geometry(name, args, kwargs)
    info = _field_of(args[0], len(kernel), lookup)
    return _window(info, out, kernel, stride, padding, dilation)


def _adaptive(args, out, lookup) -> Optional[TensorField]:
    x = args[0]
    o = _shape(out)
    dims = len(o) - 2 if len(o) > 2 else 1
    info = _field_of(x, dims, lookup)
    fields = []
    for f, n, m in zip(info.fields, info.spatial, o[-dims:]):
        if m == n:
            fields.append(f)
            continue
        stride = n // m if n % m == 0 else n / m
        fields.append(f.through(math.ceil(n / m), stride))
    whole = all(m == 1 for m in o[-dims:]) and any(n > 1 for n in info.spatial)
    return TensorField(tuple(fields), o[-dims:], info.merged, info.global_pool or whole)


def _reduce(args, kwargs, out, lookup) -> Optional[TensorField]:
    """Global pooling written as ``x.mean((2, 3), keepdim=True)`` (also how adaptive pooling to 1 runs)."""
    x = args[0]
    info = lookup(x)
    if info is None:
        return None
    rank = len(_shape(x))
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if not isinstance(keepdim, bool):
        keepdim = False
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        dims = set(range(rank))
    else:
        dims = {d % rank for d in (_ints(dim, 1) if isinstance(dim, int) else dim)}
    first = rank - len(info.fields)
    reduced = {d - first for d in dims if d >= first}
    if not reduced:
        return _passthrough([x], out, lookup)
    if not keepdim:
        return None
    fields = tuple(f.through(n, n) if i in reduced else f
                   for i, (f, n) in enumerate(zip(info.fields, info.spatial)))
    whole = len(reduced) == len(info.fields) and any(n > 1 for n in info.spatial)
    return TensorField(fields, _shape(out)[first:], info.merged, info.global_pool or whole)


def _upsample(name, args, out, lookup) -> Optional[TensorField]:
    o = _shape(out)
    x = args[0]
    dims = len(o) - 2
    info = _field_of(x, dims, lookup)
    taps = INTERP_TAPS.get(name, 1)
    per_axis = 2 if taps > 1 and taps != 16 else (4 if taps == 16 else 1)
    fields = []
    for f, n, m in zip(info.fields, info.spatial, o[-dims:]):
        g = f.through(per_axis) if per_axis > 1 else f
        fields.append(Field(rf=g.rf, jump=f.jump * n / m, start=f.start))
    return TensorField(tuple(fields), o[-dims:], info.merged, info.global_pool)


def _pad(args, out, lookup) -> Optional[TensorField]:
    x, pad = args[0], [int(p) for p in args[1]]
    info = lookup(x)
    if info is None:
        return None
    fields = list(info.fields)
    dims = len(fields)
    for i in range(min(len(pad) // 2, dims)):  # pad lists (before, after) from the last axis backwards
        axis = dims - 1 - i
        f = fields[axis]
        fields[axis] = Field(rf=f.rf, jump=f.jump, start=f.start - pad[2 * i] * f.jump)
    return TensorField(tuple(fields), _shape(out)[-dims:], info.merged, info.global_pool)


def _passthrough(inputs: Sequence[Any], out: Any, lookup: Lookup) -> Optional[TensorField]:
    """Keep (or merge) the fields of inputs whose spatial sizes the output still ends with.

    Operands broadcast over the map from a 1×1 tensor (squeeze-excitation gates) are not paths here:
    they would make every later field global and the column meaningless.
    """
    o = _shape(out)
    main: List[TensorField] = []
    for t in inputs:
        info = lookup(t)
        if info is None:
            continue
        dims = len(info.fields)
        if len(o) >= dims + 2 and o[-dims:] == info.spatial:
            main.append(info)
    if not main:
        return None
    dims = len(main[0].fields)
    main = [m for m in main if len(m.fields) == dims]
    fields = tuple(max((m.fields[axis] for m in main), key=lambda f: f.rf) for axis in range(dims))
    merged = any(m.merged for m in main) or len({m.fields for m in main}) > 1
    return TensorField(fields, o[-dims:], merged, any(m.global_pool for m in main))


REDUCE_KEEPDIM_OPS = {"mean", "sum", "amax", "amin", "max", "min", "var", "std", "logsumexp", "norm",
                      "linalg_vector_norm", "nansum", "nanmean"}
PAD_OPS = {"constant_pad_nd", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
           "replication_pad1d", "replication_pad2d", "replication_pad3d"}
UPSAMPLE_OPS = {"upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
                "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d",
                *[k for k in INTERP_TAPS if k.startswith(("upsample", "_upsample"))]}
CONV_FIELD_OPS = {"convolution", "_convolution", "convolution_overrideable"}


def propagate(op_name: str, args: Sequence[Any], kwargs: dict, out: Any,
              lookup: Lookup) -> List[Tuple[Any, TensorField]]:
    """The (tensor, field) pairs for the tensor outputs of one executed op.

    Args:
        op_name: overload-packet name of the op (``"convolution"``, ``"add_"`` …).
        args, kwargs: its arguments; out: what it returned.
        lookup: gives the :class:`TensorField` of a tensor, or ``None``.
    """
    name = base_name(op_name)
    outs = _tensors(out)
    if not outs:
        return []
    first = outs[0]
    try:
        if name in CONV_FIELD_OPS:
            info = _conv(args, first, lookup)
        elif name in POOL_OPS:
            info = _pool(name, args, kwargs, first, lookup)
        elif name in ADAPTIVE_POOL_OPS:
            info = _adaptive(args, first, lookup)
        elif name in UPSAMPLE_OPS:
            info = _upsample(name, args, first, lookup)
        elif name in PAD_OPS:
            info = _pad(args, first, lookup)
        elif name in REDUCE_KEEPDIM_OPS:
            info = _reduce(args, kwargs, first, lookup)
        elif name == "cat":
            tensors = _tensors(args[0])
            info = _passthrough(tensors, first, lookup)
        else:
            info = _passthrough(_tensors(list(args) + list(kwargs.values())), first, lookup)
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        info = None  # an argument layout we do not know: drop the field rather than guess
    if info is None:
        return []
    return [(t, info) for t in outs if _shape(t)[-len(info.fields):] == info.spatial]
