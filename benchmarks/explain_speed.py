"""Explanation latency as ratios to baselines measured in the same run (timings never go in unit tests).

1. Grad-CAM on MobileNetV2 at 224² (offline pretrained weights if installed, else random weights) against
   one forward+backward pass of the same image: (a) backward of the class logit to the input with frozen
   parameters (what a saliency map costs) and (b) backward with parameter gradients (a training step
   without the optimiser). Goal: Grad-CAM ≤ ~1.5 × (a).
2. Occlusion on one 28×28 MNIST image with lecture_cnn, 4×4 window, stride 1 (25×25 = 625 occluded copies,
   batched) against one forward pass of a single image, of a 128-image batch (the training batch size),
   of the 625 copies as one batch, and a Python loop of 625 single-image forwards. lecture_cnn at 28² is
   compute-bound per image (2.8 MMACs), so 625 copies cost ~625 images' compute whatever the batching:
   "a handful of forward passes" is read as forward passes of a 128-image batch.

Usage: .venv/bin/python benchmarks/explain_speed.py [--threads N] [--repeats R]
"""

from __future__ import annotations

import argparse
import os

import torch
from _timing import median_time


def mobilenet():
    from cnnlab import zoo

    try:
        return zoo.load_pretrained("mobilenet_v2"), "pretrained"
    except ImportError:
        return zoo.create("mobilenet_v2").eval(), "random weights (asset package missing)"


def bench_gradcam(repeats: int) -> dict:
    from cnnlab.explain import GradCAM

    model, weights = mobilenet()
    x = torch.rand(1, 3, 224, 224)
    target = 207

    def fwd_bwd_input():
        for p in model.parameters():
            p.requires_grad_(False)
        xi = x.clone().requires_grad_(True)
        model(xi)[0, target].backward()

    def fwd_bwd_params():
        for p in model.parameters():
            p.requires_grad_(True)
        model.zero_grad(set_to_none=True)
        model(x)[0, target].backward()

    def fwd():
        with torch.no_grad():
            model(x)

    gc = GradCAM(model)
    gc.attribute(x, target=target)  # picks the default layer once
    t_fwd = median_time(fwd, repeats, warmup=2)
    t_in = median_time(fwd_bwd_input, repeats, warmup=2)
    t_par = median_time(fwd_bwd_params, repeats, warmup=2)
    for p in model.parameters():
        p.requires_grad_(True)
    t_gc = median_time(lambda: gc.attribute(x, target=target), repeats, warmup=2)
    return dict(weights=weights, layer=[n for n, m in model.named_modules() if m is gc.layer][0], forward_ms=1e3 * t_fwd,
                fwd_bwd_input_ms=1e3 * t_in, fwd_bwd_params_ms=1e3 * t_par, gradcam_ms=1e3 * t_gc,
                ratio_vs_input_bwd=t_gc / t_in, ratio_vs_param_bwd=t_gc / t_par)


def bench_occlusion(repeats: int) -> dict:
    from cnnlab import zoo
    from cnnlab.explain import Occlusion
    from cnnlab.explain.occlusion import window_masks

    model = zoo.create("lecture_cnn").eval()
    x = torch.rand(1, 1, 28, 28)
    masks = window_masks((28, 28), (4, 4), (1, 1)).reshape(-1, 1, 28, 28)
    copies = torch.where(masks, torch.zeros(()), x)  # (625, 1, 28, 28)
    occ = Occlusion(model)
    res = {"copies": int(masks.shape[0])}

    def one():
        with torch.no_grad():
            model(x)

    batch128 = copies[:128].clone()

    def b128():
        with torch.no_grad():
            model(batch128)

    def all_at_once():
        with torch.no_grad():
            model(copies)

    def loop():
        with torch.no_grad():
            for i in range(copies.shape[0]):
                model(copies[i : i + 1])

    t_one = median_time(one, repeats * 5, warmup=2)
    t_batch = median_time(all_at_once, repeats, warmup=2)
    t_128 = median_time(b128, repeats, warmup=2)
    t_loop = median_time(loop, max(1, repeats // 2), warmup=1)
    res.update(single_forward_ms=1e3 * t_one, batched_forward_625_ms=1e3 * t_batch, loop_625_ms=1e3 * t_loop,
               forward_128_ms=1e3 * t_128)
    for bs in (64, 625):
        t = median_time(lambda: occ.attribute(x, window=(4, 4), stride=(1, 1), baseline=0.0, batch_size=bs), repeats, warmup=2)
        res[f"occlusion_bs{bs}_ms"] = 1e3 * t
        res[f"bs{bs}_ratio_vs_single_forward"] = t / t_one
        res[f"bs{bs}_ratio_vs_128_batch_forward"] = t / t_128
        res[f"bs{bs}_ratio_vs_one_625_batch_forward"] = t / t_batch
        res[f"bs{bs}_speedup_vs_loop"] = t_loop / t
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          "(numpy BLAS only; torch is unaffected)")
    g = bench_gradcam(args.repeats)
    print(f"\nGrad-CAM, mobilenet_v2 ({g['weights']}), 1×3×224×224, layer {g['layer']}")
    print(f"  forward only            {g['forward_ms']:8.1f} ms")
    print(f"  fwd+bwd to input        {g['fwd_bwd_input_ms']:8.1f} ms   (baseline a)")
    print(f"  fwd+bwd with param grads{g['fwd_bwd_params_ms']:8.1f} ms   (baseline b)")
    print(f"  Grad-CAM                {g['gradcam_ms']:8.1f} ms   = {g['ratio_vs_input_bwd']:.2f} × a, "
          f"{g['ratio_vs_param_bwd']:.2f} × b   (goal ≤ ~1.5 × a)")
    o = bench_occlusion(args.repeats)
    print(f"\nOcclusion, lecture_cnn, 1×1×28×28, 4×4 window, stride 1 ({o['copies']} occluded copies)")
    print(f"  one forward, 1 image        {o['single_forward_ms']:8.2f} ms")
    print(f"  one forward, 128 images     {o['forward_128_ms']:8.2f} ms")
    print(f"  one forward, 625 images     {o['batched_forward_625_ms']:8.2f} ms")
    print(f"  loop of 625 forwards        {o['loop_625_ms']:8.2f} ms")
    for bs in (64, 625):
        print(f"  Occlusion batch_size={bs:<4}  {o[f'occlusion_bs{bs}_ms']:8.2f} ms   = "
              f"{o[f'bs{bs}_ratio_vs_128_batch_forward']:.1f} × one 128-image forward, "
              f"{o[f'bs{bs}_ratio_vs_single_forward']:.0f} × one 1-image forward, "
              f"{o[f'bs{bs}_ratio_vs_one_625_batch_forward']:.2f} × one 625-image forward, "
              f"{o[f'bs{bs}_speedup_vs_loop']:.1f}× faster than the loop")


if __name__ == "__main__":
    main()
