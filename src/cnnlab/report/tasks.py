"""Report sections for tasks other than classification: the task's metrics on the test split and, for
image-to-image models, input / output / target examples side by side (with each example's PSNR)."""

from __future__ import annotations

import torch

from cnnlab import pictures as im
from cnnlab.report.html import Figure, Section, table_html


def metrics_section(task, metrics: dict, n: int) -> Section:
    sec = Section("evaluation", f"Test metrics ({task.name})")
    rows = [[k.replace("_", " "), f"{v:.4f}"] for k, v in metrics.items() if isinstance(v, float)]
    sec.add(f"<p>The {task.name} task's metrics on {n} test examples, with the run's final weights.</p>")
    return sec.add(table_html(["metric", "value"], rows))


def image_examples_section(model, preprocess, x: torch.Tensor, y: torch.Tensor, task, n: int = 4) -> Section:
    """Input | output | target for the first ``n`` test examples (grey or RGB images in [0, 1])."""
    from cnnlab import quality

    sec = Section("examples", "Examples: input, output, target")
    with torch.no_grad():
        out = task.predict(model(preprocess(x[:n])).float())
    for i in range(min(n, len(x))):
        p = float(quality.psnr(out[i:i + 1], y[i:i + 1], data_range=task.data_range, shave=task.shave,
                               y_channel=task.y_channel)[0])
        row = [Figure(im.png_bytes(_show(x[i], y[i])), "input"), Figure(im.png_bytes(_show(out[i], y[i])), f"output · PSNR {p:.2f} dB"),
               Figure(im.png_bytes(_show(y[i], y[i])), "target")]
        sec.add((f"test example {i}", row))
    return sec


def _show(img: torch.Tensor, like: torch.Tensor):
    """An image tensor as RGB8, resized (nearest) to the target's size so the three tiles line up."""
    if img.shape[-2:] != like.shape[-2:]:
        img = torch.nn.functional.interpolate(img[None].float(), size=like.shape[-2:], mode="nearest")[0]
    rgb = im.to_rgb8(img.clamp(0, 1))
    return im.upscale(rgb, im.auto_factor(*rgb.shape[:2], target=160))
