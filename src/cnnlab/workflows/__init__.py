"""Command workflows: what a CLI command does between parsing and printing.

A workflow imports library packages (``explain``, ``data``, ``train``, ``zoo``, ...) and is imported only by
``cli/`` and ``report/``; library packages never import it.
"""
