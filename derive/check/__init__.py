"""The check: takes a Derivation and its generated module; gives a report of the module's numbers.

numeric imports the module and draws seeded points; checks compares it against central differences, the
complex step, float32 and the invariants (invariants) the derivation proves; scalarchecks does a scalar's.
"""
