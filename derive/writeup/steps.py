"""Steps of a derivation: a named rule turning one expression into another, each checked before it is kept."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import permutations, product

from sympy import (
    Derivative,
    Eq,
    Gt,
    Indexed,
    KroneckerDelta,
    MatMul,
    MatrixBase,
    MatrixExpr,
    Mul,
    Ne,
    Piecewise,
    Sum,
    Symbol,
    UnevaluatedExpr,
    expand_log,
    solve,
    sympify,
)

from derive.engine.matrix import entries
from derive.engine.prove import back_to_inputs, vanishes
from derive.engine.sums import free_indices, normalize_sums
from derive.errors import ProofFailed
from derive.notation.symbols import INDICES, i, j, n, vector
from derive.show.printing import latex
from derive.writeup.citing import cited, opened, remember
from derive.writeup.summing import collapsed, derivative

DOTS = (r"\cdots", r"\vdots", r"\ddots")  # the names of the symbols an elided matrix shows
INSTANCES = (2, 3, 4, 5)  # the sizes a step is checked at when its indexed form resists algebra


@dataclass(frozen=True)
class Step:
    """One equality: `rule` turns `before` into `after` under `condition` (i = j, i ≠ j, an assumption)."""

    rule: str
    before: object
    after: object
    condition: object = None
    checked: str = ""  # "symbolic" or "instances": how the equality was verified
    # What the step was checked with (names, definitions): kept so that a stored step is checked again
    facts: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Facts:
    """What reading a step needs: each output's definition, and what names such as f, g, L, J stand for."""

    definitions: dict  # output base → its body at index i, in the inputs
    named: dict  # f, g, L → an expression; J, ∂s_r/∂z → a matrix, or the (i, j) entry it stands for
    # Intermediates whose derivatives are derived already, for the rules to use: a vector s → ∂s_i/∂z_j,
    # a scalar μ → ∂μ/∂z_j.
    known: dict = field(default_factory=dict)
    # (output, input) → ∂s_i/∂z_j for any i, j and n as the engine differentiated it (and proved): a
    # step's ∂s_2/∂z_3 is that, at i = 2, j = 3, not differentiated again.
    derivatives: dict = field(default_factory=dict)


def chain(facts: Facts, start, *links, condition=None) -> tuple[Step, ...]:
    """start = e₁ = e₂ = … for links (rule, eᵢ[, condition]), each checked; a repeat in print is dropped."""
    steps, before, known, printed = [], start, None, latex(start) if links else None
    for link in links:
        rule, after, *own = link
        text = latex(after)  # each side printed once: a link's right side is the next one's left
        if text == printed:
            continue
        step = Step(rule, before, after, own[0] if own else condition)
        # A link's right side is the next link's left: its value is taken once, not again.
        how, known = _checked(step, facts, known)
        steps.append(replace(step, checked=how, facts=facts))
        before, printed = after, text
    return tuple(steps)


def check(step: Step, facts: Facts) -> str:
    """How the step holds ("symbolic" or "instances"); ProofFailed when it does not."""
    return _checked(step, facts)[0]


def _checked(step: Step, facts: Facts, left=None) -> tuple[str, object]:
    """How the step holds, and the value of its right side (None when not taken); left is its left
    side's value if known."""
    if cited(step, facts):
        return "symbolic", None
    left = value(step.before, facts) if left is None else left
    right = value(step.after, facts)
    pairs = list(zip(_cells(left), _cells(right), strict=True))
    conditions = [step.condition]
    if step.condition is None and any(a.has(Piecewise) or b.has(Piecewise) for a, b in pairs):
        conditions = [Eq(i, j), Ne(i, j)]
    how = "symbolic"
    for condition in conditions:
        for a, b in pairs:
            held = _holds(a - b, condition)
            if not held:
                raise ProofFailed(
                    f"step '{step.rule}' does not hold: {latex(step.before)} ≠ {latex(step.after)}"
                )
            how = "instances" if held == "instances" else how
    opened(step, left, right)
    if how == "symbolic":
        remember(step, facts, conditions, left, right)
    return how, right


@lru_cache(maxsize=4096)  # the row view and the explicit matrix compare the same entries again
def _holds(difference, condition) -> str:
    """ "symbolic" or "instances" when difference vanishes under condition, else ""."""
    # An entry (a, b) of a matrix is an instance of one identity for any indices: proven once for
    # symbolic ones, it holds at every shown a ≠ b (or a = b) without being proven again at each.
    general = _generalised(difference, condition)
    if any(form in _PROVEN for form in general):
        return "symbolic"
    if general and _symbolic(*general[0]):
        _PROVEN.add(general[0])
        return "symbolic"
    return _proven(difference, condition)


_PROVEN = set()  # (difference, condition) in symbolic indices, proven to vanish for all their values


def _generalised(difference, condition) -> list:
    """[(the difference with its concrete indices made symbols, the condition those meet)], one for each
    order of the symbols: the difference at (1, 2) is the general one at i = 1, j = 2, so that proving
    the general one proves it. Empty when there is nothing to generalise or the values may coincide."""
    larger = isinstance(condition, Gt) and condition.args[0] == n  # n > m
    # an assumption on sums (Σ_k y_k = 1) with no free index holds whatever the indices are called
    assumed = isinstance(condition, Eq) and condition.lhs.has(Sum) and not condition.has(*INDICES[:2])
    if condition is not None and not (larger or assumed):
        return []
    found = difference.atoms(Indexed, KroneckerDelta, Symbol)
    places = [e for e in found if isinstance(e, (Indexed, KroneckerDelta))]
    values = {v for e in places for v in _indices(e) if v.is_Integer or v == n}
    if not values or len(values) > 2:
        return []
    rest = values - {n}
    if n in values and (assumed or rest and not (larger and all(v <= condition.args[1] for v in rest))):
        return []  # n is apart from the other values only where the condition says so: n > m ≥ them
    if assumed:
        found |= condition.atoms(Symbol)
    spare = [x for x in INDICES if x not in found][: len(values)]
    if len(spare) < len(values):
        return []
    forms = []
    for order in permutations(sorted(values, key=lambda v: (v == n, v if v.is_Integer else 0))):
        to, back = dict(zip(order, spare, strict=True)), dict(zip(spare, order, strict=True))
        general = difference.xreplace({e: _renamed_indices(e, to) for e in places})
        # Sound because the general difference gives this one back exactly at the values it came from.
        again = {e: _renamed_indices(e, back) for e in general.atoms(Indexed, KroneckerDelta)}
        if general.xreplace(again) == difference:
            # Proven for every n unless n ≤ m leaves a case open (a Piecewise on n ≥ 2): then for n > m,
            # which holds at the instance too, n shifted past m as under() does; an assumption used
            shifted = under(condition, general) if assumed or general.has(Piecewise) else general
            forms.append((shifted, Ne(*spare) if len(spare) == 2 else None))
    return forms


def _indices(e) -> tuple:
    return e.indices if isinstance(e, Indexed) else e.args


def _renamed_indices(e, to: dict):
    """An indexed entry or a δ with each index that is a key of to replaced by its value."""
    renamed = [to.get(v, v) for v in _indices(e)]
    return e.base[tuple(renamed)] if isinstance(e, Indexed) else KroneckerDelta(*renamed)


def _proven(difference, condition) -> str:
    """ "symbolic" or "instances" when difference vanishes under condition, else ""."""
    if _symbolic(difference, condition):
        return "symbolic"
    return "instances" if _at_instances(difference, condition) else ""


def _symbolic(difference, condition) -> bool:
    """Whether algebra reduces difference to zero under condition."""
    under_it = _written_out(under(condition, difference))
    logs_expanded = expand_log(under_it, force=False)
    return vanishes(under_it) or (logs_expanded != under_it and vanishes(logs_expanded))


def _written_out(expr):
    """Sums over a few concrete terms written out: differentiation writes Σ_{k=1}^{4} out in some places
    and not in others, and algebra must see z_1 + … + z_4 and Σ_{k=1}^{4} z_k as the same."""
    few = max(INSTANCES) + 1
    return expr.replace(
        lambda e: isinstance(e, Sum) and all(lim[2].is_Integer and lim[2] <= few for lim in e.limits),
        lambda e: e.doit(),
    )


def _cells(expr) -> list:
    return list(expr) if isinstance(expr, MatrixBase) else [expr]


def value(expr, facts: Facts):
    """expr in the inputs alone: names expanded, derivatives taken, outputs replaced by their definitions."""
    expr = sympify(expr)
    if expr in facts.named and not expr.is_Symbol:
        expr = facts.named[expr]  # J, or ∂s_r/∂z: a name for a matrix or for its (i, j) entry
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: value(e, facts))
    if isinstance(expr, MatMul) and any(isinstance(a, MatrixBase) for a in expr.args):
        # c · (the entries), a factor pulled out of a written-out matrix: c times each entry, ⋯ kept
        scale = Mul(*(a for a in expr.args if not isinstance(a, MatrixBase)))
        (written,) = (a for a in expr.args if isinstance(a, MatrixBase))
        return written.applyfunc(lambda e: e if getattr(e, "name", None) in DOTS else value(scale * e, facts))
    if isinstance(expr, MatrixExpr):
        expr = entries(expr) if expr.shape[1] != 1 else _entry_of_column(expr)
    expr = expr.replace(lambda e: isinstance(e, UnevaluatedExpr), lambda e: e.args[0])
    expr = expr.xreplace({name: body for name, body in facts.named.items() if name.is_Symbol})
    expr = expr.replace(lambda e: isinstance(e, Derivative), lambda e: _take(e, facts))
    return collapsed(back_to_inputs(expr, facts.definitions))


def _entry_of_column(column):
    """Entry i of a column expression such as s − y, in indexed form."""
    return (
        column[i, 0]
        .doit()
        .replace(lambda e: e.func.__name__ == "MatrixElement", lambda e: vector(e.parent.name)[e.i])
    )


def _take(derivative, facts: Facts):
    """An unevaluated derivative, evaluated: with respect to an output as written, to an input through it."""
    body = derivative.expr
    for variable, count in derivative.variable_count:
        for _ in range(count):
            if isinstance(variable, Indexed) and variable.base in facts.definitions:
                body = collapsed(renamed_apart(body, variable).diff(variable))
            elif _indexed(body, variable) and (body.base, variable.base) in facts.derivatives:
                # both indices into the general derivative at once: ∂s_j/∂z_i swaps i and j
                at = {i: body.indices[0], j: variable.indices[0]}
                body = facts.derivatives[body.base, variable.base].xreplace(at)
            else:
                body = _partial(back_to_inputs(body, facts.definitions), variable)
    return body


def _partial(body, variable):
    """∂body/∂variable, taken once for z_i and z_j alike: where body has neither index, the derivative by
    z_j is the one by z_i with i renamed j (the loss and its vector form differentiate L by both)."""
    if isinstance(variable, Indexed) and len(variable.indices) == 1 and variable.indices[0] in INDICES:
        (index,) = variable.indices
        taken = body.atoms(Symbol)
        first = next((x for x in INDICES if x not in taken), index)
        if index not in taken and first != index:
            found = derivative(body, variable.base[first])
            if index not in found.atoms(Symbol):
                return found.xreplace({first: index})
    return derivative(body, variable)


def _indexed(*exprs) -> bool:
    return all(isinstance(e, Indexed) for e in exprs)


def derivatives_of(d) -> dict:
    """(s, z) → d's derivative ∂s_i/∂z_j, for the steps to reuse; none when it was taken under the
    function's assumptions (Σ y = 1), which a step must show where it uses them."""
    if d.kind != "vector" or d.spelled.assumptions:
        return {}
    return {(d.output, d.input): d.raw}


def renamed_apart(expr, variable):
    """Σ_k y_k log s_k, to be differentiated by s_k, with its summation index renamed (l, m, …)."""
    clash = variable.free_symbols
    taken = expr.free_symbols | clash | {limit[0] for s in expr.atoms(Sum) for limit in s.limits}
    spare = iter(name for name in INDICES[2:] if name not in taken)
    return expr.replace(
        lambda e: isinstance(e, Sum) and any(limit[0] in clash for limit in e.limits),
        lambda e: e.xreplace({limit[0]: next(spare) for limit in e.limits if limit[0] in clash}),
    )


def under(condition, expr):
    """expr where condition holds: i = j sets j to i; i ≠ j sets j to i + 1; Σ y = 1 substitutes the sum."""
    if condition is None:
        return expr
    lhs, rhs = condition.args
    if lhs == n:
        # n > m: every shown index 1..m stays apart from n, as in the ⋯ matrix for any n
        return expr.xreplace({n: n + rhs})
    if lhs in INDICES and rhs in INDICES:
        return expr.xreplace({rhs: lhs}) if isinstance(condition, Eq) else expr.subs({rhs: lhs + 1})
    if lhs.has(Sum) and not lhs.has(n):
        # at a given n the sum may be written out: Σ_{k=1}^{4} y_k = 1 makes y_4 = 1 − y_1 − y_2 − y_3
        last, value = _solved_for_last(lhs, rhs)
        return expr.doit().xreplace({last: value})
    return normalize_sums(expr).xreplace({normalize_sums(lhs): rhs})


@lru_cache(maxsize=256)  # the same assumption is put into every entry of every step
def _solved_for_last(lhs, rhs):
    """(y_n, its value) from Σ_k y_k = rhs written out at a given n: y_n = rhs − y_1 − … − y_{n−1}."""
    written = lhs.doit()
    last = max(written.atoms(Indexed), key=lambda a: (str(a.base), a.indices))
    slope = (written - rhs).diff(last)
    if slope.is_number and slope != 0:
        # linear in y_n: the one root, found without solve, which takes seconds on sixty-four terms
        rest = (written - rhs - slope * last).expand()
        return last, -rest / slope
    return last, solve(written - rhs, last)[0]


def _at_instances(difference, condition) -> bool:
    """Whether difference vanishes at n = 2..5, for every value of its free indices that meets condition."""
    if condition is not None and not (isinstance(condition, Ne) and set(condition.args) <= set(INDICES)):
        difference, condition = under(condition, difference), None  # i = j and assumptions: substituted
    names = sorted(free_indices(difference), key=str)
    for size in INSTANCES:
        for values in product(range(1, size + 1), repeat=len(names)):
            at = dict(zip(names, values, strict=True))
            if condition is not None and set(condition.args) <= set(at) and not condition.xreplace(at):
                continue
            if not vanishes(difference.xreplace({**at, n: size}).doit()):
                return False
    return True
