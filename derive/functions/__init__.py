"""Registered functions: one module each, holding FUNCTION, a definition and nothing derived."""
