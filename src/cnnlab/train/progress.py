"""Keras-like progress output: a tqdm bar per epoch with the task's live numbers, then a one-line summary."""

from __future__ import annotations

import sys

from cnnlab.epochline import format_summary


class Progress:
    """Per-epoch tqdm bar (stderr) and epoch summary lines (stdout); silent when ``enabled`` is False."""

    def __init__(self, enabled: bool, epochs: int, steps: int, refresh_every: int = 20):
        self.enabled = enabled
        self.epochs = epochs
        self.steps = steps
        self.refresh_every = refresh_every
        self.bar = None

    def start_epoch(self, epoch: int, initial: int = 0) -> None:
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.steps, initial=initial, desc=f"epoch {epoch + 1}/{self.epochs}", unit="step",
                        leave=False, file=sys.stderr, dynamic_ncols=True, mininterval=0.25)

    def step(self, step: int, postfix) -> None:
        """Advance one step; ``postfix()`` (the task's live numbers, e.g. "loss 0.1234 acc 97.10%") is only
        called every ``refresh_every`` steps (it may cost a device sync)."""
        if self.bar is None:
            return
        self.bar.update(1)
        if step % self.refresh_every == 0:
            self.bar.set_postfix_str(postfix(), refresh=False)

    def end_epoch(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.enabled:
            print(format_summary(logs, self.epochs), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
