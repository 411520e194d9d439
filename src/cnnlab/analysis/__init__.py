"""Model summary and complexity analysis: shapes, parameters, MACs/FLOPs, receptive field, memory, time.

Collect → record → render: :func:`summary` (``collect``/``summarize``, torch) fills plain records
(``records``, no torch), which pure functions render as text, markdown, JSON or HTML (``render``, no
torch). Names load lazily so ``import cnnlab.analysis.render`` never imports torch; ``render`` is
that submodule (its dispatcher: ``cnnlab.analysis.render.render`` or ``Summary.render``).

Example (any ``nn.Module``)::

    s = cnnlab.summary(model, (1, 28, 28))
    print(s)                  # Keras-like table with MACs, FLOPs, receptive-field and memory columns
    s.to_dict()               # the JSON contract of ``cnnlab summary --format json``
"""

from __future__ import annotations

from cnnlab._lazy import attach

_LAZY = {
    "summary": "cnnlab.analysis.summarize:summary",
    "Summary": "cnnlab.analysis.records:Summary",
    "LayerRecord": "cnnlab.analysis.records:LayerRecord",
    "to_text": "cnnlab.analysis.render:to_text",
    "to_markdown": "cnnlab.analysis.render:to_markdown",
    "to_json": "cnnlab.analysis.render:to_json",
    "to_html": "cnnlab.analysis.render:to_html",
    "matmul_peak_gflops": "cnnlab.analysis.profile:matmul_peak_gflops",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
