"""The engine: takes a registered function's definition; gives a Derivation, differentiated and proven.

registry finds the functions, definition readies one, differentiate and rewrite give ∂s_i/∂z_j in the
outputs, matrix its matrix form, prove the proofs, and derivation runs them all into one frozen record.
"""
