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


def save_arrays(ds: Dataset, folder: str | Path) -> Path:
    """Write ``ds`` as ``.npy`` files plus ``meta.json`` in ``folder``, for :func:`open_arrays` (streaming).

    Each array is written to a temporary file and renamed, ``meta.json`` last, so a half-written folder is
    never mistaken for a dataset.
    """
    import os

    import numpy as np

    from cnnlab.io import write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key in KEYS:
        tmp = folder / f".{key}.tmp.npy"
        np.save(tmp, getattr(ds, key).numpy())
        os.replace(tmp, folder / f"{key}.npy")
    write_json(folder / "meta.json", {"format": "cnnlab-arrays-1", "name": ds.name, "classes": list(ds.classes),
                                      "mean": list(ds.mean), "std": list(ds.std)})
    return folder


def open_arrays(folder: str | Path) -> Dataset:
    """A dataset whose arrays stay on disk (memory-mapped): ``fit`` reads one batch at a time.

    For data that does not fit in memory: each training step gathers its batch's rows from the memory map
    and normalises only that batch; validation and evaluation read consecutive slices. Statistics come from
    ``meta.json`` (computed when the arrays were saved), so opening reads nothing but the headers.

    Raises:
        DataError: not a folder written by :func:`save_arrays`.
    """
    import warnings

    import numpy as np
    import torch

    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DataError(f"`arrays:DIR` must be a folder written by cnnlab.data.save_arrays; `{folder}` has no meta.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    tensors = []
    for key in KEYS:
        try:
            arr = np.load(folder / f"{key}.npy", mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise DataError(f"`{folder / (key + '.npy')}` is missing or corrupt ({exc})") from None
        with warnings.catch_warnings():  # read-only memory map: cnnlab never writes into dataset tensors
            warnings.simplefilter("ignore", UserWarning)
            tensors.append(torch.from_numpy(arr))
    ds = Dataset(f"arrays:{folder}", *tensors, classes=list(meta.get("classes", [])),
                 mean=tuple(meta.get("mean", ())), std=tuple(meta.get("std", ())))
    ds.stream = True
    return ds
