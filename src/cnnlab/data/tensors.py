"""Any dataset as one safetensors file: ``save_tensors(ds, path)`` and ``load("tensors:PATH")``.

The file holds ``x_train, y_train, x_val, y_val, x_test, y_test`` (any rank and dtype: image pairs for
super-resolution, token ids, identities) and, in its metadata, the dataset name, class names and
normalisation statistics. It is how a dataset made in Python trains from the command line
(``cnnlab train srcnn --data tensors:pairs.safetensors --task regression``). No pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlab.data.dataset import Dataset
from cnnlab.errors import DataError
from cnnlab.io import atomic_write

KEYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def save_tensors(ds: Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (atomically)."""
    from safetensors.torch import save

    meta = {"name": ds.name, "classes": json.dumps(list(ds.classes)), "mean": json.dumps(list(ds.mean)),
            "std": json.dumps(list(ds.std)), "format": "cnnlab-dataset-1"}
    blob = save({k: getattr(ds, k).contiguous() for k in KEYS}, metadata=meta)
    with atomic_write(path, "wb") as fh:
        fh.write(blob)
    return Path(path)


def load_tensors(path: str | Path) -> Dataset:
    """Read a file written by :func:`save_tensors`.

    Raises:
        DataError: missing or corrupt file, or one without the six tensors.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise DataError(f"`tensors:FILE` must name a safetensors file written by cnnlab.data.save_tensors; "
                        f"`{path}` does not exist")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            missing = [k for k in KEYS if k not in fh.keys()]
            if missing:
                raise DataError(f"`{path}` lacks {', '.join(missing)}; expected tensors {', '.join(KEYS)}")
            t = {k: fh.get_tensor(k) for k in KEYS}
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"`{path}` is not a readable safetensors file ({str(exc).splitlines()[0][:100]})") from None
    loads = lambda key: json.loads(meta.get(key, "[]"))  # noqa: E731
    # named by its reference, so a run folder records a name `cnnlab evaluate` can load again
    return Dataset(f"tensors:{path}", *(t[k] for k in KEYS), classes=loads("classes"),
                   mean=tuple(loads("mean")), std=tuple(loads("std")))
