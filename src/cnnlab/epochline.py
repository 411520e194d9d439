"""The one-line epoch summary shared by the torch trainer and the NumPy engine's trainer.

Pure string formatting (no torch import), so ``cnnlab.scratch`` can print the same line as ``cnnlab.train``.
"""

from __future__ import annotations


def format_summary(logs: dict, epochs: int) -> str:
    """``epoch 3/5  loss 0.0412  acc 98.71%  top5 99.98%  val_loss ...  lr 1.0e-03  6.2s``."""
    parts = [f"epoch {logs['epoch']}/{epochs}"]
    shown = {"epoch", "lr", "time"}
    for prefix in ("", "val_"):
        if f"{prefix}loss" in logs:
            parts.append(f"{prefix}loss {logs[f'{prefix}loss']:.4f}")
        if f"{prefix}accuracy" in logs:
            parts.append(f"{prefix}acc {100 * logs[f'{prefix}accuracy']:.2f}%")
        topk = [k for k in logs if k.startswith(f"{prefix}top") and k.endswith("_accuracy")
                and (prefix or not k.startswith("val_"))]
        for key in topk:
            parts.append(f"{prefix}{key[len(prefix):].split('_')[0]} {100 * logs[key]:.2f}%")
        shown.update({f"{prefix}loss", f"{prefix}accuracy", *topk})
        # any other metric of the task (psnr, ssim, verification_accuracy, roc_auc, ...)
        for key, value in logs.items():
            base = key[len(prefix):] if key.startswith(prefix) else None
            if base is None or key in shown or (not prefix and key.startswith("val_")) or base == "threshold":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(f"{key} {value:.4g}")
                shown.add(key)
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.2e}")
    if "time" in logs:
        parts.append(f"{logs['time']:.1f}s")
    return "  ".join(parts)
