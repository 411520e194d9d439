"""Shared command line of the validation-only pilot scripts (``nielsen_pilots.py``, ``text_pilots.py``)."""

from __future__ import annotations

import argparse


def add_configs(parser: argparse.ArgumentParser, configs: dict) -> None:
    """The ``--configs NAME,...`` option over ``configs``' names (all of them when omitted)."""
    parser.add_argument("--configs", default="", help=f"comma-separated, of: {', '.join(configs)} [all]")


def config_names(parser: argparse.ArgumentParser, text: str, configs: dict) -> list[str]:
    """The names ``--configs`` asked for, in order; an unknown one is the parser's one-line error."""
    names = [c for c in text.split(",") if c] or list(configs)
    unknown = [c for c in names if c not in configs]
    if unknown:
        parser.error(f"unknown config {unknown[0]!r}; known: {', '.join(configs)}")
    return names
