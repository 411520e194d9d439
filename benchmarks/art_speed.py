"""Speed of cnnlab's style transfer and Deep Dream on a 2-core CPU, against the PyTorch tutorial recipe.

Style transfer at 256 px (skimage chelsea × Starry Night, VGG16-BN trunk from EasyOCR):
- baseline: the PyTorch "Neural Transfer" tutorial recipe written out plainly here: the VGG feature stack
  copied up to the last loss layer with loss modules inserted after the chosen layers, input = content
  image, ``optim.LBFGS`` with default settings, ``while run <= 300: optimizer.step(closure)``, pixels
  clipped inside the closure, fp32;
- cnnlab: ``cnnlab.art.style_transfer`` with its defaults (projected L-BFGS keeping the best image; three
  coarse-to-fine stages at ¼, ½ and full size with detail re-injected between them, the style targets
  of every stage taken from the style image at the output size; start from the
  content image in the style's colours; BatchNorm folded into the convolutions; truncated network,
  channels-last, targets precomputed).
cnnlab runs ``--repeats`` times (once before the tutorial, then after it) and its median time is
reported. Both optimise the same objective (cnnlab's default layers and weights), and both final images are scored
by one common loss function (``StyleObjective`` at full size, fp32), so "total loss" means the same for
both. Also printed: the median seconds of one full-size loss evaluation (forward + backward) in each.
Deep Dream: seconds for 3 octaves × 10 steps at 320×240.

Run: ``.venv/bin/python benchmarks/art_speed.py`` (one run; ratios within the run are what count).
``benchmarks/style_pairs.py`` runs the same comparison on 8 content × style pairs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from _timing import median_time

STARRY = "/usr/share/doc/opencv-doc/examples/data/starry_night.jpg"


class ContentLoss(nn.Module):
    """Tutorial-style loss module: remembers its target, stores its loss, passes the input through."""

    def __init__(self, target: torch.Tensor, scale: float):
        super().__init__()
        self.target, self.scale, self.loss = target.detach(), scale, None

    def forward(self, x):
        self.loss = self.scale * torch.mean((x - self.target) ** 2)
        return x


def gram(x):
    n, c, h, w = x.shape
    f = x.view(n * c, h * w)
    return f @ f.t() / (n * c * h * w)


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor):
        super().__init__()
        self.target = gram(target_feature).detach()
        self.scale = 1.0 / float(self.target.pow(2).mean())
        self.loss = None

    def forward(self, x):
        self.loss = self.scale * torch.mean((gram(x) - self.target) ** 2)
        return x


def tutorial_model(art, content, style, content_layers, style_layers):
    """The tutorial's ``get_style_model_and_losses``: the feature stack with loss modules, trimmed."""
    module_of = {art.aliases.get(n, n): n for n in content_layers + style_layers}
    wanted_c = {art.aliases.get(n, n) for n in content_layers}
    wanted_s = {art.aliases.get(n, n) for n in style_layers}
    model = nn.Sequential()
    model.add_module("normalization", art.preprocess)
    plain = nn.Sequential(art.preprocess)  # the same layers without loss modules, for the targets
    content_losses, style_losses = [], []
    for name, layer in art.net.named_children():
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)
        model.add_module(f"layer_{name}", layer)
        plain.add_module(f"layer_{name}", layer)
        if name in wanted_c:
            target = plain(content).detach()
            cl = ContentLoss(target, 1.0 / float(target.pow(2).mean()))
            model.add_module(f"content_loss_{name}", cl)
            content_losses.append(cl)
        if name in wanted_s:
            sl = StyleLoss(plain(style).detach())
            model.add_module(f"style_loss_{name}", sl)
            style_losses.append(sl)
        if len(content_losses) + len(style_losses) == len(module_of):
            break  # the tutorial trims everything after the last loss layer
    model.eval().requires_grad_(False)
    return model, content_losses, style_losses


def tutorial_loss(model, content_losses, style_losses, input_img, *, content_weight, style_weight, tv_weight):
    """The loss computed in the tutorial's closure (with the same TV term as cnnlab's objective)."""
    model(input_img)
    s = sum(sl.loss for sl in style_losses)
    c = sum(cl.loss for cl in content_losses)
    dy = input_img[:, :, 1:] - input_img[:, :, :-1]
    dx = input_img[..., 1:] - input_img[..., :-1]
    return style_weight * s + content_weight * c + tv_weight * (dy.pow(2).mean() + dx.pow(2).mean())


def tutorial_baseline(art, content, style, content_layers, style_layers, *, num_steps=300, **weights):
    """The tutorial's ``run_style_transfer``, on the same objective."""
    model, content_losses, style_losses = tutorial_model(art, content, style, content_layers, style_layers)
    input_img = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            loss = tutorial_loss(model, content_losses, style_losses, input_img, **weights)
            loss.backward()
            run[0] += 1
            return loss

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img.detach(), run[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--baseline-steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="cnnlab runs (one before the tutorial, the rest after)")
    parser.add_argument("--skip-dream", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from cnnlab.art.features import FeatureExtractor
    from cnnlab.art.images import load_image, resize_long_side
    from cnnlab.art.presets import resolve_model
    from cnnlab.art.style import StyleObjective, style_transfer

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    art = resolve_model("vgg16_bn")
    content = resize_long_side(load_image("skimage:chelsea"), args.size)
    style = resize_long_side(load_image(STARRY), max(content.shape[-2:]))
    c_layers, s_layers = list(art.content_layers), list(art.style_layers)
    weights = dict(content_weight=1.0, style_weight=art.style_weight, tv_weight=art.tv_weight)
    extractor = FeatureExtractor(art.net, list(dict.fromkeys(c_layers + s_layers)), art.preprocess, aliases=art.aliases,
                                 channels_last=True)  # as style_transfer runs it
    common = StyleObjective(extractor, content, style, content_layers=c_layers, style_layers=s_layers, **weights)

    def score(img):
        with torch.no_grad():
            return {k: float(v) for k, v in common(img).items()}

    print(f"\nstyle transfer {content.shape[-1]}×{content.shape[-2]}, VGG16-BN (easyocr), content {c_layers}, "
          f"style {s_layers}, weights {weights}")
    per_eval = evaluation_seconds(art, common, content, style, c_layers, s_layers, weights)
    print(f"one full-size evaluation (median of 7): tutorial {per_eval[0] * 1e3:.0f} ms, cnnlab {per_eval[1] * 1e3:.0f} ms "
          f"({per_eval[0] / per_eval[1]:.2f}x)")
    print(f"{'method':<34}{'seconds':>9}{'evals':>7}{'total':>10}{'content':>10}{'style':>10}{'tv':>9}")
    runs = [style_transfer(content, STARRY, art, size=args.size)]  # cnnlab before the tutorial ...
    start = time.perf_counter()
    base_img, base_evals = tutorial_baseline(art, content, style, c_layers, s_layers, num_steps=args.baseline_steps, **weights)
    base_s = time.perf_counter() - start
    b = score(base_img)
    print(f"{f'tutorial (L-BFGS, {args.baseline_steps} steps, fp32)':<34}{base_s:>9.1f}{base_evals:>7}{b['total']:>10.4f}"
          f"{b['content']:>10.4f}{b['style']:>10.4f}{b['tv']:>9.4f}", flush=True)
    runs += [style_transfer(content, STARRY, art, size=args.size) for _ in range(args.repeats - 1)]  # ... and after
    seconds = sorted(r.seconds for r in runs)
    median_s = statistics.median(seconds)
    result = runs[0]
    m = score(result.image)
    stages = "+".join(str(sum(1 for h in result.history if h.width == w)) for w in dict.fromkeys(h.width for h in result.history))
    label = f"cnnlab defaults ({stages})"
    print(f"{label:<34}{median_s:>9.1f}{len(result.history):>7}{m['total']:>10.4f}"
          f"{m['content']:>10.4f}{m['style']:>10.4f}{m['tv']:>9.4f}")
    same = all(torch.equal(r.image, result.image) for r in runs)
    print(f"  cnnlab seconds over {len(runs)} runs: {', '.join(f'{t:.1f}' for t in seconds)} (median shown; "
          f"{'identical images' if same else 'images differ between runs'})")
    print(f"speed-up {base_s / median_s:.2f}x; total loss cnnlab / tutorial = {m['total'] / b['total']:.3f} "
          f"(goal: ≥ 2x faster at ≤ 1.0)", flush=True)
    if not args.skip_dream:
        dream_timings(args)


def evaluation_seconds(art, common, content, style, c_layers, s_layers, weights, repeats=7):
    """Median seconds of one forward+backward of the full-size objective: the tutorial's model vs cnnlab's."""
    model, content_losses, style_losses = tutorial_model(art, content, style, c_layers, s_layers)
    x = content.clone().requires_grad_(True)

    def tutorial_eval():
        x.grad = None
        tutorial_loss(model, content_losses, style_losses, x, **weights).backward()

    def cnnlab_eval():
        x.grad = None
        common(x)["total"].backward()

    return (median_time(tutorial_eval, repeats, warmup=2), median_time(cnnlab_eval, repeats, warmup=2))


def dream_timings(args) -> None:
    from cnnlab.art.dream import dream
    from cnnlab.art.images import load_image
    from cnnlab.art.presets import resolve_model

    photo = load_image("skimage:chelsea")
    photo = torch.nn.functional.interpolate(photo, size=(240, 320), mode="bilinear", antialias=True, align_corners=False)
    print("\nDeep Dream 320×240, 3 octaves × 10 steps (defaults)")
    for name in ("mobilenet_v2", "efficientnet_lite0"):
        model = resolve_model(name)
        r = dream(photo, model, octaves=3, steps=10, seed=0)
        print(f"{name:<20}{r.seconds:>7.1f} s  layers {', '.join(r.layers)}  objective "
              f"{r.objective[-1][0]:.4g} -> {r.objective[-1][-1]:.4g}")
    print(f"load average {os.getloadavg()[0]:.1f} after Deep Dream", flush=True)


if __name__ == "__main__":
    main()
