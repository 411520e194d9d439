"""Text for ``cnnlab tune``: ``--set NAME=VALUE`` parsing and the closing summary (pure, no torch)."""

from __future__ import annotations

from cnnlab.apps.tune.space import _value
from cnnlab.errors import ConfigError


def parse_fixed(items) -> dict:
    """``["schedule=onecycle", "augment=true"]`` -> ``{"schedule": "onecycle", "augment": True}``."""
    fixed = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name.isidentifier() or not value.strip():
            raise ConfigError(f"`--set` must look like NAME=VALUE (e.g. schedule=onecycle); got {item!r}")
        fixed[name] = _value(value)
    return fixed


def summary_text(s: dict) -> str:
    states = ", ".join(f"{v} {k}" for k, v in s["states"].items())
    lines = [f"study {s['study']}: {s['trials']} trials ({states}); this command ran {s['trials_this_command']} "
             f"on {s['workers']} worker(s) in {s['wall_s']:.0f} s",
             f"trial-epochs: {s['trial_epochs_run']} run of {s['trial_epochs_planned']} planned "
             f"(pruning saved {100 * s['pruned_epoch_fraction']:.1f}%)"]
    best = s.get("best")
    if best:
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
        lines.append(f"best trial {best['trial']}: {s['metric']} {best['val']:.4f} ({params})")
        test = best["test"]
        if "accuracy_mean" in test:
            lines.append(f"test accuracy {100 * test['accuracy_mean']:.2f}% ± {100 * test['accuracy_std']:.2f} "
                         f"({test['seeds']} retrained seeds)")
        elif "accuracy" in test:
            lines.append(f"test accuracy {100 * test['accuracy']:.2f}% (best trial's weights, evaluated once)")
        if best.get("command"):
            lines.append(f"retrain: {best['command']}")
    else:
        lines.append("no trial has completed yet")
    if s.get("report"):
        lines.append(f"report: {s['report']}")
    return "\n".join(lines)
