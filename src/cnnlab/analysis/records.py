"""Plain records of a model summary: one :class:`LayerRecord` per module call, one :class:`Summary`.

The "record" step of collect → record → render (torchinfo's ``layer_info.py``): the collector
(:mod:`cnnlab.analysis.collect`) fills these dataclasses from hooks and the dispatch-level op counter;
the renderers (:mod:`cnnlab.analysis.render`) turn them into text, markdown, JSON or HTML. Nothing here
imports torch, so records can be rebuilt from JSON (:meth:`Summary.from_dict`) and rendered anywhere.

Counting conventions (also printed under every table, see :data:`COUNTING_NOTE`):

- **MACs** are multiply-accumulates of convolution and matrix-product ops (``aten.convolution``,
  ``mm``, ``addmm``, ``bmm``, ``baddbmm``, attention), counted from the shapes the op really ran with:
  Cout·OH·OW·(Cin/groups)·KH·KW per image for a convolution, M·K·N for a matrix product. Bias additions
  fused into those ops are not counted (as in fvcore and ``torch.utils.flop_counter``).
- **FLOPs** are 2 × MACs for those ops, plus the other ops by the rules of :mod:`cnnlab.analysis.opcount`
  (1 per output element for elementwise ops and activations, 1 per input element for reductions,
  KH·KW per output element for pooling, 2 per element for inference batch norm, 3 for softmax, ...).
- Ops that move data (views, reshapes, concatenation, padding, copies) cost 0 by rule. Every other op
  seen is listed in ``uncounted_ops``; it is never a silent zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional, Union

Shape = List[int]
RF = Union[int, float, List[Union[int, float]], None]

#: The keys of :meth:`Summary.to_dict`, in order (the JSON contract of ``cnnlab summary --format json``).
CONTRACT_KEYS = ("model", "input_shape", "layers", "total_params", "trainable_params",
                 "non_trainable_params", "total_macs", "total_flops", "uncounted_ops")

#: The keys every layer dict carries (the contract names first, then cnnlab's extra columns).
LAYER_KEYS = ("name", "type", "output_shape", "params", "trainable_params", "macs", "flops",
              "receptive_field", "jump", "start", "rf_merged", "kernel_size", "stride", "padding",
              "dilation", "groups", "activation_bytes", "depth", "call", "is_leaf", "uncounted_ops",
              "forward_ms", "backward_ms", "gflops_per_s")

COUNTING_NOTE = (
    "MACs: multiply-accumulates of conv/matmul ops (aten level, functional calls included); "
    "FLOPs = 2 x MACs + other ops (elementwise/activation 1 per output element, reduction 1 per "
    "input element, pooling KH*KW per output element, batch norm 2 per element in inference, "
    "softmax 3 per element); views/copies/concat/padding count 0; anything else is listed as "
    "uncounted."
)

MEMORY_NOTE = (
    "Activation memory (forward) is the bytes of every tensor the forward pass allocates (op "
    "outputs that are not views or in-place results; max-pool indices included); the "
    "forward/backward estimate is 2 x that (each saved activation gets a gradient of its size, as "
    "torchinfo estimates). Out mem is the size of each row's output. RF/Jump/Start: receptive "
    "field, effective stride and centre of the first output's field in input pixels (pixel "
    "centres at 0.5), along the executed graph."
)


@dataclass
class LayerRecord:
    """One row of the summary: one call of one module (a module called twice gives two rows).

    Counts (``params``, ``macs``, ``flops``) are those of the row itself plus those of its descendants
    that are not shown (deeper than the summary's ``depth``), so each column sums to the model total.
    """

    name: str
    type: str
    depth: int
    call: int = 1
    is_leaf: bool = True
    output_shape: Optional[List[Any]] = None  # [N, C, H, W]; a list of shapes for tuple outputs
    params: int = 0
    trainable_params: int = 0
    macs: int = 0
    flops: int = 0
    receptive_field: RF = None
    jump: RF = None
    start: RF = None
    rf_merged: bool = False  # the field is the largest of several merged paths (residual, concat)
    kernel_size: Optional[List[int]] = None
    stride: Optional[List[int]] = None
    padding: Optional[Any] = None
    dilation: Optional[List[int]] = None
    groups: Optional[int] = None
    activation_bytes: int = 0
    uncounted_ops: List[str] = field(default_factory=list)
    forward_ms: Optional[float] = None
    backward_ms: Optional[float] = None
    gflops_per_s: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        """The layer as a JSON-able dict with the keys of :data:`LAYER_KEYS`."""
        d = asdict(self)
        return {k: d[k] for k in LAYER_KEYS}


@dataclass
class Summary:
    """The summary of a model for one input shape; render it with :meth:`render` or ``str()``.

    Attributes hold plain ints/floats/strings. Memory figures are bytes. ``peak_gflops`` is the
    matmul peak measured in the same process when the summary was profiled.
    """

    model: str
    input_shape: List[Any]
    batch_size: int
    dtype: str
    device: str
    depth: Optional[int]
    layers: List[LayerRecord]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_macs: int
    total_flops: int
    uncounted_ops: List[str]
    param_bytes: int = 0
    buffer_bytes: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0
    receptive_field: RF = None
    uncounted_calls: Dict[str, int] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    profiled: bool = False
    peak_gflops: Optional[float] = None
    forward_ms: Optional[float] = None
    backward_ms: Optional[float] = None

    @property
    def forward_backward_bytes(self) -> int:
        """Estimated activation memory of a training step: outputs plus their gradients."""
        return 2 * self.activation_bytes

    @property
    def total_bytes(self) -> int:
        """Input + parameters + buffers + forward/backward activations (torchinfo's estimate)."""
        return self.input_bytes + self.param_bytes + self.buffer_bytes + self.forward_backward_bytes

    def layer(self, name: str, call: int = 1) -> LayerRecord:
        """The row of module ``name`` (its ``call``-th call); raises ``KeyError`` naming the known rows."""
        for rec in self.layers:
            if rec.name == name and rec.call == call:
                return rec
        known = ", ".join(sorted({r.name for r in self.layers})[:20])
        raise KeyError(f"no layer named {name!r} (call {call}) in the summary; known: {known}")

    def to_dict(self, extended: bool = False) -> Dict[str, Any]:
        """The summary as a JSON-able dict.

        Args:
            extended: add the keys beyond the contract (batch size, dtype, memory, profile, notes).

        Returns:
            exactly :data:`CONTRACT_KEYS` (plus the extended keys when asked).
        """
        d: Dict[str, Any] = {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "layers": [r.to_dict() for r in self.layers],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_macs": self.total_macs,
            "total_flops": self.total_flops,
            "uncounted_ops": list(self.uncounted_ops),
        }
        if extended:
            for f in fields(self):
                if f.name not in d:
                    d[f.name] = getattr(self, f.name)
            d["forward_backward_bytes"] = self.forward_backward_bytes
            d["total_bytes"] = self.total_bytes
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Summary":
        """Rebuild a summary from :meth:`to_dict` output (extended or not)."""
        names = {f.name for f in fields(cls)}
        layer_names = {f.name for f in fields(LayerRecord)}
        kw = {k: v for k, v in d.items() if k in names and k != "layers"}
        kw.setdefault("batch_size", 1)
        kw.setdefault("dtype", "float32")
        kw.setdefault("device", "")
        kw.setdefault("depth", None)
        layers = [LayerRecord(**{k: v for k, v in ld.items() if k in layer_names}) for ld in d["layers"]]
        return cls(layers=layers, **kw)

    def render(self, format: str = "text") -> str:
        """Render as ``"text"`` (Keras-like table), ``"markdown"``, ``"json"`` or ``"html"``."""
        from cnnlab.analysis.render import render

        return render(self, format)

    def __str__(self) -> str:
        return self.render("text")
