"""Pure HTML rendering of the report: sections of figures, galleries and tables, one self-contained page.

No torch, no matplotlib: everything arrives as strings and PNG bytes, images are embedded as data URIs.
"""

from __future__ import annotations

from cnnlab.htmlparts import Figure, Section, esc, figure_html, table_html  # noqa: F401  (re-exported)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:14px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cfd8dc;font-size:13px}
nav{padding:8px 28px;background:#eceff1;font-size:13px}nav a{margin-right:14px;color:#37474f}
main{padding:8px 28px 40px}section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;margin:16px 0;padding:10px 18px}
h2{font-size:18px;margin:6px 0 10px}h3{font-size:14px;margin:12px 0 6px;color:#455a64}
figure{display:inline-block;margin:6px 10px 6px 0;vertical-align:top;text-align:center}
figcaption{font-size:12px;color:#546e7a;max-width:360px}img{image-rendering:pixelated;max-width:100%}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}p.note{font-size:12px;color:#607d8b}
"""


def _block(b) -> str:
    if isinstance(b, Figure):
        return figure_html(b)
    if isinstance(b, tuple):
        title, figs = b
        return f"<h3>{esc(title)}</h3>" + "".join(_block(f) for f in figs)
    return str(b)


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>' + "".join(_block(b) for b in s.blocks) + "</section>"
        for s in sections
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )
