"""The report sections of a speech run (``cnnlab report RUN`` calls :func:`report_sections` for runs whose
``config.json`` has ``extra.app == "speech"``): test accuracy per speaker and the confusion matrix, test
spectrograms with the first convolution's footprint drawn on them, the learned first-layer filters, and the
Allison digits when installed.

Sections are plain records (``id``, ``title``, ``blocks`` of HTML strings) that the report's page renderer
draws; pictures are embedded as data URIs, so this module needs nothing from the report package above it.
"""

from __future__ import annotations


import numpy as np
import torch

from cnnlab.pictures import figure_png
from cnnlab.htmlparts import Figure, Section, figure_html, table_html

__all__ = ["report_sections", "SpeechSection"]


SpeechSection = Section  # a report section (blocks: HTML strings or Figures)


def _figure(png: bytes, caption: str) -> str:
    return figure_html(Figure(png, caption))


_table = table_html


def _png(fig) -> bytes:
    return figure_png(fig, dpi=90, tight=False)


def _first_conv(model) -> torch.nn.Conv2d | None:
    return next((m for m in model.body.modules() if isinstance(m, torch.nn.Conv2d)), None)


def spectrograms_png(feats: torch.Tensor, titles: list[str], conv: torch.nn.Conv2d | None) -> bytes:
    """Log-mel images (K, M, T) side by side, the first convolution's kernel drawn as a box at the loudest spot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, len(feats), figsize=(3.0 * len(feats), 2.6), squeeze=False)
    for ax, f, title in zip(axes[0], feats, titles):
        ax.imshow(f.numpy(), origin="lower", aspect="auto", cmap="magma")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("frame")
        if conv is not None:
            kh, kw = conv.kernel_size
            m, t = divmod(int(f.argmax()), f.shape[1])
            ax.add_patch(Rectangle((t - kw / 2, m - kh / 2), kw, kh, fill=False, edgecolor="cyan", linewidth=1.5))
    axes[0][0].set_ylabel("mel band")
    fig.tight_layout()
    return _png(fig)


def filters_png(conv: torch.nn.Conv2d) -> bytes:
    """First-layer kernels: one column per filter (frequency up) for k×1 kernels, else one tile per filter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = conv.weight.detach()[:, 0]  # (F, KH, KW)
    if w.shape[2] == 1:
        fig, ax = plt.subplots(figsize=(6, 2.4))
        ax.imshow(w[:, :, 0].T.numpy(), origin="lower", aspect="auto", cmap="coolwarm")
        ax.set_xlabel("filter")
        ax.set_ylabel("mel bin within the kernel")
    else:
        n = w.shape[0]
        fig, axes = plt.subplots(1, n, figsize=(0.6 * n, 0.9), squeeze=False)
        for ax, k in zip(axes[0], w):
            ax.imshow(k.numpy(), origin="lower", cmap="coolwarm")
            ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def confusion_png(cm: np.ndarray) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > cm.max() / 2 else "black")
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("spoken digit")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    fig.tight_layout()
    return _png(fig)


def report_sections(run, **_options) -> tuple[str, list[SpeechSection]]:
    """``(subtitle, sections)`` for a run folder of ``cnnlab speech train`` loaded by the core."""
    from cnnlab.apps.speech.data import list_fsdd, load_waveforms, split_clips
    from cnnlab.apps.speech.training import TOP_DB, allison_files, predict_files

    extra = dict(run.extra or {})
    split = str(extra.get("split", "official"))
    model = run.model.eval()
    clips = split_clips(list_fsdd(), split)["test"]
    x, y = load_waveforms(clips, sample_rate=model.sample_rate, length=model.length,
                          top_db=float(extra.get("top_db", TOP_DB)))
    with torch.no_grad():
        feats = model.features(x)
        pred = torch.cat([model(feats[i:i + 500]).argmax(1) for i in range(0, len(feats), 500)])
    cm = np.zeros((10, 10), dtype=int)
    np.add.at(cm, (y.numpy(), pred.numpy()), 1)
    rows = []
    for name in sorted({c.speaker for c in clips}):
        idx = [i for i, c in enumerate(clips) if c.speaker == name]
        rows.append([name, str(len(idx)), f"{100 * float((pred[idx] == y[idx]).float().mean()):.1f}%"])
    acc = 100 * float((pred == y).float().mean())
    ev = SpeechSection("speech-test", f"Test accuracy ({split}): {acc:.2f}% on {len(y)} clips",
                       [_table(["speaker", "clips", "accuracy"], rows), _figure(confusion_png(cm), "confusion matrix")])
    conv = _first_conv(model)
    pick = [next(i for i, c in enumerate(clips) if c.digit == d) for d in (1, 4, 7, 9)]
    footprint = (f"box: the first convolution's {conv.kernel_size[0]}×{conv.kernel_size[1]} (mel bins × frames) "
                 "footprint at the loudest bin") if conv is not None else "a DNN has no convolution footprint"
    spec = SpeechSection("speech-spectrograms", "Test spectrograms (the model's own front end)",
                         [_figure(spectrograms_png(feats[pick], [f"{clips[i].digit} ({clips[i].speaker}) -> "
                                                                 f"{int(pred[i])}" for i in pick], conv), footprint)])
    secs = [ev, spec]
    if conv is not None:
        secs.append(SpeechSection("speech-filters", "Learned first-layer filters",
                                  [_figure(filters_png(conv), f"{conv.out_channels} kernels of "
                                                              f"{conv.kernel_size[0]}×{conv.kernel_size[1]}")]))
    files = allison_files()
    if files:
        preds = predict_files(model, files)
        right = sum(p["digit"] == str(d) for d, p in enumerate(preds))
        secs.append(SpeechSection("speech-allison", f"Allison digits (a voice never trained on): {right}/10",
                                  [_table(["spoken", "predicted", "probability"],
                                          [[str(d), p["digit"], f"{p['probability']:.2f}"]
                                           for d, p in enumerate(preds)])]))
    return f"spoken digits, FSDD split {split}", secs
