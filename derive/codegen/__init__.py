"""Code generation: takes a Derivation; gives the source of a module that computes it and its derivatives.

The shared lowering first: products splits the general form, broadcast and entries make it NumPy arrays
(arrays, statements), stable adds the max shift, loops makes Numba loops, npcode and pystyle print code,
module holds what every target's module shares. Then one module per target: numpy, numba; targets picks
one. Each target fills its template in templates/.
"""
