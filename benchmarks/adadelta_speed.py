"""cnnlab's Adadelta (lazy on embedding-sized tables) against torch.optim.Adadelta, on Kim's CNN-rand step.

Run: ``python benchmarks/adadelta_speed.py [--dim 100] [--rounds 7] [--threads 1]``. Two measurements, each
as the median of alternating rounds (torch, cnnlab, torch, ...) in one process:
1. the optimiser step alone on an MR-sized table (18,766 words × D) whose gradient has 1,000 non-zero rows
   (a batch of 50 MR sentences touches about that many words);
2. a whole training step (forward, backward, step) of the TextCNN on real MR batches, when MR is there.
Prints the times and the ratios torch ÷ cnnlab (> 1: cnnlab is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv=None) -> int:
    import torch

    from cnnlab.errors import DataError
    from cnnlab.train.optim import Adadelta
    from cnnlab.train.perf import cpu_description

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    kinds = {"torch": torch.optim.Adadelta, "cnnlab": Adadelta}

    def step_alone(cls):
        gen = torch.Generator().manual_seed(0)
        p = torch.nn.Parameter(torch.randn(18766, args.dim, generator=gen))
        opt = cls([p], lr=1.0, rho=0.95, eps=1e-6)
        p.grad = torch.zeros_like(p)
        p.grad[torch.randperm(18766, generator=gen)[:1000]] = torch.randn(1000, args.dim, generator=gen)
        for _ in range(3):
            opt.step()
        start = time.perf_counter()
        for _ in range(20):
            opt.step()
        return (time.perf_counter() - start) / 20

    def train_step(cls, td):
        from cnnlab.apps.text.train import build_model, default_precision

        model, _ = build_model(td, "rand", None, args.dim, 1)
        opt = cls([p for p in model.parameters() if p.requires_grad], lr=1.0, rho=0.95, eps=1e-6)
        bf16 = default_precision() == "bf16"

        def one(i):
            xb, yb = td.x[i * 50:(i + 1) * 50], td.y[i * 50:(i + 1) * 50]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = model(xb)
            loss = torch.nn.functional.cross_entropy(out.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        for i in range(5):
            one(i)
        start = time.perf_counter()
        for i in range(30):
            one(5 + i)
        return (time.perf_counter() - start) / 30

    benches = {"optimiser step (18,766 × D, 1,000 rows with a gradient)": step_alone}
    try:
        from cnnlab.apps.text.train import prepare

        td = prepare("mr")
        perm = torch.randperm(len(td.y), generator=torch.Generator().manual_seed(0))
        td.x, td.y = td.x[perm], td.y[perm]
        benches["CNN-rand training step on MR (batch 50)"] = lambda cls: train_step(cls, td)
    except DataError as exc:  # MR missing: the first measurement still stands
        print(f"(MR training step skipped: {exc})")
    print(f"{cpu_description()}, {torch.get_num_threads()} thread(s), D = {args.dim}, {args.rounds} rounds")
    for name, fn in benches.items():
        times = {k: [] for k in kinds}
        for _ in range(args.rounds):
            for k, cls in kinds.items():
                times[k].append(fn(cls))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{name}: torch {1e3 * med['torch']:.2f} ms, cnnlab {1e3 * med['cnnlab']:.2f} ms, "
              f"torch ÷ cnnlab {med['torch'] / med['cnnlab']:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
