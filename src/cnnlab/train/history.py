"""The History of a run: one record (dict of numbers) per epoch, written as CSV and JSONL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cnnlab.io import write_text


class History:
    """Per-epoch metrics, like Keras' ``History``: ``history["val_accuracy"]`` is a list over epochs.

    Attributes:
        records: one dict per epoch (``epoch``, ``loss``, ``accuracy``, ``val_loss``, ...).
        best_epoch: the epoch (1-based) whose weights were kept by early stopping / restore, or ``None``.
        stopped_epoch: the epoch where early stopping fired, or ``None`` when the run went to the end.
        stop_reason: ``"completed"`` or ``"early_stopping"``.
    """

    def __init__(self, records=None, *, best_epoch=None, stopped_epoch=None, stop_reason="completed"):
        self.records: list[dict] = [dict(r) for r in (records or [])]
        self.best_epoch = best_epoch
        self.stopped_epoch = stopped_epoch
        self.stop_reason = stop_reason

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self.records:
            seen.update(dict.fromkeys(record))
        return list(seen)

    def __getitem__(self, key: str) -> list:
        if key not in self.keys():
            raise KeyError(f"no metric {key!r} in this history; known: {', '.join(self.keys())}")
        return [r.get(key) for r in self.records]

    @property
    def history(self) -> dict[str, list]:
        """Keras-style dict of lists."""
        return {k: self[k] for k in self.keys()}

    def __len__(self) -> int:
        return len(self.records)

    def last(self) -> dict:
        return dict(self.records[-1]) if self.records else {}

    def to_csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.keys(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records)
        return buf.getvalue()

    def to_jsonl_text(self) -> str:
        return "".join(json.dumps(r) + "\n" for r in self.records)

    def save(self, folder: str | Path) -> None:
        """Write ``history.csv`` and ``history.jsonl`` into ``folder`` (atomically)."""
        folder = Path(folder)
        write_text(folder / "history.csv", self.to_csv_text())
        write_text(folder / "history.jsonl", self.to_jsonl_text())

    @classmethod
    def read(cls, folder: str | Path) -> "History":
        """Read ``history.jsonl`` of a run folder (empty History if absent)."""
        path = Path(folder) / "history.jsonl"
        if not path.is_file():
            return cls()
        return cls([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])

    def __repr__(self) -> str:
        last = self.last()
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float))
        return f"History({len(self)} epochs{', last: ' + shown if shown else ''})"
