"""Check a derivative someone wrote against the proven one: holds, holds under an assumption, or where not."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sympy import Add, Indexed, IndexedBase, KroneckerDelta, Mul, Symbol, expand

from derive.claims.deadline import deadline, or_skip
from derive.claims.point import Example, search
from derive.engine.definition import _inline
from derive.engine.differentiate import partial
from derive.engine.matrix import cases as split_cases
from derive.engine.prove import vanishes
from derive.engine.rewrite import in_terms_of, tidy
from derive.errors import InvalidInput
from derive.notation.symbols import i, j, vector
from derive.parse import ParseError, Vocabulary, read
from derive.userdefined import ExpressionError

HOLDS, ASSUMED, FAILS, UNPROVEN = "holds", "assumed", "fails", "unproven"
SECONDS = 60  # a claim is decided within this, or refused: a valid text can still ask for huge algebra
REWRITE_SECONDS = 10  # for writing the difference and its cases; past it, shown as claim − derivative
# How a verdict was reached; the templates say it in words.
CANCEL = "cancel"  # the definitions substituted, claim − derivative cancels to 0
BY_CASES = "cases"  # it cancels in the case i = j and, with δ_ij = 0, in the case i ≠ j
COUNTEREXAMPLE = "counterexample"  # a point where the two differ, exactly


@dataclass(frozen=True)
class Target:
    """What a claim is compared with: the derived entry, in which names, and the entry unassumed."""

    what: str  # "jacobian", "gradient" or "hessian"
    truth: object  # the derived entry, e.g. s[i]*(KroneckerDelta(i, j) - s[j])
    raw: object  # the derivative of the definition, in the inputs, no assumption applied
    rewrites: tuple  # (name, body in the inputs): what the claim may name and the difference is written in
    spelled: object  # the Definition whose assumptions apply


@dataclass(frozen=True)
class Verdict:
    """The answer to one claim."""

    function: object  # the registered Function
    text: str  # the claim as the user wrote it
    what: str
    free: str  # the free index of a gradient claim as written ("i" or "j"); "" for a Jacobian
    claim: object  # the parsed claim, the gradient's index written i
    truth: object
    status: str  # holds | assumed | fails | unproven
    method: str  # how it was decided: CANCEL, BY_CASES, COUNTEREXAMPLE, or "" (undecided)
    assumptions: tuple = ()  # (lhs, rhs) the claim needs
    difference: object = None  # claim − derivative, in the outputs and δ
    cases: tuple = ()  # ((Eq(i, j), d), (Ne(i, j), d)) of the difference
    differs: tuple = ()  # which cases differ: "same" (i = j), "other" (i ≠ j)
    example: Example | None = None  # a counterexample (fails) or a point without the assumption (assumed)

    def exit_code(self, strict: bool = False) -> int:
        """0 when the claim holds (or holds under its assumption, unless strict), else 1."""
        return 0 if self.status == HOLDS or (self.status == ASSUMED and not strict) else 1


def target(d, hessian: bool = False) -> Target:
    """The derived entry a claim about d is compared with."""
    spelled = d.spelled
    z = spelled.input
    if d.kind == "vector":
        if hessian:
            raise InvalidInput(
                f"'{d.function.name}' is a vector function: --claim-hessian is for scalar functions; "
                "use --claim alone for its Jacobian"
            )
        return Target("jacobian", d.general, partial(spelled.expanded, z[j]), spelled.rewrites, spelled)
    gradient = partial(spelled.expanded, z[i])
    # The gradient's own name (s for logsumexp), the intermediates, and the value L itself.
    names = _unique(
        d.hessian.spelled.rewrites + spelled.intermediates + ((spelled.output, spelled.expanded),)
    )
    if hessian:
        raw = partial(gradient, z[j])
        return Target("hessian", d.hessian.general, raw, names, spelled)
    return Target("gradient", d.general, gradient, names, spelled)


def _unique(rewrites) -> tuple:
    seen, kept = set(), []
    for key, body in rewrites:
        if key not in seen:
            seen.add(key)
            kept.append((key, body))
    return tuple(kept)


def vocabulary(d, goal: Target) -> Vocabulary:
    """The names a claim about d may use: the input, data vectors, outputs, intermediates, parameters."""
    vectors = {str(d.input.label): d.input}
    scalars = {}
    for key, _ in goal.rewrites:
        if isinstance(key, IndexedBase):
            vectors[str(key.label)] = key
        else:
            scalars[key.name] = key
    for a in d.definition.atoms(Indexed):
        vectors.setdefault(str(a.base.label), vector(str(a.base.label)))
    for symbol, _ in d.spelled.parameters:  # set with --param: the claim may still name them
        scalars[symbol.name] = symbol
    for name in d.function.parameter_names:
        scalars.setdefault(name, Symbol(name, positive=True))
    scalars.pop("n", None)
    # A gradient entry has one free index, i or j (parse_claim writes it as i), and so no δ_ij.
    free = {"i": i, "j": j}
    return Vocabulary(vectors, scalars, free, new_parameters=False, delta=goal.what != "gradient")


def parse_claim(text: str, d, goal: Target):
    """The claim as SymPy, over d's names, through the same allow-list parser as `derive expr`."""
    try:
        expr, _ = read(text, vocabulary(d, goal))
    except ParseError as error:
        raise ExpressionError(error) from None
    free = ""
    if goal.what == "gradient":
        if expr.has(i) and expr.has(j):
            raise InvalidInput(
                "a gradient entry has one free index: write ∂L/∂z_j with j (e.g. s[j] - y[j]) "
                "or with i, not both"
            )
        free = "j" if expr.has(j) else "i"
        expr = expr.xreplace({j: i})
    values = dict(d.spelled.parameters)
    return expr.xreplace(values), free


def check(d, text: str, hessian: bool = False, seconds: float = SECONDS) -> Verdict:
    """Compare the claim text with d's derivative: proven equal, equal under an assumption, or not."""
    goal = target(d, hessian)
    claim, free = parse_claim(text, d, goal)
    with deadline(seconds, "deciding the claim"):
        return _decide(d, goal, claim, text, free)


def _decide(d, goal: Target, claim, text: str, free: str) -> Verdict:
    comparison = _Comparison(goal, claim)
    common = dict(function=d.function, text=text, what=goal.what, free=free, claim=claim, truth=goal.truth)
    # A counterexample at the first small point settles most wrong claims before any algebra.
    example = _find(comparison, assumed=True, quick=True)
    if example is None:
        if comparison.zero(comparison.unassumed):
            return Verdict(**common, status=HOLDS, method=comparison.how)
        spelled = goal.spelled
        if spelled.assumptions and comparison.zero(comparison.assumed):
            used = spelled.assumptions_used(comparison.unassumed)
            example = _find(comparison, assumed=False)
            return Verdict(**common, status=ASSUMED, method=comparison.how, assumptions=used, example=example)
        example = _find(comparison, assumed=True)
        if example is None:
            return Verdict(**common, status=UNPROVEN, method="")
    spelled = goal.spelled
    difference = comparison.difference()
    split, differs = (), ()
    if goal.what != "gradient":
        with or_skip(REWRITE_SECONDS, "the cases of the difference"):
            split = split_cases(difference)
            labelled = zip(split, ("same", "other"), strict=False)
            differs = tuple(case for (_, value), case in labelled if comparison.nonzero(value, case))
    return Verdict(
        **common,
        status=FAILS,
        method=COUNTEREXAMPLE,
        assumptions=spelled.assumptions,
        difference=difference,
        cases=split,
        differs=differs,
        example=example,
    )


class _Comparison:
    """claim − derivative in the inputs, and the proofs that it vanishes (or not)."""

    def __init__(self, goal: Target, claim):
        self.goal, self.claim = goal, claim
        self.how = ""

    def inputs(self, expr):
        """expr with every output and intermediate replaced by its definition in the inputs."""
        return _inline(expr, self.goal.rewrites)

    @cached_property
    def unassumed(self):
        return self.inputs(self.claim) - self.goal.raw

    @cached_property
    def assumed(self):
        return self.goal.spelled.assume(self.unassumed)

    def zero(self, expr) -> bool:
        """Whether expr vanishes for every n, i and j: as it stands, or in the cases i = j and i ≠ j."""
        if vanishes(expr):
            self.how = CANCEL
            return True
        if not expr.has(KroneckerDelta) and not expr.has(j):
            return False
        same = expr.xreplace({j: i})
        other = expr.replace(lambda e: isinstance(e, KroneckerDelta), lambda e: 0)
        if vanishes(same) and vanishes(other):
            self.how = BY_CASES
            return True
        return False

    def nonzero(self, expr, case: str) -> bool:
        """Whether expr (a case of the difference) is not zero: a point where it is not, or no proof it is."""

        if expr == 0:
            return False
        if search(self.goal, expr, True, derived=0, case=case) is not None:
            return True
        return not self.zero(self.goal.spelled.assume(self.inputs(expr)))

    def difference(self):
        """claim − derivative written in the outputs and δ, checked equal to the difference in the inputs."""
        goal = self.goal
        z = goal.spelled.input
        candidates = [
            lambda: tidy(self.claim - goal.truth),  # fast, and right when the claim uses the same names
            lambda: in_terms_of(self.assumed, goal.rewrites, z),
        ]
        if self.claim.has(z):
            candidates.reverse()
        for candidate in candidates:
            with or_skip(REWRITE_SECONDS, "rewriting the difference"):
                form = unflipped(candidate())
                if self.zero(goal.spelled.assume(self.inputs(form)) - self.assumed):
                    return form
        return self.claim - goal.truth  # as it stands: too large to rewrite within the limit


def unflipped(expr):
    """Two sums in a product that both read better negated are negated: (δ − 1)(s − 1) → (1 − δ)(1 − s)."""
    if not expr.args:
        return expr
    expr = expr.func(*(unflipped(a) for a in expr.args))
    if not isinstance(expr, Mul):
        return expr
    factors = list(expr.args)
    worse = [k for k, f in enumerate(factors) if isinstance(f, Add) and _reads_better_negated(f)]
    for a, b in zip(worse[::2], worse[1::2], strict=False):
        factors[a], factors[b] = expand(-factors[a]), expand(-factors[b])
    return Mul(*factors)


def _reads_better_negated(expr) -> bool:
    terms = Add.make_args(expr)
    negative = sum(1 for t in terms if t.could_extract_minus_sign())
    constant = expr.as_coeff_Add()[0]
    return 2 * negative > len(terms) or (2 * negative == len(terms) and constant.is_negative)


def _find(comparison: _Comparison, assumed: bool, quick: bool = False) -> Example | None:
    """The first small point where claim and derivative differ (y satisfying the assumptions if assumed);
    quick tries only the first point of each size."""

    return search(comparison.goal, comparison.claim, assumed, quick=quick)


__all__ = ["Verdict", "Example", "check", "target", "HOLDS", "ASSUMED", "FAILS", "UNPROVEN"]
