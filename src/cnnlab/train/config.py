"""The resolved options of one training run (what ``config.json`` records), with their validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from cnnlab.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw", "adadelta")
SCHEDULES = ("none", "step", "cosine", "onecycle")
PRECISIONS = ("fp32", "bf16", "auto")
LAYOUTS = ("nchw", "channels_last", "auto")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "adadelta": 1.0}


@dataclass
class FitConfig:
    """Every option of :func:`cnnlab.train.fit`; the defaults are the documented ones.

    ``precision``/``layout`` ``"auto"`` are replaced by the measured choice before training starts, so the
    stored config always says what actually ran.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float | None = None  # None -> DEFAULT_LR[optimizer]
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    decay_biases: bool = True  # False: weight decay only on weights (ndim ≥ 2), not biases/norm scales (L2 as Nielsen)
    schedule: str = "none"
    step_size: int = 0  # epochs per step of the "step" schedule; 0 -> epochs // 3
    gamma: float = 0.1
    label_smoothing: float = 0.0
    augment: object = False  # bool (image shifts/rotations) or an augmenter (cnnlab.data.augment protocol)
    precision: str = "auto"
    layout: str = "auto"
    compile: bool = False
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    patience: int = 0  # early stopping after this many epochs without improvement; 0 = off
    monitor: str | None = None  # None -> the task's default (val_loss for classification, val_psnr for SR)
    min_delta: float = 0.0
    restore_best_weights: bool = True
    checkpoint_every: int = 0  # also save the full state every N optimiser steps (0: only at epoch ends)
    topk: int = 5
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        def choice(name, allowed):
            value = getattr(self, name)
            if not isinstance(value, str) or value.lower() not in allowed:
                raise ConfigError(f"`{name}` must be one of {', '.join(allowed)}; got {value!r}")
            setattr(self, name, value.lower())

        def positive(name, minimum=1):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"`{name}` must be an integer ≥ {minimum}; got {value!r}")

        choice("optimizer", OPTIMIZERS)
        choice("schedule", SCHEDULES)
        choice("precision", PRECISIONS)
        choice("layout", LAYOUTS)
        choice("device", DEVICES)
        if self.monitor is not None and (not isinstance(self.monitor, str) or not self.monitor):
            raise ConfigError(f"`monitor` must be a metric name such as 'val_loss'; got {self.monitor!r}")
        positive("epochs")
        positive("batch_size")
        positive("eval_batch_size")
        positive("topk")
        for name in ("patience", "checkpoint_every", "step_size"):
            positive(name, 0)
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        for name in ("lr", "momentum", "weight_decay", "gamma", "label_smoothing", "min_delta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
                raise ConfigError(f"`{name}` must be a number ≥ 0; got {value!r}")
            setattr(self, name, float(value))
        if self.lr <= 0:
            raise ConfigError(f"`lr` must be > 0; got {self.lr}")
        if self.label_smoothing >= 1:
            raise ConfigError(f"`label_smoothing` must be < 1; got {self.label_smoothing}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError("`nesterov` needs `optimizer='sgd'` with momentum > 0; "
                              f"got optimizer={self.optimizer!r}, momentum={self.momentum}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_options(cls, options: dict) -> "FitConfig":
        """Build from keyword options, rejecting unknown names with the list of known ones."""
        unknown = sorted(set(options) - set(cls.names()))
        if unknown:
            raise ConfigError(f"unknown training option(s) {', '.join(unknown)}; known: {', '.join(cls.names())}")
        return cls(**options)
