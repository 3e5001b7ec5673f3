"""The pipeline: define → differentiate → simplify → prove, recorded as an immutable Derivation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, cached_property

from sympy import Symbol

from derive.engine import cache as disk
from derive.engine import matrix, prove, registry
from derive.engine.definition import Definition, define
from derive.engine.differentiate import partial
from derive.engine.recognize import recognized
from derive.engine.rewrite import in_terms_of
from derive.engine.roots import as_defined
from derive.errors import InvalidInput, ProofFailed
from derive.guard.budget import stage
from derive.notation.function import Function
from derive.notation.symbols import i, j, vector

MAX_N = 4096


@dataclass(frozen=True)
class Derivation:
    """Everything derived about one function: the forms, the explicit matrix, and their proofs.

    For a vector function s(z): general is ∂s_i/∂z_j. For a scalar L(z): general is the gradient
    ∂L/∂z_i, and hessian is the derivation of that gradient as a vector function.
    """

    function: Function
    n: int | None
    definition: object  # s_i (or L) in the inputs, intermediates expanded
    raw: object  # ∂s_i/∂z_j (or ∂L/∂z_i) as differentiation gives it
    general: object  # the same in the function's own outputs, e.g. s_i(δ_ij − s_j)
    cases: tuple  # ((i = j, expr), (i ≠ j, expr)); empty for a scalar
    matrix_form: object  # diag(s) − s sᵀ (or the gradient as a vector, s − y), None if no such shape
    proofs: tuple
    spelled: Definition  # the definition as written, with its intermediates and assumptions
    hessian: Derivation | None = None
    assumed: tuple = ()  # the assumptions the result depends on, as (expression, value)

    @property
    def kind(self) -> str:
        """'vector' for s(z) ∈ ℝⁿ, 'scalar' for L(z) ∈ ℝ."""
        return self.spelled.kind

    @property
    def output(self):
        """The output: an indexed vector s, or the scalar symbol L."""
        return self.spelled.output

    @property
    def input(self):
        """The input vector z, indexed."""
        return vector(self.function.input)

    @property
    def definitions(self) -> dict:
        """Each output and intermediate, with its body (at index i) in the inputs alone."""
        return self.spelled.substitutions

    @property
    def for_any_n(self) -> Derivation:
        """The same derivation without a given n: the cached, n-independent part every n shares."""
        return _general(self.spelled)

    @cached_property
    def table(self):
        """The explicit Jacobian (or gradient), entry by entry on demand (None without n)."""
        if self.n is None:
            return None
        if self.kind == "scalar":
            return matrix.ExplicitVector(self.general, self.n)
        return matrix.Explicit(self.general, self.n)

    @cached_property
    def jacobian(self):
        """The explicit n×n Jacobian (n×1 gradient for a scalar) as a SymPy matrix (None without n)."""
        return None if self.table is None else self.table.matrix()

    @property
    def proven(self) -> bool:
        """Whether every proof holds, the Hessian's included."""
        return all(p.holds for p in self.proofs) and (self.hessian is None or self.hessian.proven)

    def _repr_markdown_(self):
        # Jupyter shows the Markdown write-up; LaTeX consumers (nbconvert) get the key results.
        return None if Notebook.show is None else Notebook.show(self, "markdown")

    def _repr_latex_(self):
        return None if Notebook.show is None else Notebook.show(self, "latex")


class Notebook:
    """How a notebook shows a Derivation: show(d, fmt) -> str, set by derive.api. The write-up that makes it
    sits above the engine, which does not import it; without it, a notebook shows the plain repr."""

    show = None


def derive(
    function: str | Function,
    n: int | None = None,
    params: dict | None = None,
    timeout: float | None = None,
    cache: bool | None = None,
    dims: dict | None = None,
    wrt=None,
):
    """Derive the Jacobian (or gradient and Hessian) of a function, proven, for any n or a given n.

    A function of several inputs (x, W, b) gets a block per input named in wrt (default: each one that is
    not data), for the sizes in dims ({"n": 3, "d": 2}; n is dims["n"]) or any sizes: an engine.blocks.Blocks.
    With timeout (seconds), the work runs in a worker process stopped at that deadline (and held to a
    memory limit), raising budget.GaveUp; without it, in this process, unbounded. The n-independent part
    is read from the disk cache when an entry there passes its re-check, and stored there; cache=False
    neither reads nor writes it (None: as the caller's cache.enabled says, by default on).
    """
    if timeout is not None:
        from derive.guard import budget

        return budget.run(derive, function, n, params, None, cache, dims, wrt, timeout=timeout)
    fn = registry.get(function) if isinstance(function, str) else function
    dims = {**({"n": n} if n is not None else {}), **(dims or {})}
    if fn.inputs:
        from derive.engine.blockstore import derive_blocks

        with disk.enabled(cache):
            return derive_blocks(fn, dims, params, wrt)
    _one_input(fn, dims, wrt)
    size = _checked_size(dims.get("n"))
    stage("defining")
    with disk.enabled(cache):
        d = _general(define(fn, params or {}))
        if size is None:
            return d
        stage(f"proving the matrix at n = {size}")
        return _at(d, size)


def _at(d: Derivation, size: int) -> Derivation:
    """The derivation with its explicit n×n matrix, whose sampled entries are proven at that n."""
    hessian = None if d.hessian is None else _at(d.hessian, size)
    shaped = replace(d, n=size, hessian=hessian)
    names = d.hessian.spelled if d.hessian is not None else None

    # Read from the disk cache when a stored proof at this n passes its numeric re-check (cache.py).
    def proven():
        return prove.explicit(shaped.table, d.spelled, size, names=names)

    proof = _require(disk.explicit(d.spelled, shaped.table, names, proven))
    return replace(shaped, proofs=d.proofs + (proof,))


@cache
def _general(spelled: Definition) -> Derivation:
    """The n-independent part of a derivation, proven; cached because every n shares it, and on disk."""
    stage("reading the cache")
    fields = disk.load(spelled, names_of)
    if fields is None:
        fields = _scalar(spelled) if spelled.kind == "scalar" else _vector(spelled)
        stage("storing in the cache")
        disk.save(spelled, fields, names_of)
    hessian = _general(names_of(spelled, fields["raw"])) if spelled.kind == "scalar" else None
    return Derivation(
        spelled.function,
        None,
        spelled.expanded,
        fields["raw"],
        fields["general"],
        fields["cases"],
        fields["form"],
        fields["proofs"],
        spelled,
        hessian,
        fields["assumed"],
    )


def names_of(spelled: Definition, raw) -> Definition:
    """The Definition whose outputs and intermediates the result is written in: spelled for a vector
    function; for a scalar, its gradient as a vector function (a registered one where it is recognised)."""
    if spelled.kind == "vector":
        return spelled
    return spelled.gradient_function(raw, recognized(raw, spelled))


def _vector(spelled: Definition) -> dict:
    """A vector function's derivative, its cases and matrix form, proven: the fields of its Derivation."""
    z = spelled.input
    stage("differentiating")
    raw = spelled.assume(partial(spelled.expanded, z[j]))
    stage("simplifying the derivative")
    rewritten = in_terms_of(raw, spelled.rewrites, z)
    # Its roots as the definition writes them, where that is all that differs: first choice when proven.
    rooted = as_defined(rewritten, spelled.expanded, z)
    # The form in the outputs when its proofs hold; else the derivative as differentiation gave it, in z,
    # which needs no rewriting proven (a wider engine than the rewriting: products of sums, entropies).
    stage("proving the general form, its cases and its matrix form")
    for general in dict.fromkeys(f for f in (rooted, rewritten, raw) if f is not None):
        split = matrix.cases(general)
        form = matrix.matrix_form(general)
        proofs = [prove.general(raw, general, spelled), prove.cases(general, split)]
        matrix_proof = prove.matrix(general, form)
        if not matrix_proof.holds:  # no matrix form rather than none at all
            form, matrix_proof = None, prove.matrix(general, None)
        proofs.append(matrix_proof)
        if all(p.holds for p in proofs):
            break
    proofs = (*proofs, prove.instances(lambda size: matrix.Explicit(general, size), spelled))
    for p in proofs:
        _require(p)
    used = spelled.assumptions_used(partial(spelled.expanded, z[j]))
    return {"raw": raw, "general": general, "cases": split, "form": form, "proofs": proofs, "assumed": used}


def _scalar(spelled: Definition) -> dict:
    """A scalar's gradient, proven: the fields of its Derivation (its Hessian is the gradient's Jacobian)."""
    stage("differentiating")
    raw = spelled.assume(partial(spelled.expanded, spelled.input[i]))
    as_vector = names_of(spelled, raw)
    # A gradient that is a registered function is written as its output (∇ logsumexp = s); any other
    # is written in the intermediates, never as itself.
    names = as_vector.rewrites if as_vector.recognized else spelled.intermediates
    stage("simplifying the gradient")
    gradient = in_terms_of(raw, names, spelled.input)
    first = prove.general(raw, gradient, as_vector)
    if not first.holds:  # the gradient as differentiation gave it, in z: nothing rewritten to prove
        gradient = raw
        first = prove.general(raw, gradient, as_vector)
    form = matrix.as_vector_form(gradient)
    stage("proving the gradient")
    proofs = (
        first,
        prove.instances(lambda size: matrix.ExplicitVector(gradient, size), spelled, names=as_vector),
    )
    for p in proofs:
        _require(p)
    used = spelled.assumptions_used(partial(spelled.expanded, spelled.input[i]))
    return {"raw": raw, "general": gradient, "cases": (), "form": form, "proofs": proofs, "assumed": used}


def _require(proof: prove.Proof) -> prove.Proof:
    if not proof.holds:
        raise ProofFailed(f"proof failed: {proof.claim} ({proof.method}; {proof.detail})")
    return proof


def _one_input(fn: Function, dims: dict, wrt) -> None:
    """Refuse a size or an input that a function of the one input z over n does not have."""
    for name in dims:
        if name != "n":
            raise InvalidInput(f"'{fn.name}' has no dimension '{name}'; its dimension: n")
    for name in wrt or ():
        if name != fn.input:
            raise InvalidInput(f"--wrt {name} is no input of '{fn.name}'; its input: {fn.input}")


def _checked_size(n) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidInput(f"n must be a whole number, not {n!r}")
    if not 1 <= n <= MAX_N:
        raise InvalidInput(f"n must be between 1 and {MAX_N}, got {n}")
    return n


__all__ = ["Derivation", "derive", "MAX_N", "Symbol"]
