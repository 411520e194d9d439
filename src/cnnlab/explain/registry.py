"""The one registry of attribution methods: name → how to build it, what it attributes to, how to draw it.

The library (``cnnlab.explain.attribute``), ``cnnlab explain`` and the report all dispatch through it,
so a new method is one new file (a class constructed with the model, and the layer for layer methods,
with ``.attribute(x, target=None, ...)``) plus one :func:`register` line in :data:`_BUILTIN` below.

Kinds:
- ``"input"``: the attribution is shaped like the input (saliency, guided back-prop, occlusion, ...);
  the input must be floating point.
- ``"layer"``: the attribution is computed at a chosen layer's output (Grad-CAM maps, layer gradient ×
  activation); the input may be anything the model takes (int64 token ids too).

Classes are named as ``"module:Class"`` strings and imported on first use, so listing the names (the
CLI's ``--help``) does not import torch.

Example (one new file ``cnnlab/explain/gradsign.py`` with ``class GradientSign``, then one line)::

    register("gradient-sign", "cnnlab.explain.gradsign:GradientSign", kind="input", display="signed")
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import ConfigError, UnknownNameError

KINDS = ("input", "layer")
DISPLAYS = ("magnitude", "signed", "map", "occlusion", "layer")


def _load(ref):
    """A class or function given directly or as ``"module:attribute"`` (imported here, on first use)."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Method:
    """One registered attribution method.

    Attributes:
        name: the name users type (``--method NAME``).
        kind: ``"input"`` or ``"layer"`` (see the module docstring).
        ref: the class, or ``"module:Class"``.
        factory: builds the object, ``factory(model, [layer,] **options)``; ``None`` = the class itself.
        takes_layer: whether it is built with a ``layer`` (every layer method; guided Grad-CAM, an input
            method, too). A method built with a layer exposes the module it used as ``.layer``.
        display: how the command and the report draw it: ``"magnitude"`` (|attribution|, max over
            channels, heat map), ``"signed"`` (signed image), ``"map"`` (one N×1×H×W heat map + overlay),
            ``"occlusion"`` (diverging map + the occluded-probability maps), ``"layer"`` (channel sum of
            a layer-shaped attribution, diverging).
        options: keyword options of ``.attribute`` beyond ``target`` that a workflow may pass
            (occlusion: ``window``, ``stride``, ``baseline``).
        summary: one line for listings.
    """

    name: str
    kind: str
    ref: Any
    factory: Any = None
    takes_layer: bool = False
    display: str = "magnitude"
    options: tuple[str, ...] = ()
    summary: str = ""

    @property
    def cls(self) -> type:
        """The class of the objects :meth:`create` returns."""
        return _load(self.ref)

    def create(self, model, layer=None, **options):
        """Build the method on ``model`` (and ``layer``: a module, its dotted name, or ``None`` = the default).

        Args:
            model: any ``torch.nn.Module``.
            layer: only for methods with ``takes_layer``.
            options: constructor options (e.g. SmoothGrad's ``n_samples``).

        Returns:
            An object with ``.attribute(x, target=None, **options)``.

        Raises:
            ConfigError: a ``layer`` for a method that takes none.
        """
        build = _load(self.factory if self.factory is not None else self.ref)
        if self.takes_layer:
            return build(model, layer, **options)
        if layer is not None:
            raise ConfigError(f"method {self.name!r} attributes to the input and takes no `layer`; got {layer!r}")
        return build(model, **options)


@dataclass
class Attribution:
    """What :func:`attribute` returns: the method, the object that computed it, and the values."""

    method: Method
    explainer: Any
    value: Any  # torch.Tensor: shaped like the input ("input" kind) or the layer's output ("layer" kind)

    @property
    def layer(self):
        """The module the method attributed at (``None`` for methods without a layer)."""
        return self.explainer.layer if self.method.takes_layer else None


_REGISTRY: dict[str, Method] = {}


def register(name: str, ref: Any = None, *, kind: str, factory: Any = None, takes_layer: bool | None = None,
             display: str | None = None, options: tuple[str, ...] = (), summary: str = "",
             replace: bool = False):
    """Add an attribution method to the registry; usable as a function or as a class decorator.

    Args:
        name: the method's name (lower case, ``-`` separated).
        ref: the class or ``"module:Class"``; omitted = decorator form (``@register("x", kind="input")``).
        kind: ``"input"`` or ``"layer"``.
        factory: optional builder ``factory(model, [layer,] **options)`` or ``"module:function"``.
        takes_layer: default ``kind == "layer"``.
        display: default ``"magnitude"`` for input methods, ``"layer"`` for layer methods.
        options: ``.attribute`` keyword options a workflow may pass (see :class:`Method`).
        summary: one line for listings.
        replace: allow replacing an existing entry of the same name.

    Returns:
        The :class:`Method` (function form) or the decorator (which returns the class unchanged).

    Raises:
        ConfigError: an unknown kind or display, or a name already registered (without ``replace``).
    """
    if ref is None:
        def decorator(cls):
            register(name, cls, kind=kind, factory=factory, takes_layer=takes_layer, display=display,
                     options=options, summary=summary, replace=replace)
            return cls

        return decorator
    if kind not in KINDS:
        raise ConfigError(f"`kind` must be one of {', '.join(KINDS)}; got {kind!r}")
    display = display or ("layer" if kind == "layer" else "magnitude")
    if display not in DISPLAYS:
        raise ConfigError(f"`display` must be one of {', '.join(DISPLAYS)}; got {display!r}")
    if not isinstance(name, str) or not name or name != name.strip():
        raise ConfigError(f"`name` must be a non-empty string without surrounding spaces; got {name!r}")
    if name in _REGISTRY and not replace:
        raise ConfigError(f"explanation method {name!r} is already registered; pass replace=True to replace it")
    entry = Method(name, kind, ref, factory, kind == "layer" if takes_layer is None else bool(takes_layer),
                   display, tuple(options), summary)
    _REGISTRY[name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a method (for plug-ins and tests that register one temporarily).

    Raises:
        UnknownNameError: no method of that name.
    """
    get(name)
    del _REGISTRY[name]


def get(name: str) -> Method:
    """The registered method called ``name``.

    Raises:
        UnknownNameError: no such method; the message lists the known names.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"`method` must be one of {', '.join(_REGISTRY)}; got {name!r}") from None


def names(kind: str | None = None) -> list[str]:
    """Registered method names in registration order; ``kind`` = ``"input"`` or ``"layer"`` filters them.

    Raises:
        ConfigError: an unknown kind.
    """
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"`kind` must be one of {', '.join(KINDS)} or None; got {kind!r}")
    return [n for n, m in _REGISTRY.items() if kind is None or m.kind == kind]


def attribute(method: str | Method, model, x, target=None, *, layer=None, create_options: dict | None = None,
              **options) -> Attribution:
    """Build ``method`` on ``model`` and attribute the batch ``x``: the dispatcher the CLI and report use.

    Args:
        method: a registered name or a :class:`Method`.
        model: any ``torch.nn.Module``.
        x: the batch (floating point for input methods; any dtype for layer methods).
        target: class index / indices, ``None`` (the predicted class) or a callable ``score(output) -> (N,)``.
        layer: for methods that take one (module, dotted name, or ``None`` = the method's default).
        create_options: constructor options (e.g. ``{"n_samples": 8}`` for smoothgrad).
        options: ``.attribute`` options (e.g. occlusion's ``window``).

    Returns:
        An :class:`Attribution` (``.value`` is the tensor, ``.layer`` the module used).

    Example:
        >>> res = attribute("gradcam", model, x, target=3)        # doctest: +SKIP
        >>> res.value.shape, res.layer                           # doctest: +SKIP
    """
    entry = method if isinstance(method, Method) else get(method)
    explainer = entry.create(model, layer, **(create_options or {}))
    return Attribution(entry, explainer, explainer.attribute(x, target=target, **options))


_BUILTIN: tuple[tuple[str, str, dict[str, Any]], ...] = (
    # name, class, registration options: one line per method
    ("saliency", "cnnlab.explain.saliency:Saliency", dict(kind="input", summary="|∂score/∂x| (Simonyan et al. 2014)")),
    ("inputxgradient", "cnnlab.explain.saliency:InputXGradient", dict(kind="input", display="signed", summary="x ⊙ ∂score/∂x")),
    ("smoothgrad", "cnnlab.explain.saliency:SmoothGrad", dict(kind="input", factory="cnnlab.explain.saliency:smooth_saliency", summary="saliency averaged over noisy copies (Smilkov et al. 2017)")),
    ("guided", "cnnlab.explain.saliency:GuidedBackprop", dict(kind="input", display="signed", summary="guided back-propagation (Springenberg et al. 2015)")),
    ("deconv", "cnnlab.explain.saliency:Deconvolution", dict(kind="input", display="signed", summary="deconvnet back-propagation (Zeiler & Fergus 2014)")),
    ("gradcam", "cnnlab.explain.gradcam:GradCAM", dict(kind="layer", display="map", summary="Grad-CAM (Selvaraju et al. 2017)")),
    ("gradcam++", "cnnlab.explain.gradcam:GradCAMPlusPlus", dict(kind="layer", display="map", summary="Grad-CAM++ (Chattopadhyay et al. 2018)")),
    ("guided-gradcam", "cnnlab.explain.gradcam:GuidedGradCAM", dict(kind="input", takes_layer=True, display="signed", summary="guided back-prop × Grad-CAM")),
    ("occlusion", "cnnlab.explain.occlusion:Occlusion", dict(kind="input", display="occlusion", options=("window", "stride", "baseline"), summary="mean drop of the score under a sliding patch (Zeiler & Fergus 2014)")),
    ("layer-gradxact", "cnnlab.explain.layer_gradxact:LayerGradientXActivation", dict(kind="layer", summary="∂score/∂A ⊙ A at a layer's output A")),
)

for _name, _ref, _kw in _BUILTIN:
    register(_name, _ref, **_kw)
