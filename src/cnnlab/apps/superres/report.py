"""The report sections of a super-resolution run (``cnnlab report RUN`` calls :func:`report_sections` for runs whose
``config.json`` has ``extra.app == "superres"``): Set5 per image with bicubic beside, PSNR curves, crops of ground
truth / bicubic / model, and the first-layer filters.

Sections are plain records (``id``, ``title``, ``blocks`` of HTML strings) that the report's page renderer draws;
pictures are embedded as data URIs, so this module needs nothing from the report package above it.
"""

from __future__ import annotations

import html

from cnnlab.htmlparts import Figure, Section, figure_html, table_html

__all__ = ["report_sections", "SRSection"]


SRSection = Section  # a report section (blocks: HTML strings or Figures)


def _figure(png: bytes, caption: str) -> str:
    return figure_html(Figure(png, caption))


_table = table_html


def report_sections(run, **options) -> tuple[str, list[SRSection]]:
    """``(subtitle, sections)`` for an SR run folder loaded by the core (``run.model``, ``run.extra``, ``run.path``).

    Set5 sections are left out (with a note) when Set5 at the run's scale is not available.
    """
    from cnnlab.apps.superres import figures
    from cnnlab.apps.superres.data import data_root, set5
    from cnnlab.apps.superres.protocol import evaluate

    extra = dict(run.extra or {})
    scale, name = int(extra["scale"]), str(extra.get("model", "model"))
    model = run.model.eval()
    subtitle = f"super-resolution ×{scale} ({extra.get('channels', 'y')}) trained on {extra.get('data', '?')}"
    curves = SRSection("sr-curves", "PSNR per epoch", [_figure(figures.curves_png({name: run.path}), "PSNR curves")])
    filters = SRSection("sr-filters", "First-layer filters", [_figure(figures.filters_png(model, name), "filters")])
    if scale not in (2, 3, 4) or not (data_root() / "Set5").is_dir():
        note = SRSection("sr-set5", "Set5", [f"<p>Set5 ×{scale} is not available (looked in "
                                             f"{html.escape(str(data_root()))}); no test-set numbers.</p>"])
        return subtitle, [note, curves, filters]
    images = set5(scale)
    ev = evaluate(model, scale, images)
    rows = [[s.name, f"{s.size[1]}×{s.size[0]}", f"{s.bicubic_psnr:.2f}", f"{s.bicubic_ssim:.4f}", f"{s.psnr:.2f}",
             f"{s.ssim:.4f}"] for s in ev.images]
    rows.append(["mean", "", f"{ev.mean('bicubic_psnr'):.2f}", f"{ev.mean('bicubic_ssim'):.4f}",
                 f"{ev.mean('psnr'):.2f}", f"{ev.mean('ssim'):.4f}"])
    table = SRSection("sr-set5", f"Set5 ×{scale} (Y channel, {scale}-pixel border shaved)", [
        "<p>The papers' protocol: the given MATLAB-bicubic LR files, MATLAB's Y, the border shaved by the scale.</p>",
        _table(["image", "size", "bicubic PSNR", "bicubic SSIM", f"{name} PSNR", f"{name} SSIM"], rows)])
    crops = SRSection("sr-crops", "Ground truth, bicubic, model", [
        _figure(figures.crops_png(model, images, scale, name), "Set5 crops")])
    return subtitle, [table, curves, crops, filters]
