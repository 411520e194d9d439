"""Cost rules per aten operator: multiply-accumulates (MACs) and floating-point operations (FLOPs).

The counter in :mod:`cnnlab.analysis.collect` sees every aten op a forward pass runs (below autograd,
after composite ops such as ``F.conv2d``, ``F.linear`` or ``x @ w`` have decomposed) and asks
:func:`op_cost` what it costs, from the shapes the op really ran with. Rules are keyed by the op's
overload-packet name (``"convolution"``, ``"addmm"``, ``"relu_"`` …); in-place variants (trailing
``_``) cost what their out-of-place op costs. The module is duck-typed on ``.shape`` and ``.numel()``
and does not import torch.

The rules (FLOPs = 2 × MACs for multiply-accumulate ops, as in the lecture notes and fvcore):

==============================  =====================================  ===========================
op family                        MACs                                    FLOPs
==============================  =====================================  ===========================
convolution (any dims, groups)   N·Cout·OH·OW·(Cin/groups)·KH·KW         2 × MACs
transposed convolution           N·Cin·H·W·(Cout/groups)·KH·KW           2 × MACs
mm / addmm / bmm / baddbmm / mv  M·K·N (× batch)                         2 × MACs (bias not counted)
fused attention (SDPA, MHA)      Q·Kᵀ + P·V (+ projections for MHA)      2 × MACs + 3 per score
elementwise, activations         0                                       1 per output element
addcmul, addcdiv, lerp           0                                       2 per output element
reductions (sum, mean, max …)    0                                       1 per input element
max / avg pooling                0                                       KH·KW per output element
adaptive pooling                 0                                       ⌈H/OH⌉·⌈W/OW⌉ per output el.
batch norm                       0                                       2 per element (inference:
                                                                         x·a + b), 4 when training
layer / group norm               0                                       4 per element
softmax, log-softmax             0                                       3 per element
linear / bilinear / bicubic up.  0                                       2 per tap per output element
views, copies, cat, pad, index   0                                       0 (data movement)
==============================  =====================================  ===========================

Anything else returns ``None`` from :func:`op_cost`, and the collector lists it as uncounted.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

Cost = Tuple[int, int]  # (MACs, FLOPs)

# Convolutions whose argument 1 is the weight; transposed-ness read from the arguments where present.
CONV_OPS = {"convolution", "_convolution", "convolution_overrideable", "cudnn_convolution",
            "mkldnn_convolution", "miopen_convolution", "miopen_depthwise_convolution",
            "_slow_conv2d_forward", "thnn_conv2d", "slow_conv3d", "slow_conv3d_forward",
            "slow_conv_dilated2d", "slow_conv_dilated3d", "_conv_depthwise2d", "conv_depthwise3d",
            "_nnpack_spatial_convolution", "_mps_convolution", "mkldnn_convolution_pointwise"}
CONV_TRANSPOSE_OPS = {"slow_conv_transpose2d", "slow_conv_transpose3d", "cudnn_convolution_transpose",
                      "miopen_convolution_transpose", "_mps_convolution_transpose"}

ELEMENTWISE_OPS = {
    "add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "neg", "abs", "relu", "relu6",
    "hardtanh", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh",
    "hardsigmoid", "hardswish", "hardshrink", "softshrink", "softplus", "log_sigmoid_forward",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "pow",
    "square", "clamp", "clamp_min", "clamp_max", "clip", "maximum", "minimum", "fmax", "fmin", "eq",
    "ne", "gt", "ge", "lt", "le", "where", "sign", "sgn", "floor", "ceil", "round", "trunc", "frac",
    "remainder", "fmod", "erf", "erfc", "erfinv", "sin", "cos", "tan", "atan", "atan2", "sinh",
    "cosh", "threshold", "_prelu_kernel", "prelu", "glu", "logical_not", "logical_and",
    "logical_or", "logical_xor", "masked_fill", "logit", "native_dropout", "bernoulli", "xlogy",
    "isnan", "isinf", "nan_to_num", "hypot", "copysign", "heaviside", "rrelu_with_noise",
}
TWO_FLOP_OPS = {"addcmul", "addcdiv", "lerp"}
REDUCTION_OPS = {"sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "var",
                 "std", "var_mean", "std_mean", "norm", "linalg_vector_norm", "logsumexp", "cumsum",
                 "cumprod", "all", "any", "nansum", "nanmean", "aminmax", "topk", "count_nonzero"}
POOL_OPS = {"max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices",
            "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "mkldnn_max_pool2d",
            "mkldnn_max_pool3d", "quantized_max_pool2d", "max_pool1d_with_indices", "lp_pool2d"}
ADAPTIVE_POOL_OPS = {"_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d",
                     "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
                     "adaptive_max_pool2d", "adaptive_max_pool3d", "mkldnn_adaptive_avg_pool2d"}
BATCH_NORM_TRAINING_ARG = {"native_batch_norm": 5, "_native_batch_norm_legit": 5,
                           "_native_batch_norm_legit_functional": 5, "cudnn_batch_norm": 5,
                           "miopen_batch_norm": 5, "_batch_norm_with_update": None,
                           "_batch_norm_no_update": None, "_native_batch_norm_legit_no_training": None}
NORM_OPS = {"native_layer_norm", "native_group_norm", "_fused_rms_norm", "rms_norm"}
SOFTMAX_OPS = {"_softmax", "_log_softmax", "softmax", "log_softmax", "_safe_softmax"}
INTERP_TAPS = {"upsample_linear1d": 2, "upsample_bilinear2d": 4, "_upsample_bilinear2d_aa": 4,
               "upsample_trilinear3d": 8, "upsample_bicubic2d": 16, "_upsample_bicubic2d_aa": 16,
               "grid_sampler_2d": 4, "grid_sampler_3d": 8}
ZERO_COST_OPS = {
    # views and reshapes
    "view", "_unsafe_view", "reshape", "_reshape_alias", "alias", "as_strided", "t", "transpose",
    "permute", "expand", "squeeze", "unsqueeze", "flatten", "unflatten", "view_as_real",
    "view_as_complex", "diagonal", "unfold", "slice", "select", "narrow", "split",
    "split_with_sizes", "unbind", "chunk", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk",
    "movedim", "detach", "lift_fresh", "lift_fresh_copy",
    # copies, layout and dtype changes
    "contiguous", "clone", "copy", "_to_copy", "to", "_copy_from", "_copy_from_and_resize",
    "set", "resize", "as_strided_scatter", "view_copy", "slice_scatter", "select_scatter",
    # joining, padding and gathering
    "cat", "stack", "constant_pad_nd", "pad", "reflection_pad1d", "reflection_pad2d",
    "reflection_pad3d", "replication_pad1d", "replication_pad2d", "replication_pad3d",
    "embedding", "index_select", "gather", "index", "index_put", "_index_put_impl", "scatter",
    "masked_select", "repeat", "tile", "roll", "flip", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "native_channel_shuffle", "im2col", "max_unpool2d", "max_unpool3d",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
    "_upsample_nearest_exact2d", "_upsample_nearest_exact3d",
    # creation (random values included: drawing them is not arithmetic on activations)
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
    "fill", "zero", "scalar_tensor", "arange", "linspace", "rand", "rand_like", "randn",
    "randn_like", "randint", "randint_like", "randperm", "normal", "uniform", "_local_scalar_dense",
    "item", "_assert_async", "_assert_scalar", "sym_constrain_range_for_size", "_functional_assert_async",
}


def base_name(op_name: str) -> str:
    """The out-of-place name of an op: ``"relu_"`` → ``"relu"``; ``"__and__"`` is kept."""
    if op_name.endswith("_") and not op_name.endswith("__"):
        return op_name[:-1]
    return op_name


def _shape(t: Any) -> Tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


def _numel(t: Any) -> int:
    return math.prod(_shape(t))


def _first_tensor(x: Any) -> Any:
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return x
    if isinstance(x, (list, tuple)):
        for item in x:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _ints(value: Any, dims: int) -> Tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * dims
    vals = tuple(int(v) for v in value)
    return vals * dims if len(vals) == 1 else vals


def conv_macs(args: Sequence[Any], out: Any, transposed: bool) -> int:
    """MACs of a convolution from its input (arg 0), weight (arg 1) and output.

    Non-transposed: every output element is a dot product over (Cin/groups)·KH·KW weights, so
    MACs = numel(out) · prod(weight.shape[1:]). Transposed: every input element is scattered through
    (Cout/groups)·KH·KW weights (weight is Cin × Cout/groups × KH × KW), MACs = numel(x) · prod(weight.shape[1:]).
    """
    x, w = args[0], args[1]
    per = math.prod(_shape(w)[1:])
    return (_numel(x) if transposed else _numel(_first_tensor(out))) * per


def matmul_macs(name: str, args: Sequence[Any]) -> int:
    """MACs of mm/addmm/bmm/baddbmm/addbmm/mv/addmv/dot: M·K·N (× batch)."""
    if name in ("addmm", "baddbmm", "addbmm", "addmv", "addr"):
        a, b = args[1], args[2]
    else:
        a, b = args[0], args[1]
    sa, sb = _shape(a), _shape(b)
    if name in ("mv", "addmv"):
        return sa[0] * sa[1]
    if name in ("dot", "vdot"):
        return sa[0]
    if name == "addr":
        return sa[0] * sb[0]
    if name in ("bmm", "baddbmm", "addbmm"):
        return sa[0] * sa[1] * sa[2] * sb[2]
    return sa[0] * sa[1] * sb[1]


SDPA_OPS = {"_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
            "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
            "_scaled_dot_product_attention_math", "_scaled_dot_product_fused_attention_overrideable"}


def attention_cost(name: str, args: Sequence[Any]) -> Cost:
    """Fused attention: Q·Kᵀ and P·V as matmuls (MACs), softmax 3 FLOPs per score.

    ``_native_multi_head_attention`` adds the packed Q/K/V projection (3·E·E per token) and the output
    projection (E·E per token); q, k, v are (…, L, E), (…, S, E), (…, S, Ev) for SDPA and (N, L, E)
    with ``num_head`` heads for multi-head attention.
    """
    q, k, v = args[0], args[1], args[2]
    sq, sk, sv = _shape(q), _shape(k), _shape(v)
    if name == "_native_multi_head_attention":
        n, l, e = sq
        s = sk[1]
        heads = int(args[4])
        proj = n * l * e * 3 * e if (q is k and k is v) else n * (l * e * e + 2 * s * e * e)
        macs = proj + 2 * n * l * s * e + n * l * e * e
        scores = n * heads * l * s
    else:
        rows = math.prod(sq[:-1])
        macs = rows * sk[-2] * sq[-1] + rows * sk[-2] * sv[-1]
        scores = rows * sk[-2]
    return macs, 2 * macs + 3 * scores


MATMUL_OPS = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot", "addr",
              "_scaled_mm", "linear"}


def op_cost(op_name: str, args: Sequence[Any], kwargs: dict, out: Any) -> Optional[Cost]:
    """(MACs, FLOPs) of one executed op, or ``None`` when no rule covers it.

    Args:
        op_name: the overload-packet name, e.g. ``"convolution"`` or ``"add_"``.
        args, kwargs: the op's arguments as it ran (tensors have ``.shape``).
        out: what the op returned (a tensor or a tuple of them).
    """
    name = base_name(op_name)
    if name in CONV_OPS:
        transposed = bool(args[6]) if name in ("convolution", "_convolution", "convolution_overrideable") \
            and len(args) > 6 else False
        macs = conv_macs(args, out, transposed)
        return macs, 2 * macs
    if name in CONV_TRANSPOSE_OPS:
        macs = conv_macs(args, out, True)
        return macs, 2 * macs
    if name in MATMUL_OPS:
        if name == "linear":  # only reaches dispatch on some backends: out[..., N] · K
            macs = _numel(_first_tensor(out)) * _shape(args[1])[-1]
        elif name == "_scaled_mm":
            macs = _shape(args[0])[0] * _shape(args[0])[1] * _shape(args[1])[1]
        else:
            macs = matmul_macs(name, args)
        return macs, 2 * macs
    if name in SDPA_OPS or name == "_native_multi_head_attention":
        return attention_cost(name, args)
    if name in ZERO_COST_OPS:
        return 0, 0
    first_out = _first_tensor(out)
    if name in ELEMENTWISE_OPS:
        return 0, _numel(first_out) if first_out is not None else 0
    if name in TWO_FLOP_OPS:
        return 0, 2 * _numel(first_out)
    if name in REDUCTION_OPS:
        return 0, _numel(_first_tensor(args))
    if name in POOL_OPS:
        x = args[0]
        dims = len(_shape(x)) - 2 if name not in ("max_pool1d", "avg_pool1d", "max_pool1d_with_indices") else 1
        dims = max(dims, 1)
        kernel = _ints(args[1] if len(args) > 1 else kwargs["kernel_size"], dims)
        return 0, _numel(first_out) * math.prod(kernel)
    if name in ADAPTIVE_POOL_OPS:
        x = args[0]
        dims = len(_shape(first_out)) - 2 if len(_shape(first_out)) > 2 else 1
        in_sp, out_sp = _shape(x)[-dims:], _shape(first_out)[-dims:]
        window = math.prod(math.ceil(i / max(o, 1)) for i, o in zip(in_sp, out_sp))
        return 0, _numel(first_out) * window
    if name in BATCH_NORM_TRAINING_ARG:
        idx = BATCH_NORM_TRAINING_ARG[name]
        training = bool(args[idx]) if idx is not None and len(args) > idx else False
        if name == "_batch_norm_with_update":
            training = True
        return 0, (4 if training else 2) * _numel(args[0])
    if name in NORM_OPS:
        return 0, 4 * _numel(args[0])
    if name in SOFTMAX_OPS:
        return 0, 3 * _numel(args[0])
    if name in INTERP_TAPS:
        return 0, 2 * INTERP_TAPS[name] * _numel(first_out)
    return None
