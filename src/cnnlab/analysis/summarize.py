"""``summary(model, input_shape)``: shapes, parameters, MACs/FLOPs, receptive fields and memory of any module.

The public entry point of :mod:`cnnlab.analysis`; it validates the arguments, runs the collector
(:mod:`cnnlab.analysis.collect`), folds the module calls into rows for the requested depth and returns
a :class:`~cnnlab.analysis.records.Summary` (optionally with measured per-layer times from
:mod:`cnnlab.analysis.profile`).
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Union

import torch
from torch import nn

from cnnlab.analysis import collect as C
from cnnlab.analysis.records import LayerRecord, Summary
from cnnlab.errors import ConfigError, ShapeError

DeviceArg = Union[None, str, torch.device]


def _num(x: float) -> Union[int, float]:
    x = float(x)
    return int(x) if x.is_integer() else round(x, 4)


def _axes(values: Sequence[float]) -> Union[int, float, List[Union[int, float]]]:
    vals = [_num(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else vals


def _check_input_shape(input_shape: Any) -> tuple:
    if isinstance(input_shape, torch.Size):
        input_shape = tuple(input_shape)
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) > 0 and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in input_shape)
    if not ok:
        raise ShapeError(f"`input_shape` must be a non-empty tuple of positive ints without the batch "
                         f"axis, e.g. (1, 28, 28); got {input_shape!r}")
    return tuple(int(s) for s in input_shape)


def _model_device(model: nn.Module) -> torch.device:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def _first_leaf(model: nn.Module) -> nn.Module:
    """The first module without children, in registration order (the first layer of an ``nn.Sequential``)."""
    for m in model.modules():
        if next(m.children(), None) is None:
            return m
    return model


def _model_dtype(model: nn.Module) -> torch.dtype:
    if isinstance(_first_leaf(model), (nn.Embedding, nn.EmbeddingBag)):
        return torch.int64  # the model reads token ids (the all-zero input is a valid id)
    for p in model.parameters():
        if p.dtype.is_floating_point:
            return p.dtype
    return torch.float32


def summary(model: nn.Module, input_shape: Optional[Sequence[int]] = None, *, batch_size: int = 1,
            dtype: Optional[torch.dtype] = None, device: DeviceArg = None, depth: Optional[int] = None,
            profile: bool = False, repeats: int = 5, name: Optional[str] = None) -> Summary:
    """Summarise ``model`` for inputs of ``input_shape``: one row per module call.

    Counting runs one forward pass (on the ``meta`` device unless that fails or ``device`` says
    otherwise) in eval mode; every aten op is attributed to the innermost module calling it, so
    functional code (``F.conv2d``, ``x @ w``) counts like modules. MACs count conv/matmul
    multiply-accumulates; FLOPs are 2 × MACs plus the other ops by the rules of
    :mod:`cnnlab.analysis.opcount`; ops without a rule are listed in ``uncounted_ops``. Receptive
    field, jump and start follow the executed graph (:mod:`cnnlab.analysis.fields`): at a residual
    add or a concatenation the largest path wins and the row is marked ``rf_merged``. Memory: each
    row's output bytes, and the bytes every op of the forward allocates (views/in-place excluded).

    Args:
        model: any ``torch.nn.Module``; its hooks and ``training`` flags are left as they were.
        input_shape: one input without the batch axis, e.g. ``(1, 28, 28)`` or ``(3, 224, 224)``; optional for
            models cnnlab built (zoo, builder), which carry their input shape.
        batch_size: N of the forward pass (counts and memory scale with it).
        dtype: input dtype; default int64 when the model's first module (in registration order) is an
            ``nn.Embedding``/``nn.EmbeddingBag`` (token ids), else the dtype of the model's first floating
            parameter (float32). Integer dtypes give an all-zero input (a valid id for any vocabulary).
        device: ``None`` (meta, falling back to the model's device), ``"meta"`` (meta only), or the
            device the model is on (a real pass there).
        depth: deepest module level shown (1 = the model's direct children); ``None`` shows all.
            Deeper modules fold into their shown ancestor, so each column still sums to the total.
        profile: also time every shown row's forward and backward (median of ``repeats``) on the
            model's device and compare its FLOP rate with a matmul peak measured in this process.
        repeats: timing repeats per row when profiling.
        name: model name for the header (default: the class name).

    Returns:
        a :class:`Summary`; ``str()`` of it is the text table, ``.to_dict()`` the JSON contract.

    Raises:
        ShapeError: ``input_shape`` is not a tuple of positive ints, or the model cannot run on it
            (the message names the module that raised).
        ConfigError: a bad ``batch_size``, ``depth``, ``device`` or ``repeats``.
        TypeError: ``model`` is not a ``torch.nn.Module``.

    Shape:
        the pass runs on ``(batch_size, *input_shape)``.

    Example:
        >>> import torch.nn as nn
        >>> s = summary(nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU()), (1, 28, 28))
        >>> s.total_macs, s.layer("0").receptive_field
        (48672, 3)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module; got {type(model).__name__}")
    if input_shape is None:
        from cnnlab.bundle import resolve

        input_shape = resolve(model).require_shape("summary")
    shape = _check_input_shape(input_shape)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"`batch_size` must be an int ≥ 1; got {batch_size!r}")
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ConfigError(f"`depth` must be an int ≥ 0 or None; got {depth!r}")
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"`repeats` must be an int ≥ 1; got {repeats!r}")
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise ConfigError(f"`dtype` must be a torch.dtype such as torch.float32; got {dtype!r}")
    dtype = dtype or _model_dtype(model)
    home = _model_device(model)
    meta_first, run_device = _plan_device(device, home)
    if profile and home.type == "meta":
        raise ConfigError("`profile=True` times real kernels; the model is on the meta device "
                          "(build it on a real device, e.g. 'cpu')")

    notes: List[str] = []
    with C.eval_mode(model):
        result = None
        if meta_first:
            x = C.make_input((batch_size, *shape), dtype, torch.device("meta"))
            try:
                result = C.run_counted(model, x, on_meta=True)
                used = "meta"
            except ShapeError as exc:
                if device is not None or exc.__cause__ is None:  # meta asked for, or our own check
                    raise
                notes.append(f"counted on {home.type}: the meta pass failed ({exc.__cause__!r:.120})")
        if result is None:
            x = C.make_input((batch_size, *shape), dtype, run_device)
            result = C.run_counted(model, x, on_meta=False)
            used = str(run_device)
        rec, counter, _ = result
        C.add_uncalled(rec)
        C.assign_params(rec)
        out = _build(model, rec, counter, shape, batch_size, dtype, used, depth, name, notes)
        if profile:
            from cnnlab.analysis.profile import profile_summary

            profile_summary(model, out, (batch_size, *shape), dtype, run_device, depth, repeats)
    return out


def _plan_device(device: DeviceArg, home: torch.device):
    """(try meta first?, device of a real pass)."""
    if device is None:
        return True, home
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"`device` must be None, 'meta' or a torch device such as 'cpu'; got {device!r}") from None
    if dev.type == "meta":
        return True, home
    if dev.type != home.type:
        raise ConfigError(f"`device` {dev} differs from the model's device {home}; move the model "
                          f"with model.to({str(dev)!r}) first")
    return False, home


def _build(model, rec: C.Recorder, counter: C.OpCounter, shape, batch_size, dtype, used, depth,
           name, notes) -> Summary:
    limit = depth if depth is not None else 10**9
    calls = rec.calls
    shown = {c.index for c in calls if c.depth <= limit}
    target = {}
    for c in calls:
        t = c
        while t.index not in shown:
            t = calls[t.parent] if t.parent is not None else calls[0]
        target[c.index] = t.index
    rows = {i: LayerRecord(name=calls[i].name, type=type(calls[i].module).__name__, depth=calls[i].depth,
                           call=calls[i].call) for i in shown}
    geometry = {i: [] for i in shown}
    uncounted = {i: set() for i in shown}
    for c in calls:
        r = rows[target[c.index]]
        r.params += c.params
        r.trainable_params += c.trainable
        r.macs += c.macs
        r.flops += c.flops
        geometry[target[c.index]].extend(c.geometry)
        uncounted[target[c.index]].update(c.uncounted)
    for i, r in rows.items():
        c = calls[i]
        r.is_leaf = not any(True for _ in c.module.children())
        r.output_shape = c.output_shape
        r.activation_bytes = c.output_bytes
        r.uncounted_ops = sorted(uncounted[i])
        if c.field is not None:
            r.receptive_field = _axes([f.rf for f in c.field.fields])
            r.jump = _axes([f.jump for f in c.field.fields])
            r.start = _axes([f.start for f in c.field.fields])
            r.rf_merged = c.field.merged
        if len(geometry[i]) == 1:
            g = geometry[i][0][1]
            for key in ("kernel_size", "stride", "padding", "dilation", "groups"):
                setattr(r, key, g.get(key))
    order = [c.index for c in calls if c.index in shown]
    root = rows.get(0)
    if root is not None and len(order) > 1 and not (root.params or root.macs or root.flops or root.uncounted_ops):
        order.remove(0)  # like Keras: the model itself is no row unless it owns something

    params = list({id(p): p for p in model.parameters()}.values())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    uncounted_calls = {}
    for c in calls:
        for op, n in c.uncounted.items():
            uncounted_calls[op] = uncounted_calls.get(op, 0) + n
    rfs = [max(f.rf for f in c.field.fields) for c in calls if c.field is not None and not c.field.global_pool]
    elem = torch.empty((), dtype=dtype).element_size()
    return Summary(
        model=name or type(model).__name__, input_shape=list(shape), batch_size=batch_size,
        dtype=str(dtype).replace("torch.", ""), device=used, depth=depth,
        layers=[rows[i] for i in order], total_params=total, trainable_params=trainable,
        non_trainable_params=total - trainable, total_macs=sum(c.macs for c in calls),
        total_flops=sum(c.flops for c in calls), uncounted_ops=sorted(uncounted_calls),
        uncounted_calls=dict(sorted(uncounted_calls.items())),
        param_bytes=C.tensor_bytes(params), buffer_bytes=C.tensor_bytes(model.buffers()),
        input_bytes=batch_size * C.prod(shape) * elem, activation_bytes=counter.allocated_bytes,
        receptive_field=_num(max(rfs)) if rfs else None, notes=notes)
