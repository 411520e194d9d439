"""The building blocks of report pages: sections, figures, tables (plain HTML, no torch, no matplotlib).

They live in the foundation so the applications (``cnnlab.apps.<name>.report``) can build typed sections that
the report (a floor above them) renders; :mod:`cnnlab.report.html` assembles the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from cnnlab.pictures import data_uri

__all__ = ["Figure", "Section", "esc", "figure_html", "table_html"]


@dataclass
class Figure:
    png: bytes
    caption: str = ""
    width: int | None = None  # CSS pixels; None = natural size


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(default_factory=list)  # str (raw HTML), Figure, or (h3 title, [Figure...])

    def add(self, block) -> "Section":
        self.blocks.append(block)
        return self


def esc(s) -> str:
    return html.escape(str(s), quote=True)


def figure_html(f: Figure) -> str:
    w = f' style="width:{int(f.width)}px"' if f.width else ""
    cap = f"<figcaption>{esc(f.caption)}</figcaption>" if f.caption else ""
    return f'<figure><img src="{data_uri(f.png)}" alt="{esc(f.caption)}"{w}>{cap}</figure>'


def table_html(header: list[str], rows: list[list], caption: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
