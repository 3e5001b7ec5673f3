"""Claims: takes a Derivation and a derivative someone wrote (a formula, or a backward in a Python file);
gives a verdict: holds, holds under an assumption, or does not hold, with the difference and a
counterexample.

claim decides a formula, point finds the counterexample, view writes the verdict in every format,
backward checks a user's backward numerically and diagnosis names the term it misses.
"""
