"""A step at concrete indices cited from an identity already proven for symbolic ones, not proven again."""

from __future__ import annotations

from functools import lru_cache

from sympy import (
    Add,
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
    sympify,
)

from derive.notation.symbols import INDICES, i, j, n

# (shape of before, shape of the definitions) → the identities proven with them: a long-lived process
# (a notebook) keeps each function's apart
_PROVEN = {}


class _Identity:
    """before = after, proven for every value of its indices (names) that meets condition, and every n.
    What it takes to cite it is worked out when it is first asked for: most are never cited."""

    __slots__ = ("before", "after", "condition", "facts", "values", "_usable")
    __slots__ += ("names", "known", "needs_n", "folds")

    def __init__(self, before, after, condition, facts, values):
        self.before, self.after, self.condition, self.facts = before, after, condition, facts
        self.values = values  # both sides' values as checked
        self._usable = None

    def usable(self) -> bool:
        """Whether it holds for symbolic indices and every n: stated with no entry at a number or at n,
        and with no case split on n among its values (n ≥ 2, say)."""
        if self._usable is None:
            before, after = self.before, self.after
            # a side that holds a name for something else (∂L/∂z for the column of ∂L/∂z_i) means what
            # the facts it was proven with say: not kept
            names = [key for key in self.facts.named if not key.is_Symbol]
            self._usable = not (
                any(_open_in_n(v) for v in self.values)
                or _values(before)
                or _values(after)
                or any(before.has(key) or after.has(key) for key in names)
            )
            if self._usable:
                self.names = frozenset(_index_names(before, after))
                self.known = _context(self.facts, (before, after))  # what its names meant
                self.folds = after.has(KroneckerDelta, Piecewise)  # evaluates once its indices are numbers
                self.needs_n = any(x.has(n) for x in (before, after, *(value for _, value in self.known)))
        return self._usable


def remember(step, facts, conditions: list, left, right) -> None:
    """Keep a step proven symbolically for symbolic indices and n, so that its instances can cite it:
    under i = j as the step with j made i; under i ≠ j as it stands; a case split {A if i = j, B if
    i ≠ j} proven under both also as its two cases."""
    before, after = sympify(step.before), sympify(step.after)
    if isinstance(before, (MatrixBase, MatrixExpr)) or isinstance(after, (MatrixBase, MatrixExpr)):
        return
    condition = step.condition
    found = []
    if condition is None and conditions == [None]:
        found.append((before, after, None))
    elif condition is None and conditions == [Eq(i, j), Ne(i, j)]:
        found.append((before, after, None))
        split = [c for _, c in after.args] if isinstance(after, Piecewise) else []
        if split in ([Eq(i, j), Ne(i, j)], [Eq(i, j), True]):
            (same, _), (other, _) = after.args
            found += [(before.xreplace({j: i}), same.xreplace({j: i}), None), (before, other, Ne(i, j))]
    elif condition == Eq(i, j):
        found.append((before.xreplace({j: i}), after.xreplace({j: i}), None))
    elif condition == Ne(i, j) or _assumption(condition):
        found.append((before, after, condition))
    for b, a, c in found:
        key = (_shape(b, n), _defined(facts, n))
        _PROVEN.setdefault(key, []).append(_Identity(b, a, c, facts, (left, right)))


def remember_chain(steps) -> None:
    """Keep start = end of a chain whose every step is proven symbolically with one set of facts, under
    no condition or one assumption (Σ_k y_k = 1) for them all: ∂L/∂z_j = … = s_j − y_j."""
    steps = [step for step in steps if step.checked]
    if len(steps) < 2 or any(
        step.checked != "symbolic" or step.facts is not steps[0].facts for step in steps
    ):
        return
    conditions = {step.condition for step in steps} - {None}
    if len(conditions) > 1 or conditions and not _assumption(*conditions):
        return
    if any((step.before, step.after, step.condition) in _OPEN for step in steps):
        return
    start, end = sympify(steps[0].before), sympify(steps[-1].after)
    if isinstance(start, (MatrixBase, MatrixExpr)) or isinstance(end, (MatrixBase, MatrixExpr)):
        return
    # every step stated for symbolic indices: then each holds for all of them, and so does the chain
    if any(_values(sympify(step.before)) or _values(sympify(step.after)) for step in steps):
        return
    condition = conditions.pop() if conditions else None
    key = (_shape(start, n), _defined(steps[0].facts, n))
    _PROVEN.setdefault(key, []).append(_Identity(start, end, condition, steps[0].facts, ()))


def opened(step, left, right) -> None:
    """Note a step whose values split into cases on n: no chain through it is kept."""
    if _open_in_n(left) or _open_in_n(right):
        _OPEN.add((step.before, step.after, step.condition))


_OPEN = set()


def _assumption(condition) -> bool:
    """Whether condition is an assumption on sums that holds whatever the indices: Σ_k y_k = 1."""
    return isinstance(condition, Eq) and condition.lhs.has(Sum) and not condition.has(i, j)


def cited(step, facts) -> bool:
    """Whether every entry of the step is an instance of an identity proven for symbolic indices (or the
    same on both sides): the identity with its indices and n set to the step's values gives the entry
    exactly, the values meet its condition (i ≠ j: values that cannot coincide), and every name the
    entry reads means what it meant there with n set."""
    if not _PROVEN:
        return False
    befores, afters = _cells(step.before, facts), _cells(step.after, facts)
    if befores is None or afters is None or len(befores) != len(afters):
        return False
    size = None
    pairs = [(b, a) for b, a in zip(befores, afters, strict=True) if b != a]
    for b, a in pairs:
        size = _size(facts, b, a) if size is None else size
        if size is False or not _instance(b, a, facts, size, step.condition):
            return False
    return bool(pairs) or befores == afters


def _instance(before, after, facts, size, condition) -> bool:
    """Whether before = after is one of the proven identities at some values of its indices."""
    # keyed by the left side alone: δ_ij at numbers is already 1 or 0 on the right
    found = []
    for known in _PROVEN.get((_shape(before, size), _defined(facts, size)), ()):
        if not known.usable():
            continue
        at = _match(known.before, before, {}, known.names, size)
        if at is not None and all(v == n or v.is_Integer and v >= 1 for v in at.values()):
            if _meets(known, at, size, condition):
                found.append((known, at))
    context = _context(facts, (before, after)) if found else None
    # node for node first; else, where δ_ij at numbers is already 1 or 0 and terms fold at i = j
    # (e^{z_2} e^{z_2} = e^{2 z_2}), against the identity's right side at the values as SymPy builds it
    for known, at in found:
        if _match(known.after, after, at, known.names, size) is not None:
            if _known_at(known.known, size) == context:
                return True
    for known, at in found:
        if known.folds or len(set(at.values())) < len(at):
            if known.after.xreplace({**at, n: size}) == after and _known_at(known.known, size) == context:
                return True
    return False


@lru_cache(maxsize=4096)  # the identities of one write-up share their facts
def _known_at(known: tuple, size) -> tuple:
    """What the names meant, with n set to size."""
    return tuple((key, value.xreplace({n: size})) for key, value in known)


def _match(general, expr, at: dict, names, size):
    """at extended so that general with its index names set by it (and n = size) is expr, node for
    node (the terms of a sum or a product in any order); None when it is not."""
    if general in names:
        if general in at:
            return at if at[general] == expr else None
        return {**at, general: expr} if expr.is_Integer or expr == size else None
    if general == n:
        return at if expr == size else None
    if not general.args:
        return at if general == expr else None
    if general.func != expr.func or len(general.args) != len(expr.args):
        return None
    if isinstance(general, (Add, Mul)):
        return _match_terms(list(general.args), list(expr.args), at, names, size)
    for g, e in zip(general.args, expr.args, strict=True):
        at = _match(g, e, at, names, size)
        if at is None:
            return None
    return at


def _match_terms(general: list, terms: list, at: dict, names, size):
    if not general:
        return at
    for k, term in enumerate(terms):
        found = _match(general[0], term, at, names, size)
        if found is not None:
            done = _match_terms(general[1:], terms[:k] + terms[k + 1 :], found, names, size)
            if done is not None:
                return done
    return None


def _meets(known: _Identity, at, size, given) -> bool:
    """Whether the values at (and n = size) lie where the identity was proven: each index in 1..n where
    n matters, i ≠ j where the identity needs it."""
    bound = given.args[1] if isinstance(given, Gt) and given.args[0] == n else None
    for v in at.values():
        if v.is_Integer and known.needs_n:
            if size.is_Integer and v > size:
                return False
            if not size.is_Integer and v > 1 and not (bound is not None and bound >= v - 1):  # n > v − 1
                return False
    if known.condition is None:
        return True
    if _assumption(known.condition):
        # proven where the assumption holds: cited only by a step that assumes it too, at this n
        return given == known.condition.xreplace({n: size})
    a, b = at.get(i, i), at.get(j, j)
    if a.is_Integer and b.is_Integer:
        return a != b
    if n in (a, b) and a != b:
        # n apart from a number m only where the step says n > M ≥ m
        other = b if a == n else a
        return other.is_Integer and bound is not None and bound >= other
    return False


def _cells(expr, facts):
    """The entries a step's side stands for, as value() reads them; None where it reads a matrix
    expression, or an entry is itself a name for something else."""
    expr = sympify(expr)
    if expr in facts.named and not expr.is_Symbol:
        expr = facts.named[expr]
    if isinstance(expr, MatrixBase):
        found = list(expr)
    elif isinstance(expr, MatMul) and any(isinstance(a, MatrixBase) for a in expr.args):
        scale = Mul(*(a for a in expr.args if not isinstance(a, MatrixBase)))
        (written,) = (a for a in expr.args if isinstance(a, MatrixBase))
        found = [e if getattr(e, "name", None) in _DOTS else scale * e for e in written]
    elif isinstance(expr, MatrixExpr):
        return None
    else:
        found = [expr]
    names = [key for key in facts.named if not key.is_Symbol]
    if any(e.has(*names) for e in found) if names else False:
        return None
    return found


_DOTS = (r"\cdots", r"\vdots", r"\ddots")


def _values(expr) -> set:
    """The concrete index values in expr: numbers and n where an entry or a δ is indexed."""
    found = set()
    for e in expr.atoms(Indexed, KroneckerDelta):
        for v in e.indices if isinstance(e, Indexed) else e.args:
            if v.is_Integer or v == n:
                found.add(v)
    return found


def _index_names(*exprs) -> list:
    """The index symbols exprs use and do not sum over (a derivative's z_j binds j: counted here)."""
    found = set().union(*(e.atoms(Symbol) for e in exprs)) & set(INDICES)
    bound = {limit[0] for e in exprs for s in e.atoms(Sum) for limit in s.limits}
    return sorted(found - bound, key=str)


def _size(facts, before, after):
    """The n the entries are taken at: the one number every sum in them and in the definitions runs to,
    else n itself; False where they run to several."""
    tops = _tops(before) | _tops(after) | _tops(*facts.definitions.values())
    if len(tops) > 1:
        return False
    return tops.pop() if tops else n


@lru_cache(maxsize=1024)
def _tops(*exprs) -> set:
    """The numbers and n the sums in exprs run to."""
    found = {limit[2] for e in exprs for s in e.atoms(Sum) for limit in s.limits}
    return {t for t in found if t.is_Integer or t == n}


def _open_in_n(expr) -> bool:
    """Whether a case split in expr depends on n (n ≥ 2, say): then it holds for every n only as split."""
    if expr is None or not hasattr(expr, "atoms"):
        return False
    return any(c.has(n) for p in expr.atoms(Piecewise) for _, c in p.args)


def _context(facts, exprs) -> tuple:
    """What the entries' names mean: every definition and derivative the facts hold, and the named
    quantities (f, g, L) the expressions use."""
    used = set().union(*(e.free_symbols for e in exprs))
    named = ((k, v) for k, v in facts.named.items() if k.is_Symbol and k in used)
    return (*facts.definitions.items(), *named, *facts.derivatives.items())


def _defined(facts, size) -> tuple:
    """The shapes of the facts' definitions, n (or the size it is set to) marked alike."""
    return _shapes(tuple(facts.definitions.items()), size)


@lru_cache(maxsize=1024)
def _shapes(definitions: tuple, size) -> tuple:
    return tuple((key, _shape(body, size)) for key, body in definitions)


def _shape(expr, size) -> tuple:
    """expr's tree with every concrete or free index one mark and size another, sums' and products'
    terms in a fixed order: entries of one identity at different indices share it."""
    if expr == size:
        return ("N",)
    if isinstance(expr, (Indexed, KroneckerDelta)):
        at = expr.indices if isinstance(expr, Indexed) else expr.args
        marks = tuple(
            ("_",) if v.is_Integer or v == size or v in INDICES[:2] else _shape(v, size) for v in at
        )
        return (type(expr).__name__, expr.base.name if isinstance(expr, Indexed) else "", marks)
    if not expr.args:
        return (type(expr).__name__, getattr(expr, "name", None) or str(expr))
    parts = [_shape(a, size) for a in expr.args]
    if isinstance(expr, (Add, Mul)):
        parts.sort(key=repr)
    return (type(expr).__name__, *parts)
