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
from cnnlab.analysis.metafast import fast_meta
from cnnlab.analysis.opcount import POOL_OPS, base_name, op_cost
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
        out = fast_meta(name, args, kwargs)
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


_POOL_DIMS = {nn.MaxPool1d: 1, nn.AvgPool1d: 1, nn.MaxPool2d: 2, nn.AvgPool2d: 2, nn.MaxPool3d: 3, nn.AvgPool3d: 3}


def _check_rank(name: str, module: nn.Module, args) -> None:
    """torch treats a conv/pool input one axis short as *unbatched*; here, where the batch axis is
    always added, that means ``input_shape`` lacks an axis: say so instead of failing layers later."""
    if isinstance(module, nn.modules.conv._ConvNd):
        dims = len(module.kernel_size)
    else:
        dims = next((d for cls, d in _POOL_DIMS.items() if isinstance(module, cls)), 0)
    if not dims or not args or not isinstance(args[0], torch.Tensor):
        return
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
