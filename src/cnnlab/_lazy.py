"""Lazy attribute loading for package ``__init__`` modules (PEP 562), so ``import cnnlab`` stays cheap."""

from __future__ import annotations

import importlib
from typing import Callable, Dict, List, Tuple


def attach(package: str, names: Dict[str, str]) -> Tuple[Callable[[str], object], Callable[[], List[str]], List[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for ``package``.

    Args:
        package: the importing package's ``__name__`` (for error messages and caching).
        names: public name -> ``"module"`` or ``"module:attribute"``.

    Example:
        >>> __getattr__, __dir__, __all__ = attach(__name__, {"summary": "cnnlab.analysis.summarize:summary"})
    """
    public = sorted(names)

    def __getattr__(name: str):
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        value = getattr(module, attr) if attr else module
        setattr(importlib.import_module(package), name, value)  # cache: next access skips __getattr__
        return value

    def __dir__():
        return list(public)

    return __getattr__, __dir__, public
