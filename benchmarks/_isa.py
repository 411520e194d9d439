"""``--isa avx2``: run a benchmark as on a CPU without AVX-512 and native bf16, on a machine that has them.

Call :func:`apply` before torch is imported. It sets ``ATEN_CPU_CAPABILITY=avx2`` (PyTorch's own kernels),
``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN's convolutions and matrix products, in PyTorch and in TensorFlow),
``MKL_ENABLE_INSTRUCTIONS=AVX2`` (MKL's matrix products behind ``nn.Linear``) and ``CNNLAB_CPU_BF16=0`` (cnnlab's bf16 detection); child processes inherit them. Clock speed and caches stay
those of this machine: ratios measured this way stand for the AVX2 machine kind, absolute numbers do not.
"""

from __future__ import annotations

import os
import sys

ISA_ENV = {"avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                    "CNNLAB_CPU_BF16": "0"}}


def apply(argv=None) -> str:
    """Read ``--isa NAME`` from ``argv`` (default ``sys.argv``), set its environment, return the name or "native"."""
    argv = sys.argv[1:] if argv is None else argv
    name = "native"
    for i, arg in enumerate(argv):
        if arg == "--isa" and i + 1 < len(argv):
            name = argv[i + 1]
        elif arg.startswith("--isa="):
            name = arg.split("=", 1)[1]
    if name != "native":
        if name not in ISA_ENV:
            raise SystemExit(f"--isa must be native or {', '.join(ISA_ENV)}; got {name!r}")
        if "torch" in sys.modules:
            raise RuntimeError("_isa.apply must run before torch is imported")
        os.environ.update(ISA_ENV[name])
    return name


def describe() -> str:
    """The CPU as the kernels see it: torch's capability and whether bf16 counts as native."""
    import torch

    from cnnlab.train import perf

    return (f"{perf.cpu_description()}; torch kernels {torch.backends.cpu.get_cpu_capability()}, native bf16 "
            f"{'yes' if perf.cpu_bf16_native() else 'no'}"
            + (f" (emulating {os.environ['ONEDNN_MAX_CPU_ISA']} via --isa)" if "ONEDNN_MAX_CPU_ISA" in os.environ else ""))
