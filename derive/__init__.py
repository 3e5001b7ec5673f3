"""derive: Jacobians of ML functions, derived by SymPy from their definitions, proven, rendered and emitted.

>>> from derive import derive, render
>>> d = derive("softmax", n=4)
>>> print(render(d, "latex"))
"""

from derive._version import __version__ as __version__  # public: derive.__version__

_API = ("Derivation", "derive", "render", "emit", "check")


def __getattr__(name):
    # SymPy takes a third of a second to import: load it on first use, not on `import derive`.
    if name in _API:
        from derive import api

        return getattr(api, name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])


__all__ = list(_API)
