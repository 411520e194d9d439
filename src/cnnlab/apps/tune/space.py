"""The search space of ``cnnlab tune``: ``--param NAME=KIND:ARGS`` specs parsed into Optuna suggestions.

Kinds (Optuna's distributions):

- ``loguniform:LOW:HIGH`` (float, log scale), ``uniform:LOW:HIGH`` (float),
- ``int:LOW:HIGH[:STEP]``, ``logint:LOW:HIGH`` (integers),
- ``choice:A,B,C`` (categorical; each value read as int, float, bool or text).

A name is either a training option of :func:`cnnlab.train.fit` (``lr``, ``batch_size``, ``optimizer``,
``weight_decay``, ``epochs``, ``augment``, ``schedule``, ``label_smoothing``, ...) or an argument of the zoo
model's factory (``dropout``, ``width``, ...); :func:`split_options` routes a trial's values to the two.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from cnnlab.errors import ConfigError

KINDS = ("loguniform", "uniform", "int", "logint", "choice")
# fit options a search must not turn: they are set by the tuner itself or do not change the model
RESERVED = ("monitor", "device", "precision", "layout", "compile", "deterministic", "checkpoint_every",
            "restore_best_weights", "eval_batch_size", "topk", "seed")
MODEL_RESERVED = ("num_classes", "input_shape", "in_channels")


@dataclass(frozen=True)
class Param:
    """One dimension of the search space."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    step: int | None = None
    choices: tuple = ()

    def suggest(self, trial):
        """The value of this dimension for an Optuna ``trial``."""
        if self.kind == "loguniform":
            return trial.suggest_float(self.name, self.low, self.high, log=True)
        if self.kind == "uniform":
            return trial.suggest_float(self.name, self.low, self.high)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=self.step or 1)
        if self.kind == "logint":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=True)
        return trial.suggest_categorical(self.name, list(self.choices))

    def spec(self) -> str:
        """The ``--param`` text that builds this dimension again."""
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(str(c) for c in self.choices)}"
        bounds = [_fmt(self.low), _fmt(self.high)] + ([str(self.step)] if self.step else [])
        return f"{self.name}={self.kind}:{':'.join(bounds)}"


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) >= 1 else repr(float(v))


def _value(text: str):
    """A choice's value: int, float, bool or the text itself."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def _number(text: str, what: str, spec: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ConfigError(f"`--param {spec}`: {what} must be a number; got {text!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"`--param {spec}`: {what} must be finite; got {text!r}")
    return v


def parse_param(spec: str) -> Param:
    """Parse ``NAME=KIND:ARGS`` (see the module docstring).

    Raises:
        ConfigError: a malformed spec, with what was expected and what was received.

    Example:
        >>> parse_param("lr=loguniform:1e-4:1e-1")
        Param(name='lr', kind='loguniform', low=0.0001, high=0.1, step=None, choices=())
    """
    if not isinstance(spec, str) or "=" not in spec:
        raise ConfigError(f"`--param` must look like NAME=KIND:ARGS (e.g. lr=loguniform:1e-4:1e-1); got {spec!r}")
    name, _, rest = spec.partition("=")
    name = name.strip().replace("-", "_")
    if not name.isidentifier():
        raise ConfigError(f"`--param {spec}`: the name must be an option name such as lr or dropout; got {name!r}")
    kind, _, args = rest.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ConfigError(f"`--param {spec}`: the kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if kind == "choice":
        values = [a for a in args.split(",") if a.strip()]
        if not values:
            raise ConfigError(f"`--param {spec}`: choice needs values, e.g. {name}=choice:64,128,256")
        choices = tuple(_value(v) for v in values)
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(f"`--param {spec}`: choice values must be distinct; got {', '.join(map(str, choices))}")
        return Param(name, kind, choices=choices)
    parts = args.split(":") if args else []
    allowed = (2, 3) if kind == "int" else (2,)
    if len(parts) not in allowed:
        form = "LOW:HIGH[:STEP]" if kind == "int" else "LOW:HIGH"
        raise ConfigError(f"`--param {spec}`: {kind} needs {form}; got {args!r}")
    low, high = (_number(p, w, spec) for p, w in zip(parts[:2], ("LOW", "HIGH")))
    if not low < high:
        raise ConfigError(f"`--param {spec}`: LOW must be < HIGH; got {parts[0]} and {parts[1]}")
    if kind in ("loguniform", "logint") and low <= 0:
        raise ConfigError(f"`--param {spec}`: a log scale needs LOW > 0; got {parts[0]}")
    step = None
    if kind in ("int", "logint"):
        if not (low.is_integer() and high.is_integer()):
            raise ConfigError(f"`--param {spec}`: {kind} bounds must be integers; got {parts[0]} and {parts[1]}")
        if len(parts) == 3:
            step_v = _number(parts[2], "STEP", spec)
            if not step_v.is_integer() or step_v < 1:
                raise ConfigError(f"`--param {spec}`: STEP must be an integer ≥ 1; got {parts[2]!r}")
            step = int(step_v)
    return Param(name, kind, low, high, step)


def parse_space(specs) -> list[Param]:
    """Parse every ``--param``; a name given twice is an error."""
    params = [parse_param(s) for s in specs]
    seen = set()
    for p in params:
        if p.name in seen:
            raise ConfigError(f"`--param {p.name}` is given twice")
        seen.add(p.name)
    return params


def model_arguments(model_name: str, reserved=MODEL_RESERVED) -> list[str]:
    """The keyword arguments the zoo factory of ``model_name`` takes, less ``reserved`` (a search may turn them)."""
    from cnnlab.zoo import registry

    factory = registry._entry(model_name).factory  # noqa: SLF001 - unknown names raise the zoo's one-line error
    names = []
    for p in inspect.signature(factory).parameters.values():
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in reserved:
            names.append(p.name)
    return names


def check_space(params: list[Param], model_args: list[str], fixed: dict) -> None:
    """Every parameter must name a fit option or a model argument, and not also be fixed."""
    from cnnlab.train.config import FitConfig

    fit_names = [n for n in FitConfig.names() if n not in RESERVED]
    for p in params:
        if p.name in RESERVED:
            raise ConfigError(f"`--param {p.name}` cannot be searched (the tuner sets it); searchable: "
                              f"{', '.join(fit_names + model_args)}")
        if p.name not in fit_names and p.name not in model_args:
            raise ConfigError(f"`--param {p.name}` is neither a training option nor an argument of the model; "
                              f"known: {', '.join(fit_names + model_args)}")
        if p.name in fixed:
            raise ConfigError(f"`{p.name}` is both searched (--param) and fixed ({p.name}={fixed[p.name]!r})")


def split_options(values: dict, model_args: list[str]) -> tuple[dict, dict]:
    """``(fit options, model kwargs)`` of one trial's values."""
    model_kw = {k: v for k, v in values.items() if k in model_args}
    fit_kw = {k: v for k, v in values.items() if k not in model_args}
    return fit_kw, model_kw
