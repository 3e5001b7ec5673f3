"""derive's version, in a module of its own so that every layer may read it (the wheel reads it too)."""

__version__ = "0.1.0"
