"""Figures and the comparison table of docs/superres.md, from trained SR runs (or SR weight files).

    python scripts/superres_docs.py --run fsrcnn=runs/fsrcnn-x3 --run espcn=runs/espcn-x3 \
        --run srcnn_915=runs/srcnn915-x3 --default fsrcnn --out docs/superres

Writes ``crops.png`` (ground truth / bicubic / ours on Set5 ×3 crops), ``psnr_curves.png`` (validation-patch
PSNR and Set5 PSNR per epoch, bicubic beside), ``filters_<name>.png`` (first-layer filters) and ``table.md``
(parameters, MACs for a 256×256 output, speed on this machine, Set5 ×3 PSNR/SSIM beside bicubic and the papers).
Needs matplotlib and ``CNNLAB_DATA`` pointing at the datasets folder.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from cnnlab.analysis import summary
from cnnlab.apps.superres import figures, protocol, weights
from cnnlab.apps.superres.data import set5
from cnnlab.apps.superres.upscale import bicubic, super_resolve

PAPER_X3 = {"bicubic": "30.39", "srcnn_915": "32.39 (SRCNN 9-1-5, T91)", "srcnn": "32.75 (SRCNN 9-5-5, ImageNet)",
            "fsrcnn": "33.06 (FSRCNN, T91 + General-100)", "espcn": "32.55 (ESPCN, T91)",
            "espcn_residual": "– (ESPCN + bicubic residual: not a paper model)"}
SCALE = 3


def macs_256(name: str, model) -> int:
    """MACs for a 256×256 output: per-output-pixel MACs (counted by ``summary`` at a 255×255 output) × 65,536."""
    side = 255 // SCALE if model.upscale != 1 else 255
    total = summary(model, (1, side, side)).total_macs
    return round(total / 255 ** 2 * 256 ** 2)


def speed(model, reps: int = 7) -> float:
    """Images per second for a 255×255 output (LR 85×85 input for LR-space models), batch 1, forward only;
    the median of ``reps`` timed passes."""
    import statistics

    side = 85 if model.upscale != 1 else 255
    x = torch.rand(1, 1, side, side)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(reps):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return 1.0 / statistics.median(times)


def bicubic_speed(reps: int = 21) -> float:
    """PIL bicubic ×3 of an 85×85 RGB image: images per second (median of ``reps``)."""
    import statistics

    lr = (np.random.default_rng(0).random((85, 85, 3)) * 255).astype(np.uint8)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        bicubic(lr, SCALE)
        times.append(time.perf_counter() - start)
    return 1.0 / statistics.median(times)


def photo(sr) -> dict:
    """``cnnlab upscale``'s work on a 1024×768 photo (sklearn's china.jpg resized): time, size, mean colours."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    lr = np.asarray(Image.fromarray(load_sample_image("china.jpg")).resize((1024, 768), Image.BICUBIC))
    start = time.perf_counter()
    out = super_resolve(sr.model, lr, SCALE)
    seconds = time.perf_counter() - start
    bic = bicubic(lr, SCALE)
    diff = np.abs(out.reshape(-1, 3).mean(0) - bic.reshape(-1, 3).mean(0))
    return {"seconds": seconds, "out": f"{out.shape[1]}×{out.shape[0]}", "mean_colour_diff": diff.round(3).tolist()}


def training(run: str) -> str:
    """``epochs × pairs (patch), wall minutes`` of a run folder (from the core's history and config extra)."""
    import json

    path = Path(run)
    if not path.is_dir():
        return "–"
    hist = [json.loads(line) for line in (path / "history.jsonl").read_text().splitlines()]
    meta = weights.run_extra(path)
    return (f"{len(hist)} × {meta['n_train']:,} ({meta['patch']}×{meta['patch']} LR), "
            f"{sum(h['time'] for h in hist) / 60:.1f} min")


def table(models: dict, runs: dict, out: Path) -> str:
    base = protocol.evaluate(None, SCALE)
    rows = ["| method | params | MACs (256×256 output) | images/s (255×255 output) | training (epochs × pairs, wall) "
            "| Set5 ×3 PSNR (dB) | SSIM | paper PSNR |", "|---|---:|---:|---:|---|---:|---:|---|"]
    rows.append(f"| bicubic (PIL) | 0 | – | {bicubic_speed():.0f} | – | {base.mean('bicubic_psnr'):.2f} | "
                f"{base.mean('bicubic_ssim'):.4f} | {PAPER_X3['bicubic']} |")
    for name, sr in models.items():
        ev = protocol.evaluate(sr.model, SCALE)
        params = sum(p.numel() for p in sr.model.parameters())
        rows.append(f"| {name} | {params:,} | {macs_256(name, sr.model) / 1e6:,.1f} M | {speed(sr.model):.0f} | "
                    f"{training(runs[name])} | {ev.mean('psnr'):.2f} | {ev.mean('ssim'):.4f} | {PAPER_X3[name]} |")
    text = "\n".join(rows) + "\n"
    (out / "table.md").write_text(text)
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", action="append", default=[], help="NAME=RUN_FOLDER_OR_WEIGHTS (zoo name)")
    p.add_argument("--default", default="fsrcnn", help="the model shown in the crops")
    p.add_argument("--out", default="docs/superres")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("CNNLAB_THREADS", "1")))  # 1: the machine is shared (see the docs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = dict(r.split("=", 1) for r in args.run)
    models = {k: weights.resolve(v, SCALE) for k, v in runs.items()}
    print(table(models, runs, out))
    print("1024×768 photo:", photo(models[args.default]))
    (out / "crops.png").write_bytes(figures.crops_png(models[args.default].model, set5(SCALE), SCALE, args.default))
    (out / "psnr_curves.png").write_bytes(figures.curves_png({k: v for k, v in runs.items() if Path(v).is_dir()},
                                                             target=32.55))
    for k, sr in models.items():
        (out / f"filters_{k}.png").write_bytes(figures.filters_png(sr.model, k))


if __name__ == "__main__":
    main()
