"""Shape-only fast paths for aten ops on the ``meta`` device, used by the summary's op counter.

torch implements many meta kernels in Python (``torch._refs``, ``torch._decomp``,
``torch._meta_registrations``): a ``native_batch_norm`` costs ~20 ms, a convolution ~2 ms, and the first
call of several of them imports sympy or torch._dynamo (seconds). A summary needs only each output's
shape and dtype, so for the ops CNNs run most these functions build the output directly from the
output-size formulas of :mod:`cnnlab.shapes`. Each declines (``_NeedsTorch``) on anything unusual
(mismatched shapes, mixed dtypes, odd arguments), and torch's kernel then runs and words the error.
The tests check every path against torch's real CPU kernels (``test_meta_pass_equals_real_pass*``).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch

from cnnlab.analysis import fields as F
from cnnlab.analysis.opcount import ELEMENTWISE_OPS


def _meta_batch_norm(x, weight, bias, running_mean, running_var, training=False, *rest, **kwargs):
    """Shapes of ``native_batch_norm``'s outputs on meta (torch's meta kernel is a slow Python
    decomposition: 20 ms a call, most of a ResNet-50 summary). Saved statistics have C entries when
    training and none in inference, as the CPU kernel returns them."""
    c = x.shape[1] if x.dim() > 1 and training is True else 0
    # torch.empty, not empty_like: the latter's meta kernel is a Python ref that imports sympy
    stat = torch.empty((c,), dtype=x.dtype, device=x.device)
    return torch.empty(x.shape, dtype=x.dtype, device=x.device), stat, torch.empty((c,), dtype=x.dtype, device=x.device)


def _meta_batch_norm_inference(x, weight, bias, running_mean, running_var, *rest, **kwargs):
    return _meta_batch_norm(x, weight, bias, running_mean, running_var, False)


def _meta_convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """Output of ``aten.convolution`` on meta from the output-size formula (torch's meta kernel is
    Python and costs ~2 ms a call); checked against torch's kernel in the tests."""
    from cnnlab.shapes import conv_output_size

    dims = weight.dim() - 2
    stride, padding, dilation, output_padding = (F._ints(v, dims) for v in
                                                 (stride, padding, dilation, output_padding))
    kernel = weight.shape[2:]
    if transposed:
        cout = weight.shape[1] * groups
        sizes = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, d, op in
                 zip(x.shape[2:], kernel, stride, padding, dilation, output_padding)]
    else:
        cout = weight.shape[0]
        sizes = [conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                 zip(x.shape[2:], kernel, stride, padding, dilation)]
    if x.shape[1] != (weight.shape[0] if transposed else weight.shape[1] * groups) or min(sizes, default=1) < 1:
        raise _NeedsTorch()
    return torch.empty((x.shape[0], cout, *sizes), dtype=x.dtype, device=x.device)


def _meta_reduce(x, dim=None, keepdim=False, *rest, dtype=None, **kwargs):
    """Output of ``mean``/``sum``/``amax`` over ``dim`` on meta (torch's meta kernel is a Python ref
    whose first call imports torch._dynamo, seconds of start-up). Global pooling runs this."""
    if rest and isinstance(rest[0], torch.dtype):
        dtype = rest[0]
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0) or not isinstance(keepdim, bool):
        raise _NeedsTorch()
    dims = {d % x.dim() for d in ([dim] if isinstance(dim, int) else dim)}
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keepdim or i not in dims]
    return torch.empty(shape, dtype=dtype or x.dtype, device=x.device)


def _meta_matmul(*args, **kwargs):
    """Output of ``mm``/``addmm``/``bmm`` on meta (torch's meta kernels are Python decompositions)."""
    a, b = (args[1], args[2]) if len(args) > 2 and isinstance(args[2], torch.Tensor) else (args[0], args[1])
    if a.dim() != b.dim() or a.shape[-1] != b.shape[-2] or a.dim() not in (2, 3) or a.shape[:-2] != b.shape[:-2]:
        raise _NeedsTorch()
    return torch.empty((*a.shape[:-1], b.shape[-1]), dtype=a.dtype, device=a.device)


def _meta_pool(name: str):
    """Output(s) of max/avg pooling on meta from the output-size formula (torch's meta kernels run
    ``torch._check``, whose first use imports sympy: seconds of start-up)."""
    from cnnlab.shapes import conv_output_size

    def fast(x, *args, **kwargs):
        kernel, stride, padding, dilation = F.pool_geometry(name, (x, *args), kwargs)
        ceil = args[4] if name.startswith("max") and len(args) > 4 else (
            args[3] if name.startswith("avg") and len(args) > 3 else kwargs.get("ceil_mode", False))
        dims = len(kernel)
        if x.dim() != dims + 2 or any(p > k // 2 for p, k in zip(padding, kernel)):
            raise _NeedsTorch()
        sizes = [conv_output_size(n, k, s, p, d, ceil_mode=bool(ceil))
                 for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)]
        if min(sizes) < 1:
            raise _NeedsTorch()
        out = torch.empty((*x.shape[:2], *sizes), dtype=x.dtype, device=x.device)
        if name.endswith("with_indices"):
            return out, torch.empty(out.shape, dtype=torch.int64, device=x.device)
        return out

    return fast


def _meta_inplace(x, *args, **kwargs):
    """In-place elementwise op on meta (``out += identity``, ``relu_``): the result is ``x`` itself,
    provided every tensor operand broadcasts to it (torch's meta kernel is a Python ref)."""
    for other in list(args) + list(kwargs.values()):
        if isinstance(other, torch.Tensor):
            if other.dim() > x.dim() or any(o not in (1, n) for o, n in zip(reversed(other.shape), reversed(x.shape))):
                raise _NeedsTorch()
            if other.dtype.is_floating_point and not x.dtype.is_floating_point:
                raise _NeedsTorch()
    return x


_FAST_ELEMENTWISE = {"add", "sub", "rsub", "mul", "div", "neg", "relu", "relu6", "hardtanh", "leaky_relu",
                     "elu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardsigmoid", "hardswish", "exp",
                     "clamp", "clamp_min", "clamp_max", "maximum", "minimum", "pow", "sqrt", "rsqrt",
                     "abs", "softplus"}


def _meta_elementwise(*args, **kwargs):
    """Out-of-place elementwise op on meta (``a + b`` in a residual block, activations): broadcast
    shape, same floating dtype. Anything else (mixed dtypes, odd operands) goes to torch's kernel."""
    tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
    scalars_ok = all(isinstance(a, (int, float, bool, torch.Tensor)) or a is None or isinstance(a, str)
                     for a in list(args) + list(kwargs.values()))
    dtype = tensors[0].dtype
    if not scalars_ok or not dtype.is_floating_point or any(t.dtype != dtype for t in tensors):
        raise _NeedsTorch()
    rank = max(t.dim() for t in tensors)
    shape = []
    for i in range(rank):
        sizes = {t.shape[t.dim() - rank + i] for t in tensors if t.dim() - rank + i >= 0} - {1}
        if len(sizes) > 1:
            raise _NeedsTorch()
        shape.append(sizes.pop() if sizes else 1)
    return torch.empty(shape, dtype=dtype, device=tensors[0].device)


def _meta_cat(tensors, dim=0):
    """``torch.cat`` on meta (inception and dense blocks; torch's meta kernel is a Python ref)."""
    tensors = list(tensors)
    first = tensors[0]
    rank = first.dim()
    d = dim % rank if rank else 0
    if rank == 0 or any(t.dim() != rank or t.dtype != first.dtype or
                        any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d)
                        for t in tensors):
        raise _NeedsTorch()
    shape = list(first.shape)
    shape[d] = sum(t.shape[d] for t in tensors)
    return torch.empty(shape, dtype=first.dtype, device=first.device)


def _meta_adaptive(with_indices: bool):
    """Adaptive pooling on meta: (N, C, *output_size) (torch's meta kernel imports sympy)."""

    def fast(x, output_size):
        size = [int(v) for v in ([output_size] if isinstance(output_size, int) else output_size)]
        if x.dim() < len(size) + 1 or min(size, default=0) < 1:
            raise _NeedsTorch()
        out = torch.empty((*x.shape[:x.dim() - len(size)], *size), dtype=x.dtype, device=x.device)
        return (out, torch.empty(out.shape, dtype=torch.int64, device=x.device)) if with_indices else out

    return fast


def _meta_upsample(x, output_size=None, *rest, **kwargs):
    """Upsampling on meta from ``output_size`` or the scale factors (torch's meta kernel imports sympy)."""
    if isinstance(output_size, (list, tuple)) and output_size:
        size = [int(v) for v in output_size]
    else:
        scales = next((r for r in reversed(rest) if isinstance(r, (list, tuple)) and r), None)
        scales = scales or kwargs.get("scale_factors")
        if not scales:
            raise _NeedsTorch()
        dims = x.dim() - 2
        size = [int(math.floor(n * float(f))) for n, f in zip(x.shape[2:], list(scales) * dims)][:dims]
    if len(size) != x.dim() - 2 or min(size) < 1:
        raise _NeedsTorch()
    return torch.empty((*x.shape[:2], *size), dtype=x.dtype, device=x.device)


class _NeedsTorch(Exception):
    """A fast meta path declines (unusual arguments, or an error torch should word)."""


_META_FAST = {"native_batch_norm": _meta_batch_norm, "_native_batch_norm_legit_no_training": _meta_batch_norm_inference,
              "convolution": _meta_convolution, "mean": _meta_reduce, "sum": _meta_reduce,
              "amax": _meta_reduce, "mm": _meta_matmul, "addmm": _meta_matmul, "bmm": _meta_matmul,
              "max_pool2d_with_indices": _meta_pool("max_pool2d_with_indices"),
              "max_pool3d_with_indices": _meta_pool("max_pool3d_with_indices"),
              "avg_pool2d": _meta_pool("avg_pool2d"), "avg_pool3d": _meta_pool("avg_pool3d"),
              "cat": _meta_cat, "_adaptive_avg_pool2d": _meta_adaptive(False),
              "_adaptive_avg_pool3d": _meta_adaptive(False), "adaptive_max_pool2d": _meta_adaptive(True),
              **{n: _meta_upsample for n in ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
                                             "_upsample_nearest_exact2d", "upsample_bilinear2d",
                                             "upsample_linear1d", "upsample_bicubic2d")}}


def fast_meta(name: str, args: Sequence[Any], kwargs: dict) -> Optional[Any]:
    """The output of op ``name`` on meta tensors without torch's kernel, or ``None`` to run it."""
    fast = _META_FAST.get(name)
    if fast is None and name.endswith("_") and not name.startswith("_") and name[:-1] in ELEMENTWISE_OPS:
        fast = _meta_inplace
    elif fast is None and name in _FAST_ELEMENTWISE:
        fast = _meta_elementwise
    if fast is None:
        return None
    lead = args[0] if args else None
    if name == "cat" and isinstance(lead, (list, tuple)):
        lead = lead[0] if lead else None
    if not (isinstance(lead, torch.Tensor) and lead.is_meta):
        return None
    try:
        return fast(*args, **kwargs)
    except (_NeedsTorch, TypeError, ValueError, IndexError):
        return None
