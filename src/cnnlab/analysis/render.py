"""Render a :class:`~cnnlab.analysis.records.Summary` as text, markdown, JSON or HTML.

Pure functions of the records (torchinfo's ``formatting.py``): no torch import, no I/O. The text table
reads like Keras's ``model.summary()`` ("Layer (type)", "Output Shape", "Param #") with the columns
Keras lacks: conv/pool geometry, MACs and FLOPs (two labelled columns), receptive field, jump and start,
and output memory; ``--profile`` adds measured times and the achieved FLOP rate.
"""

from __future__ import annotations

import html
import json
from typing import Any, Callable, Dict, List, Sequence

from cnnlab.analysis.records import COUNTING_NOTE, MEMORY_NOTE, LayerRecord, Summary

FORMATS = ("text", "markdown", "json", "html")


def human(n: float, unit: str = "") -> str:
    """``human(1234567, "MACs")`` → ``"1.23 MMACs"`` (decimal prefixes, for counts)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {prefix}{unit}"
    return f"{n:g} {unit}".rstrip()


def human_bytes(n: float) -> str:
    """``1536`` → ``"1.50 KiB"`` (binary prefixes, for memory)."""
    for factor, prefix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {prefix}"
    return f"{int(n)} B"


def _shape(shape: Any) -> str:
    if shape is None:
        return "-"
    if shape and isinstance(shape[0], list):
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _axes(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "x".join(_axes(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def geometry(r: LayerRecord) -> str:
    """``"3x3 s1 p0"`` (plus ``d2``/``g32`` when not 1) for conv and pooling rows, else ``"-"``."""
    if not r.kernel_size:
        return "-"
    parts = [_axes(r.kernel_size), "s" + _axes(_same(r.stride)), "p" + _axes(_same(r.padding))]
    if r.dilation and any(d != 1 for d in r.dilation):
        parts.append("d" + _axes(_same(r.dilation)))
    if r.groups not in (None, 1):
        parts.append(f"g{r.groups}")
    return " ".join(parts)


def _same(v: Any) -> Any:
    if isinstance(v, list) and v and len(set(map(str, v))) == 1:
        return v[0]
    return v


def _rf(r: LayerRecord) -> str:
    text = _axes(r.receptive_field)
    return text + "*" if r.rf_merged and r.receptive_field is not None else text


def _label(r: LayerRecord) -> str:
    name = r.name or "(model)"
    call = f" #{r.call}" if r.call > 1 else (" (not called)" if r.call == 0 else "")
    return f"{'  ' * max(r.depth - 1, 0)}{name}{call} ({r.type})"


def _ms(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


Column = tuple  # (header, function of the row, right-aligned?)


def columns(s: Summary) -> List[Column]:
    """The table's columns: (header, cell function, right-aligned)."""
    cols = [
        ("Layer (type)", _label, False),
        ("Output Shape", lambda r: _shape(r.output_shape), False),
        ("Param #", lambda r: f"{r.params:,}", True),
        ("Kernel", geometry, False),
        ("MACs", lambda r: f"{r.macs:,}", True),
        ("FLOPs", lambda r: f"{r.flops:,}", True),
        ("RF", _rf, True),
        ("Jump", lambda r: _axes(r.jump), True),
        ("Start", lambda r: _axes(r.start), True),
        ("Out mem", lambda r: human_bytes(r.activation_bytes), True),
    ]
    if s.profiled:
        peak = s.peak_gflops or 0
        cols += [
            ("Fwd ms", lambda r: _ms(r.forward_ms), True),
            ("Bwd ms", lambda r: _ms(r.backward_ms), True),
            ("GFLOP/s", lambda r: "-" if r.gflops_per_s is None else f"{r.gflops_per_s:.2f}", True),
            ("% peak", lambda r: "-" if r.gflops_per_s is None or not peak
             else f"{100 * r.gflops_per_s / peak:.1f}", True),
        ]
    return cols


def totals(s: Summary) -> List[tuple]:
    """(label, value) lines under the table."""
    lines = [
        ("Total params", f"{s.total_params:,}"),
        ("Trainable params", f"{s.trainable_params:,}"),
        ("Non-trainable params", f"{s.non_trainable_params:,}"),
        ("Total MACs", f"{s.total_macs:,} ({human(s.total_macs, 'MACs')})"),
        ("Total FLOPs", f"{s.total_flops:,} ({human(s.total_flops, 'FLOPs')})"),
        ("Receptive field", f"{_axes(s.receptive_field)} (largest before global pooling; "
                            "* = largest of merged paths)"),
        ("Input size", human_bytes(s.input_bytes)),
        ("Params size", human_bytes(s.param_bytes)),
        ("Buffers size", human_bytes(s.buffer_bytes)),
        ("Activation memory (forward)", human_bytes(s.activation_bytes)),
        ("Forward/backward pass size (est.)", human_bytes(s.forward_backward_bytes)),
        ("Estimated total size", human_bytes(s.total_bytes)),
        ("Counted on", f"{s.device}, batch {s.batch_size}, {s.dtype}, input {_shape(s.input_shape)}"),
    ]
    if s.profiled:
        lines.append(("Measured", f"forward {_ms(s.forward_ms)} ms, backward {_ms(s.backward_ms)} ms "
                                  f"(medians); matmul peak {s.peak_gflops:.2f} GFLOP/s"))
    if s.uncounted_ops:
        ops = ", ".join(f"{op} (x{n})" for op, n in s.uncounted_calls.items()) if s.uncounted_calls \
            else ", ".join(s.uncounted_ops)
        lines.append(("Uncounted ops", ops))
    else:
        lines.append(("Uncounted ops", "none"))
    return lines


def notes(s: Summary) -> List[str]:
    """The counting and memory conventions, plus anything the collector had to say."""
    return [COUNTING_NOTE, MEMORY_NOTE, *s.notes]


def to_text(s: Summary) -> str:
    """The Keras-like text table."""
    cols = columns(s)
    cells = [[fn(r) for _, fn, _ in cols] for r in s.layers]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, (h, _, _) in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if cols[i][2] else v.ljust(w) for i, (v, w) in
                         enumerate(zip(values, widths))).rstrip()

    width = sum(widths) + 2 * (len(widths) - 1)
    out = [f'Model: "{s.model}"', "=" * width, line([h for h, _, _ in cols]), "=" * width]
    out += [line(row) for row in cells]
    out.append("=" * width)
    label_w = max(len(k) for k, _ in totals(s))
    out += [f"{k + ':':<{label_w + 1}} {v}" for k, v in totals(s)]
    out.append("-" * width)
    out += notes(s)
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(s: Summary) -> str:
    """A GitHub-flavoured markdown table plus the totals as a list."""
    cols = columns(s)
    out = [f"### Model `{s.model}`", ""]
    out.append("| " + " | ".join(h for h, _, _ in cols) + " |")
    out.append("|" + "|".join("---:" if right else ":---" for _, _, right in cols) + "|")
    for r in s.layers:
        cells = [fn(r) for _, fn, _ in cols]
        cells[0] = cells[0].strip()
        out.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    out.append("")
    out += [f"- **{k}**: {_md_escape(v)}" for k, v in totals(s)]
    out.append("")
    out += [f"> {n}" for n in notes(s)]
    return "\n".join(out) + "\n"


def to_json(s: Summary, extended: bool = False) -> str:
    """One JSON document: the contract keys (:meth:`Summary.to_dict`), extended on request."""
    return json.dumps(s.to_dict(extended=extended), indent=2) + "\n"


_CSS = """
.cnnlab-summary{font-family:system-ui,sans-serif;font-size:13px}
.cnnlab-summary table{border-collapse:collapse}
.cnnlab-summary th,.cnnlab-summary td{padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap}
.cnnlab-summary th{background:#f3f3f3;text-align:left}
.cnnlab-summary td.num{text-align:right;font-variant-numeric:tabular-nums}
.cnnlab-summary tr.container td{color:#666}
.cnnlab-summary dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
.cnnlab-summary dt{font-weight:600}.cnnlab-summary dd{margin:0}
.cnnlab-summary .note{color:#555;font-size:12px;max-width:70em}
"""


def to_html(s: Summary, full_page: bool = False) -> str:
    """A self-contained HTML fragment (scoped inline CSS, no scripts, no external files).

    Args:
        full_page: wrap the fragment in a minimal ``<!doctype html>`` page.
    """
    e = html.escape
    cols = columns(s)
    head = "".join(f"<th>{e(h)}</th>" for h, _, _ in cols)
    rows = []
    for r in s.layers:
        cls = "" if r.is_leaf else ' class="container"'
        tds = []
        for i, (_, fn, right) in enumerate(cols):
            text = fn(r)
            if i == 0:
                tds.append(f'<td style="padding-left:{8 + 14 * max(r.depth - 1, 0)}px">{e(text.strip())}</td>')
            else:
                tds.append(f'<td class="num">{e(text)}</td>' if right else f"<td>{e(text)}</td>")
        rows.append(f"<tr{cls}>{''.join(tds)}</tr>")
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in totals(s))
    note = "".join(f'<p class="note">{e(n)}</p>' for n in notes(s))
    frag = (f'<div class="cnnlab-summary"><style>{_CSS}</style>'
            f"<h3>Model <code>{e(s.model)}</code></h3>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<dl>{dl}</dl>{note}</div>\n")
    if full_page:
        return (f'<!doctype html><html><head><meta charset="utf-8"><title>{e(s.model)} summary</title>'
                f"</head><body>{frag}</body></html>\n")
    return frag


RENDERERS: Dict[str, Callable[[Summary], str]] = {
    "text": to_text, "markdown": to_markdown, "json": to_json, "html": to_html,
}


def render(s: Summary, format: str = "text") -> str:
    """Render ``s`` in one of :data:`FORMATS`.

    Raises:
        ConfigError: an unknown format (the message lists the known ones).
    """
    fn = RENDERERS.get(format)
    if fn is None:
        from cnnlab.errors import ConfigError

        raise ConfigError(f"`format` must be one of {', '.join(FORMATS)}; got {format!r}")
    return fn(s)
