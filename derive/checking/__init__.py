"""The check: takes a Derivation and its generated module; gives a report of the module's numbers.

numeric imports the module and runs the checks of its kind (vector: F, J, VJP, JVP; scalar: L, gradient,
Hessian, HVP), one runner in checks reading the kind's data; each compares against central differences,
the complex step, float32 and the invariants the derivation proves, at the seeded points of points.
"""
