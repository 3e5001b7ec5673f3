"""Code generation: takes a Derivation; gives the source of a module that computes it.

The shared lowering first: products splits the general form, broadcast and entries make NumPy arrays of
it (arrays, statements), stable the max shift, loops the Numba loops, npcode and pystyle print code.
Then one module per target over it: numpy, numba (and scalarcode, a scalar's gradient as a target's
function); each fills its template beside it.
"""
