"""Style transfer on many content × style pairs: cnnlab's defaults against the PyTorch tutorial recipe.

For every pair at ``--size`` px (VGG16-BN trunk from EasyOCR, the objective's default layers and weights),
this runs cnnlab's ``style_transfer`` with its defaults and the tutorial recipe of
``benchmarks/art_speed.py`` (``tutorial_baseline``: ``optim.LBFGS`` with default settings, 300 steps,
input = content, clipping in the closure) back to back, the order alternating from pair to pair, and
scores both outputs with one scorer that is independent of either optimiser's weighting
(:class:`Scorer`):

- content distance: ``mean((F(x) − F(c))²)`` at ``relu4_2`` (post-ReLU, Gatys' conv4_2);
- style distance: ``Σ_l mean((G_l(x) − G_l(s))²)`` over ``relu1_1, relu2_1, relu3_1, relu4_1, relu5_1``
  (post-ReLU), ``G = F Fᵀ / (C·H·W)``, unweighted and not normalised.

Acceptance per pair: speed-up (tutorial seconds / cnnlab seconds) ≥ 2, content ratio (cnnlab / tutorial)
≤ 1.5, style ratio ≤ 1.25. Writes ``OUT/contact_sheet.png`` (rows: content | style | tutorial | cnnlab),
each output image, and ``OUT/table.md``.

Run: ``.venv/bin/python benchmarks/style_pairs.py --out /tmp/pairs`` (all 8 pairs, about 40 min on 2
cores), ``--pairs chelsea:coffee,astronaut:scream`` for a subset.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from art_speed import STARRY, gram, tutorial_baseline

CONTENTS = {"chelsea": "skimage:chelsea", "astronaut": "skimage:astronaut"}
STYLES = {  # three paintings and one photograph
    "starry": STARRY,
    "scream": "/usr/share/darknet/data/scream.jpg",
    "graffiti": "/usr/share/doc/opencv-doc/examples/data/graf1.png",
    "coffee": "skimage:coffee",
}
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
GOALS = {"speed": 2.0, "content": 1.5, "style": 1.25}  # speed ≥, content ratio ≤, style ratio ≤


class Scorer:
    """Content and style distances of an image, on its own fp32 copy of the trunk (see module docstring)."""

    def __init__(self, art, content: torch.Tensor, style: torch.Tensor):
        from cnnlab.art.features import FeatureExtractor

        self.extractor = FeatureExtractor(art.net, [CONTENT_LAYER, *STYLE_LAYERS], art.preprocess, aliases=art.aliases)
        with torch.no_grad():
            self.content_target = self.extractor(content)[CONTENT_LAYER]
            sf = self.extractor(style)
            # the tutorial's Gram (F Fᵀ / (C·H·W) for one image), not the optimised objective's own code
            self.gram_targets = {n: gram(sf[n]) for n in STYLE_LAYERS}

    def __call__(self, image: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            f = self.extractor(image)
            content = float(torch.mean((f[CONTENT_LAYER] - self.content_target) ** 2))
            style = sum(float(torch.mean((gram(f[n]) - self.gram_targets[n]) ** 2)) for n in STYLE_LAYERS)
        return {"content": content, "style": style}


@dataclass
class PairResult:
    content: str
    style: str
    cnnlab_s: float
    tutorial_s: float
    cnnlab: dict
    tutorial: dict

    @property
    def ratios(self) -> dict[str, float]:
        return {"speed": self.tutorial_s / self.cnnlab_s, "content": self.cnnlab["content"] / self.tutorial["content"],
                "style": self.cnnlab["style"] / self.tutorial["style"]}

    @property
    def passed(self) -> dict[str, bool]:
        r = self.ratios
        return {"speed": r["speed"] >= GOALS["speed"], "content": r["content"] <= GOALS["content"],
                "style": r["style"] <= GOALS["style"]}


def parse_pairs(spec: str | None) -> list[tuple[str, str]]:
    """``"chelsea:coffee,astronaut:scream"`` -> pairs (default: every content × every style)."""
    if not spec:
        return [(c, s) for c in CONTENTS for s in STYLES]
    pairs = []
    for item in spec.split(","):
        c, _, s = item.strip().partition(":")
        if c not in CONTENTS or s not in STYLES:
            raise SystemExit(f"unknown pair {item!r}: contents {', '.join(CONTENTS)}; styles {', '.join(STYLES)}")
        pairs.append((c, s))
    return pairs


def run_pair(art, c_name: str, s_name: str, *, size: int, baseline_steps: int, cnnlab_first: bool):
    """cnnlab defaults and the tutorial recipe on one pair: (PairResult, cnnlab image, tutorial image, inputs)."""
    from cnnlab.art.images import load_image, resize_long_side
    from cnnlab.art.style import style_transfer

    content = resize_long_side(load_image(CONTENTS[c_name]), size)
    style = resize_long_side(load_image(STYLES[s_name]), max(content.shape[-2:]))
    weights = dict(content_weight=1.0, style_weight=art.style_weight, tv_weight=art.tv_weight)

    def ours():
        start = time.perf_counter()
        image = style_transfer(CONTENTS[c_name], STYLES[s_name], art, size=size).image
        return image, time.perf_counter() - start

    def theirs():
        start = time.perf_counter()
        image, _ = tutorial_baseline(art, content, style, list(art.content_layers), list(art.style_layers),
                                     num_steps=baseline_steps, **weights)
        return image, time.perf_counter() - start

    if cnnlab_first:
        (ours_img, ours_s), (base_img, base_s) = ours(), theirs()
    else:
        (base_img, base_s), (ours_img, ours_s) = theirs(), ours()
    score = Scorer(art, content, style)
    result = PairResult(c_name, s_name, ours_s, base_s, score(ours_img), score(base_img))
    return result, ours_img, base_img, content, style


def table(results: list[PairResult]) -> str:
    mark = lambda ok: "✓" if ok else "✗"  # noqa: E731
    rows = ["| content × style | cnnlab s | tutorial s | speed-up | content ratio | style ratio | pass |",
            "|---|---:|---:|---:|---:|---:|:---:|"]
    for r in results:
        q, p = r.ratios, r.passed
        rows.append(f"| {r.content} × {r.style} | {r.cnnlab_s:.1f} | {r.tutorial_s:.1f} | {q['speed']:.2f}× {mark(p['speed'])} "
                    f"| {q['content']:.2f} {mark(p['content'])} | {q['style']:.2f} {mark(p['style'])} "
                    f"| {'pass' if all(p.values()) else 'FAIL'} |")
    return "\n".join(rows) + "\n"


def contact_sheet(rows: list[list[torch.Tensor]], path: Path, height: int = 192) -> None:
    """One row per pair (content | style | tutorial | cnnlab), each tile scaled to ``height`` px."""
    from PIL import Image

    from cnnlab.art.images import to_pil

    tiles = [[to_pil(t) for t in row] for row in rows]
    tiles = [[t.resize((max(1, round(t.width * height / t.height)), height)) for t in row] for row in tiles]
    width = max(sum(t.width for t in row) + 4 * (len(row) - 1) for row in tiles)
    sheet = Image.new("RGB", (width, len(tiles) * (height + 4) - 4), "white")
    for i, row in enumerate(tiles):
        x = 0
        for t in row:
            sheet.paste(t, (x, i * (height + 4)))
            x += t.width + 4
    tmp = path.with_name(f".{path.name}.tmp.png")
    sheet.save(tmp)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the contact sheet, output images and table (default: a new temporary folder)")
    parser.add_argument("--pairs", help="comma-separated CONTENT:STYLE, e.g. chelsea:coffee (default: all 8)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--baseline-steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from cnnlab.art.images import save_image
    from cnnlab.art.presets import resolve_model
    from cnnlab.io import write_text

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="style_pairs_"))
    out.mkdir(parents=True, exist_ok=True)
    pairs = parse_pairs(args.pairs)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f} at start; "
          f"scorer: content {CONTENT_LAYER}, style {', '.join(STYLE_LAYERS)} (post-ReLU)", flush=True)
    art = resolve_model("vgg16_bn")
    results, rows = [], []
    for i, (c_name, s_name) in enumerate(pairs):
        r, ours_img, base_img, content, style = run_pair(art, c_name, s_name, size=args.size,
                                                         baseline_steps=args.baseline_steps, cnnlab_first=i % 2 == 0)
        results.append(r)
        rows.append([content, style, base_img, ours_img])
        save_image(ours_img, out / f"{c_name}_{s_name}_cnnlab.png")
        save_image(base_img, out / f"{c_name}_{s_name}_tutorial.png")
        q = r.ratios
        print(f"{c_name} × {s_name}: cnnlab {r.cnnlab_s:.1f} s {r.cnnlab}, tutorial {r.tutorial_s:.1f} s {r.tutorial}; "
              f"speed-up {q['speed']:.2f}x, content ratio {q['content']:.2f}, style ratio {q['style']:.2f}", flush=True)
        contact_sheet(rows, out / "contact_sheet.png")
    text = table(results)
    write_text(out / "table.md", text)
    print(f"\n{text}load average {os.getloadavg()[0]:.1f} at the end; images and table in {out}")


if __name__ == "__main__":
    main()
