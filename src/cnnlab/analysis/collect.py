"""Collect a model summary: run one forward pass under hooks and a dispatch-level op counter.

How it works (torchinfo's hooks + ``torch.utils.flop_counter``'s dispatch mode, joined):

- Forward pre/post hooks on every module keep a stack of module *calls*; they are registered inside a
  context manager and removed in ``finally`` (the model keeps no hooks, its ``training`` flags are
  restored).
- A :class:`~torch.utils._python_dispatch.TorchDispatchMode` sees every aten op below autograd, so
  ``F.conv2d`` and ``x @ w`` written inside a custom ``forward`` are counted like ``nn.Conv2d`` and
  ``nn.Linear``. Each op's cost (:mod:`cnnlab.analysis.opcount`) goes to the innermost module call
  running it; each op's output gets a receptive field (:mod:`cnnlab.analysis.fields`) kept in a weak
  table keyed by tensor, which the post hooks read for the module's output.
- By default the pass runs on the ``meta`` device (shapes only, no arithmetic) through
  :func:`torch.func.functional_call` with meta copies of the parameters, so a ResNet-50 summary costs
  a fraction of one real forward pass. Models that cannot run on meta (data-dependent control flow,
  tensors that are not registered parameters or buffers) fall back to a real pass on their device.
"""

from __future__ import annotations

import math
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from cnnlab.analysis import fields as F
from cnnlab.analysis.opcount import ELEMENTWISE_OPS, POOL_OPS, base_name, op_cost
from cnnlab.errors import ShapeError

# Ops the dispatch mode must not intercept (metadata queries; FlopCounterMode skips the same set).
_METADATA_OPS = {"sym_is_contiguous", "is_contiguous", "is_strides_like_format",
                 "is_non_overlapping_and_dense", "size", "sym_size", "stride", "sym_stride",
                 "storage_offset", "sym_storage_offset", "numel", "sym_numel", "dim", "layout"}


@dataclass
class Call:
    """One call of one module during the counted forward pass (or a module never called: ``call=0``)."""

    index: int
    name: str
    module: nn.Module
    depth: int
    call: int
    parent: Optional[int]
    macs: int = 0
    flops: int = 0
    uncounted: Counter = field(default_factory=Counter)
    geometry: List[Tuple[str, Dict[str, Any]]] = field(default_factory=list)
    output_shape: Optional[List[Any]] = None
    output_bytes: int = 0
    field: Optional[F.TensorField] = None
    params: int = 0
    trainable: int = 0
    inputs: Optional[Tuple[Any, Any]] = None  # (args, kwargs) kept for profiling


class OpCounter(TorchDispatchMode):
    """Counts MACs/FLOPs per module call and propagates receptive fields through every aten op."""

    def __init__(self, recorder: "Recorder") -> None:
        super().__init__()
        self.recorder = recorder
        self.fields: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.allocated_bytes = 0  # bytes of op outputs that are neither views nor in-place results

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch would wrap __torch_dispatch__ in torch._dynamo.disable, whose first use imports
        # torch._dynamo (5-10 s here). The counter never runs under torch.compile.
        return False

    def lookup(self, t: Any) -> Optional[F.TensorField]:
        return self.fields.get(t) if isinstance(t, torch.Tensor) else None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__ if hasattr(func, "overloadpacket") else str(func)
        if name in _METADATA_OPS:
            return func(*args, **kwargs)
        fast = _META_FAST.get(name)
        if fast is None and name.endswith("_") and not name.startswith("_") and name[:-1] in ELEMENTWISE_OPS:
            fast = _meta_inplace
        elif fast is None and name in _FAST_ELEMENTWISE:
            fast = _meta_elementwise
        out = None
        lead = args[0] if args else None
        if name == "cat" and isinstance(lead, (list, tuple)):
            lead = lead[0] if lead else None
        if fast is not None and isinstance(lead, torch.Tensor) and lead.is_meta:
            try:
                out = fast(*args, **kwargs)
            except (_NeedsTorch, TypeError, ValueError, IndexError):
                out = None
        if out is None:
            out = func(*args, **kwargs)
        call = self.recorder.current()
        if call is None:  # ops outside any module call (none in a normal summary)
            return out
        try:
            cost = op_cost(name, args, kwargs, out)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            cost = None
        if cost is None:
            cost = _torch_registry_cost(func, args, kwargs, out)
        if cost is None:
            call.uncounted[f"aten.{name}"] += 1
        else:
            call.macs += cost[0]
            call.flops += cost[1]
            if cost[0] or base_name(name) in POOL_OPS:
                call.geometry.append((base_name(name), _geometry(base_name(name), args, kwargs)))
        self.allocated_bytes += _new_bytes(func, out)
        for t, info in F.propagate(name, args, kwargs, out, self.lookup):
            self.fields[t] = info
        return out


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


def _torch_registry_cost(func, args, kwargs, out) -> Optional[Tuple[int, int]]:
    """Cost from ``torch.utils.flop_counter``'s registry (attention kernels …): FLOPs, MACs = FLOPs/2."""
    from torch.utils.flop_counter import flop_registry

    packet = getattr(func, "overloadpacket", None)
    if packet not in flop_registry:
        return None
    try:
        flops = int(flop_registry[packet](*args, **kwargs, out_val=out))
    except Exception:  # a formula that does not accept these arguments: report the op as uncounted
        return None
    return flops // 2, flops


def _geometry(name: str, args, kwargs) -> Dict[str, Any]:
    """Kernel/stride/padding/dilation/groups of a conv or pooling op as it ran."""
    if name in POOL_OPS:
        kernel, stride, padding, dilation = F.pool_geometry(name, args, kwargs)
        return {"kernel_size": list(kernel), "stride": list(stride), "padding": list(padding),
                "dilation": list(dilation), "groups": None}
    w = args[1] if len(args) > 1 and isinstance(args[1], torch.Tensor) else None
    if name in F.CONV_FIELD_OPS and w is not None:
        dims = w.dim() - 2
        return {"kernel_size": list(w.shape[2:]), "stride": list(F._ints(args[3], dims)),
                "padding": list(F._ints(args[4], dims)), "dilation": list(F._ints(args[5], dims)),
                "groups": int(args[8]) if len(args) > 8 else 1}
    return {}


def _new_bytes(func, out) -> int:
    """Bytes of the outputs an op allocates (outputs that alias an input, views or in-place, are free)."""
    schema = getattr(func, "_schema", None)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = 0
    for i, t in enumerate(outs):
        if not isinstance(t, torch.Tensor):
            continue
        aliased = schema is not None and i < len(schema.returns) and schema.returns[i].alias_info is not None
        if not aliased:
            total += t.numel() * t.element_size()
    return total


def _shapes(out: Any) -> Optional[List[Any]]:
    if isinstance(out, torch.Tensor):
        return [int(s) for s in out.shape]
    if isinstance(out, (tuple, list)):
        shapes = [_shapes(o) for o in out]
        return [s for s in shapes if s is not None] or None
    if isinstance(out, dict):
        return _shapes(list(out.values()))
    return None


def _tensors(out: Any) -> List[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    if isinstance(out, dict):
        return _tensors(list(out.values()))
    return []


_SPATIAL_MODULES = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)


def _check_rank(name: str, module: nn.Module, args) -> None:
    """torch treats a conv/pool input one axis short as *unbatched*; here, where the batch axis is
    always added, that means ``input_shape`` lacks an axis: say so instead of failing layers later."""
    if not isinstance(module, _SPATIAL_MODULES) or not args or not isinstance(args[0], torch.Tensor):
        return
    ks = module.kernel_size
    dims = len(ks) if isinstance(ks, tuple) else int(type(module).__name__[-2])
    x = args[0]
    if x.dim() == dims + 1:
        axes = {1: "C, L", 2: "C, H, W", 3: "C, D, H, W"}.get(dims, "C, ...")
        raise ShapeError(f"`input_shape` must have {dims + 1} axes ({axes}) for layer {name or '(model)'!r} "
                         f"({type(module).__name__}); it received {tuple(x.shape)}, batch axis included")


class Recorder:
    """Forward hooks on every module of a model, building the list of :class:`Call` records."""

    def __init__(self, model: nn.Module, keep_inputs: bool = False) -> None:
        self.model = model
        self.keep_inputs = keep_inputs
        self.calls: List[Call] = []
        self.stack: List[Call] = []
        self.counts: Counter = Counter()
        self.names = {id(m): n for n, m in model.named_modules()}
        self.counter: Optional[OpCounter] = None

    def current(self) -> Optional[Call]:
        return self.stack[-1] if self.stack else None

    def _pre(self, module, args, kwargs):
        name = self.names[id(module)]
        if self.counter is not None:
            _check_rank(name, module, args)
        self.counts[name] += 1
        parent = self.stack[-1].index if self.stack else None
        call = Call(index=len(self.calls), name=name, module=module,
                    depth=0 if name == "" else name.count(".") + 1, call=self.counts[name], parent=parent)
        if self.keep_inputs:
            call.inputs = (_clone(args), _clone(kwargs))
        self.calls.append(call)
        self.stack.append(call)

    def _post(self, module, args, kwargs, out):
        call = self.stack.pop()
        call.output_shape = _shapes(out)
        tensors = _tensors(out)
        call.output_bytes = sum(t.numel() * t.element_size() for t in tensors)
        if self.counter is not None:
            for t in tensors:
                info = self.counter.lookup(t)
                if info is not None:
                    call.field = info
                    break

    @contextmanager
    def hooked(self) -> Iterator["Recorder"]:
        """Register the hooks; always remove them."""
        handles = []
        try:
            for module in self.model.modules():
                handles.append(module.register_forward_pre_hook(self._pre, with_kwargs=True))
                handles.append(module.register_forward_hook(self._post, with_kwargs=True))
            yield self
        finally:
            for h in handles:
                h.remove()


def _clone(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, tuple):
        return tuple(_clone(v) for v in x)
    if isinstance(x, list):
        return [_clone(v) for v in x]
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
    return x


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Put every module in eval mode; restore each module's own ``training`` flag afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def make_input(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A model input: random normal floats, or zeros for integer dtypes (valid embedding indices)."""
    if device.type == "meta":
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    if dtype.is_floating_point or dtype.is_complex:
        g = torch.Generator(device="cpu").manual_seed(0)
        return torch.randn(tuple(shape), generator=g, dtype=dtype).to(device)
    return torch.zeros(tuple(shape), dtype=dtype, device=device)


def run_counted(model: nn.Module, x: torch.Tensor, on_meta: bool,
                keep_inputs: bool = False) -> Tuple[Recorder, OpCounter, Any]:
    """One forward pass of ``model`` on ``x`` under the hooks and the op counter.

    On meta, parameters and buffers are swapped for meta tensors with
    :func:`torch.func.functional_call`, so the model itself is untouched.

    Raises:
        ShapeError: the forward pass failed; the message names the module that raised.
    """
    rec = Recorder(model, keep_inputs=keep_inputs)
    counter = OpCounter(rec)
    rec.counter = counter
    info = F.input_field(tuple(x.shape))
    if info is not None:
        counter.fields[x] = info
    tensors: Dict[str, torch.Tensor] = {}
    if on_meta:
        meta: Dict[int, torch.Tensor] = {}  # tied tensors must stay one tensor
        for n, t in (list(model.named_parameters(remove_duplicate=False))
                     + list(model.named_buffers(remove_duplicate=False))):
            if id(t) not in meta:
                meta[id(t)] = t if t.is_meta else torch.empty(t.shape, dtype=t.dtype, device="meta")
            tensors[n] = meta[id(t)]
    with rec.hooked(), torch.no_grad():
        try:
            with counter:
                if on_meta:
                    out = torch.func.functional_call(model, tensors, (x,), tie_weights=True, strict=False)
                else:
                    out = model(x)
        except ShapeError:  # already a one-line shape error (our rank check, cnnlab layers)
            raise
        except Exception as exc:
            where = rec.stack[-1] if rec.stack else None
            layer = f"layer {where.name or '(model)'!r} ({type(where.module).__name__})" if where else "the model"
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ShapeError(f"`input_shape` {tuple(x.shape[1:])} does not fit the model: {layer} "
                             f"raised {type(exc).__name__}: {first}") from exc
    return rec, counter, out


def add_uncalled(rec: Recorder) -> None:
    """Add ``call=0`` records for modules the forward pass never called (their params still count)."""
    first: Dict[str, Call] = {}
    for c in rec.calls:
        first.setdefault(c.name, c)
    for name, module in rec.model.named_modules():
        if name in first:
            continue
        parent_name = name.rpartition(".")[0] if "." in name else ""
        parent = first.get(parent_name)
        c = Call(index=len(rec.calls), name=name, module=module, depth=name.count(".") + 1, call=0,
                 parent=parent.index if parent is not None else None)
        rec.calls.append(c)
        first[name] = c


def assign_params(rec: Recorder) -> None:
    """Give each parameter (shared ones once) to the first call of the module that owns it."""
    first: Dict[str, Call] = {}
    for c in rec.calls:
        first.setdefault(c.name, c)
    for pname, p in rec.model.named_parameters():
        owner = pname.rpartition(".")[0]
        c = first.get(owner)
        if c is None:
            continue
        c.params += p.numel()
        if p.requires_grad:
            c.trainable += p.numel()


def tensor_bytes(tensors) -> int:
    """Bytes of distinct tensors (shared parameters once)."""
    seen, total = set(), 0
    for t in tensors:
        if id(t) in seen:
            continue
        seen.add(id(t))
        total += t.numel() * t.element_size()
    return total


def prod(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)
