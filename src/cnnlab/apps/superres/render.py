"""Text rendering of an SR evaluation (pure: records in, string out)."""

from __future__ import annotations

__all__ = ["evaluation_text"]


def _f(v, fmt: str) -> str:
    width = int(fmt.split(".")[0])
    return f"{'-':>{width}}" if v is None else format(v, fmt)


def evaluation_text(ev: dict, model: str = "model") -> str:
    """A per-image table (PSNR dB / SSIM on Y, shave = scale) of ``Evaluation.to_dict()`` with the mean row.

    The model columns are left out when the evaluation has no model (``psnr`` is ``None``).
    """
    head = f"{ev['data']} ×{ev['scale']} (Y channel, {ev['scale']}-pixel border shaved)"
    cols = f"{'image':<10} {'size':>9}  {'bicubic PSNR':>12} {'SSIM':>7}  {model + ' PSNR':>14} {'SSIM':>7}"
    lines = [head, cols, "-" * len(cols)]
    for s in ev["images"]:
        size = f"{s['size'][1]}×{s['size'][0]}"
        lines.append(f"{s['name']:<10} {size:>9}  {_f(s['bicubic_psnr'], '12.2f')} {_f(s['bicubic_ssim'], '7.4f')}  "
                     f"{_f(s['psnr'], '14.2f')} {_f(s['ssim'], '7.4f')}")
    m = ev["mean"]
    lines += ["-" * len(cols), f"{'mean':<10} {'':>9}  {_f(m['bicubic_psnr'], '12.2f')} {_f(m['bicubic_ssim'], '7.4f')}  "
                               f"{_f(m['psnr'], '14.2f')} {_f(m['ssim'], '7.4f')}"]
    if m["psnr"] is None:
        cut = len(cols) - 23
        lines = [line[:cut].rstrip() if i else line for i, line in enumerate(lines)]
    return "\n".join(lines) + "\n"
