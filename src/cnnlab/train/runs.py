"""Run folders: everything one training run leaves behind, and ``load_run`` to get it back.

Layout of ``runs/<name>/`` (every file written atomically):

- ``model.json``: the model description (``cnnlab.spec``), no pickle;
- ``weights.safetensors``: the final weights (the best ones when ``restore_best_weights``);
- ``best.safetensors``: the best weights seen on the validation set;
- ``config.json``: resolved options, dataset name, classes, input shape, mean/std, results;
- ``history.csv`` / ``history.jsonl``: one row per epoch;
- ``checkpoint.pt``: the last full-state checkpoint (``weights_only=True`` loadable), for ``--resume``;
- later ``report.html``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnnlab.errors import CheckpointError, ConfigError, DataError
from cnnlab.train.checkpoint import apply_state, load_weights
from cnnlab.train.history import History

from cnnlab.runfolder import (BEST_FILE, CHECKPOINT_FILE, CONFIG_FILE, MODEL_FILE, WEIGHTS_FILE,  # noqa: F401
                              read_config, read_desc)


@dataclass
class Run:
    """A loaded run folder; ``model`` is in eval mode with the run's weights."""

    path: Path
    model: torch.nn.Module
    desc: dict | None
    config: dict
    history: list[dict]
    classes: list[str]
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    dataset: str | None
    extra: dict = field(default_factory=dict)
    task: object = None  # cnnlab.train.tasks.Task of the run (classification for runs written before tasks)
    preprocess: torch.nn.Module = field(default_factory=torch.nn.Identity)  # raw input -> model input

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Map raw inputs ([0, 1] images) to the model's input with the run's own preprocessing."""
        return self.preprocess(x)


def default_run_dir(model_name: str, data_name: str, root: str | Path = "runs") -> Path:
    """``runs/<model>-<data>-<UTC time>``, made unique with a numeric suffix."""
    def slug(s):
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(s)).strip("_")[:40] or "run"

    base = Path(root) / f"{slug(model_name)}-{slug(Path(data_name).name if ':' in data_name else data_name)}-" \
                        f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    return unique_dir(base)


def unique_dir(base: str | Path) -> Path:
    """``base`` if it does not exist yet, else ``base-2``, ``base-3``, ..."""
    base = Path(base)
    if not base.exists():
        return base
    i = 2
    while Path(f"{base}-{i}").exists():
        i += 1
    return Path(f"{base}-{i}")


def load_run(path: str | Path, *, weights: str = "final", model: torch.nn.Module | None = None) -> Run:
    """Load a run folder.

    Args:
        path: the run folder.
        weights: ``"final"`` (``weights.safetensors``) or ``"best"`` (``best.safetensors``).
        model: the module to load the weights into, for runs of models without a description.

    Raises:
        DataError: not a run folder. CheckpointError: corrupt weights or weights of another model.
        ConfigError: the run has no ``model.json`` and no ``model`` was given.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"run folder `{path}` does not exist")
    config = read_config(path)
    desc = read_desc(path)
    if weights not in ("final", "best"):
        raise ConfigError(f"`weights` must be 'final' or 'best'; got {weights!r}")
    if model is None:
        if desc is None:
            raise ConfigError(f"run `{path}` has no {MODEL_FILE} (its model was not built by cnnlab); "
                              "pass the module with load_run(path, model=...)")
        from cnnlab import spec

        model = spec.build(desc)
    wfile = path / (WEIGHTS_FILE if weights == "final" else BEST_FILE)
    if not wfile.is_file() and weights == "final" and (path / BEST_FILE).is_file():
        wfile = path / BEST_FILE  # a run stopped before its end still has its best weights
    if not wfile.is_file():
        raise CheckpointError(f"run `{path}` has no weights yet ({wfile.name} missing); train or resume it first")
    apply_state(model, load_weights(wfile), wfile)
    model.eval()
    data = config.get("data", {})
    from cnnlab import preprocess as pre
    from cnnlab.train.tasks import from_dict

    mean, std = tuple(data.get("mean", ())), tuple(data.get("std", ()))
    # runs written before preprocessing was recorded normalised their images with the dataset's statistics
    preprocess = pre.from_config(config["preprocess"]) if "preprocess" in config else pre.for_stats(mean, std)
    return Run(path=path, model=model, desc=desc, config=config, history=History.read(path).records,
               classes=list(data.get("classes", [])), input_shape=tuple(data.get("input_shape", ())),
               mean=mean, std=std, dataset=data.get("name"), extra=dict(config.get("extra") or {}),
               task=from_dict(config.get("task")),
               preprocess=preprocess)
