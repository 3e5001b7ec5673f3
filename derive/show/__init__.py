"""Showing: takes a Derivation; gives text for a terminal, JSON, formulas printed, and files written safely.

printing and docprint are SymPy's printers taught the notes' notation; templating loads every stage's
templates; terminal and jsonify show a Derivation; output writes files atomically.
"""
