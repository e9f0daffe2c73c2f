"""Names a package loads on first use (PEP 562), for a package's ``__init__``.

``netfilter`` keeps its nftables half out of an iptables-save parse, ``cluster`` keeps the
scenario models (pydantic) out of ``trace --iptables-save``.  Both say which module holds
each name and take the module's ``__getattr__`` and ``__dir__`` from here.  Stdlib only
(it lives in ``netfilter`` so that every layer above may import it).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["lazy_names"]


def lazy_names(package: str, where: dict[str, str], namespace: dict[str, Any]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package ``package`` (its ``__name__``)
    whose globals are ``namespace``: a name of ``where`` (name -> relative module, e.g.
    ``".dump"``) is imported on first use and then kept as a global."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())) | set(where))

    return __getattr__, __dir__
