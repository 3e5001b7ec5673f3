"""The pipeline: define → differentiate → simplify → prove, recorded as an immutable Derivation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, cached_property

from derive import matrix, prove, registry
from derive.differentiate import expand_where, partial
from derive.errors import InvalidInput, ProofFailed
from derive.registry import Function
from derive.rewrite import in_terms_of
from derive.symbols import i, j, vector

MAX_N = 4096


@dataclass(frozen=True)
class Derivation:
    """Everything derived about one function: the forms, the explicit matrix, and their proofs."""

    function: Function
    n: int | None
    definition: object  # s_i in the inputs, intermediates expanded
    raw: object  # ∂s_i/∂z_j as differentiation gives it
    general: object  # the same in the function's own outputs, e.g. s_i(δ_ij − s_j)
    cases: tuple  # ((i = j, expr), (i ≠ j, expr))
    matrix_form: object  # e.g. diag(s) − s sᵀ, or None when the entries do not take that shape
    proofs: tuple

    @property
    def output(self):
        """The output vector s, indexed."""
        return vector(self.function.output)

    @property
    def input(self):
        """The input vector z, indexed."""
        return vector(self.function.input)

    @property
    def definitions(self) -> dict:
        """Each output and intermediate base, with its body at index i in the inputs alone."""
        return _definitions(self.function)

    @cached_property
    def table(self) -> matrix.Explicit | None:
        """The explicit Jacobian, entry by entry on demand (None without n)."""
        return None if self.n is None else matrix.Explicit(self.general, self.n)

    @cached_property
    def jacobian(self):
        """The explicit n×n Jacobian as a SymPy matrix (None without n)."""
        return None if self.table is None else self.table.matrix()

    @property
    def proven(self) -> bool:
        """Whether every proof holds."""
        return all(p.holds for p in self.proofs)

    def _repr_markdown_(self):
        # Jupyter shows the Markdown write-up; LaTeX consumers (nbconvert) get the key results.
        from derive.document import notebook

        return notebook(self, "markdown")

    def _repr_latex_(self):
        from derive.document import notebook

        return notebook(self, "latex")


def derive(function: str | Function, n: int | None = None) -> Derivation:
    """Derive the Jacobian of a registered function (or a Function), proven, for any n or a given n."""
    fn = registry.get(function) if isinstance(function, str) else function
    size = _checked_size(n)
    d = _general(fn)
    if size is None:
        return d
    table = matrix.Explicit(d.general, size)
    proof = _require(prove.explicit(table, _definitions(fn), d.input))
    return replace(d, n=size, proofs=d.proofs + (proof,))


@cache
def _general(fn: Function) -> Derivation:
    """The n-independent part of a derivation, proven; cached because every n shares it."""
    definitions = _definitions(fn)
    s, z = vector(fn.output), vector(fn.input)
    definition = definitions[s]
    raw = partial(definition, z[j])
    general = in_terms_of(raw, list(definitions.items()), z)
    split = matrix.cases(general)
    form = matrix.matrix_form(general)
    proofs = (
        prove.general(raw, general, definitions),
        prove.cases(general, split),
        prove.matrix(general, form),
        prove.instances(lambda size: matrix.Explicit(general, size), definitions, z),
    )
    for p in proofs:
        _require(p)
    return Derivation(fn, None, definition, raw, general, split, form, proofs)


def _definitions(fn: Function) -> dict:
    """The output and each intermediate, indexed by i, written in the inputs alone."""
    where = tuple((vector(name), body, i) for name, body in fn.where)
    found = {vector(fn.output): expand_where(fn.definition, where)}
    for base, body, _ in where:
        found[base] = expand_where(body, where)
    return found


def _require(proof: prove.Proof) -> prove.Proof:
    if not proof.holds:
        raise ProofFailed(f"proof failed: {proof.claim} ({proof.method}; {proof.detail})")
    return proof


def _checked_size(n) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidInput(f"n must be a whole number, not {n!r}")
    if not 1 <= n <= MAX_N:
        raise InvalidInput(f"n must be between 1 and {MAX_N}, got {n}")
    return n
