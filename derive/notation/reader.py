"""A reader's notation: --symbols "z=a,s=S,n=N" read from an allow-list, checked against a derivation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sympy import IndexedBase, Sum

from derive.errors import InvalidInput
from derive.notation.symbols import i

# Greek letters a name may be, as LaTeX commands, with their Unicode letters. δ is the Kronecker delta,
# π a constant: neither may name a quantity.
_LOWER = "alpha beta gamma epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho varrho"
_LOWER += " sigma varsigma tau upsilon phi varphi chi psi omega"
_UPPER = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
GREEK = dict(zip(f"{_LOWER} {_UPPER}".split(), "αβγϵεζηθϑικλμνξρϱσςτυϕφχψωΓΔΘΛΞΠΣΥΦΨΩ", strict=True))
GREEK["ell"] = "ℓ"  # not Greek, but a letter commands write: the loss ℓ
ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "check": "\u030c"}
# What a name may never be: the indices of ∂s_i/∂z_j, the summation index, δ, e (of e^x), I (the identity).
RESERVED = {"i", "j", "k", "e", "I", r"\delta", r"\pi"}
MAX_TEXT = 200
_NAME = re.compile(r"^(?:\\(?P<accent>[a-z]+)\{(?P<inner>[^{}]*)\}|(?P<base>[^{}]*))$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}$")
_BY_UNICODE = {letter: command for command, letter in GREEK.items()}
_BY_MARK = {mark: accent for accent, mark in ACCENTS.items()}

# The write-up's own letters (numerator f and denominator g, the loss L, its target y, the gradient g,
# the matrices J and H): when a reader's name takes one, it steps aside to the first free letter here.
STAND_INS = {
    "f": ("u", "p", "a"),
    "g": ("h", "v", "q"),
    "L": (r"\ell", "E", "C"),
    "y": ("t", "q", "p"),
    "J": (r"\mathcal{J}",),
    "H": (r"\mathcal{H}",),
    "l": ("m", "q", "p"),  # the loss section's second summation index
}


@dataclass(frozen=True)
class Name:
    """A name as LaTeX writes it (\\hat{y}) and as Unicode does (ŷ)."""

    latex: str
    unicode: str
    greek: bool = False  # bold as \boldsymbol: \mathbf leaves Greek letters upright and thin


def name(text: str) -> Name:
    """A user's name read against the allow-list: a letter or a Greek letter, with at most one accent."""
    text = unicodedata.normalize("NFD", text.strip())
    if len(text) == 2 and text[1] in _BY_MARK:  # ŷ typed as such: y and a combining circumflex
        text = f"\\{_BY_MARK[text[1]]}{{{text[0]}}}"
    found = _NAME.match(text)
    if not found:
        raise InvalidInput(f"--symbols: '{text}' is not a name derive can typeset; {_ALLOWED}")
    accent, letter = found["accent"], found["inner"] if found["accent"] else found["base"]
    if accent is not None and accent not in ACCENTS:
        raise InvalidInput(f"--symbols: unknown accent \\{accent}; known: {', '.join(ACCENTS)}")
    base = _letter(letter, text)
    if accent is None:
        return base
    mark = ACCENTS[accent]
    return Name(f"\\{accent}{{{base.latex}}}", unicodedata.normalize("NFC", base.unicode + mark), base.greek)


def _letter(text: str, whole: str) -> Name:
    """One Latin letter, a Greek letter's command (\\alpha), or a Greek letter (α)."""
    if len(text) == 1 and text.isascii() and text.isalpha():
        return Name(text, text)
    if text in _BY_UNICODE:
        text = "\\" + _BY_UNICODE[text]
    if text.startswith("\\") and text[1:] in GREEK:
        return Name(text, GREEK[text[1:]], greek=text != r"\ell")
    raise InvalidInput(f"--symbols: '{whole}' is not a name derive can typeset; {_ALLOWED}")


_ALLOWED = "a name is a letter (a, S) or a Greek one (\\alpha, α), maybe under \\hat, \\tilde, \\bar, \\check"


def parse(text: str) -> dict[str, Name]:
    """{'z': Name('a'), …} from "z=a,s=S,n=N"; the text is read character by character, never evaluated."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"--symbols is {len(text)} characters long; at most {MAX_TEXT}")
    for c in text:
        if unicodedata.category(c)[0] == "C" or c == "#":
            raise InvalidInput(f"--symbols may not contain {c!r}")
    names: dict[str, Name] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise InvalidInput(f"--symbols takes OLD=NEW pairs, e.g. z=a,s=S,n=N; got {pair!r}")
        if not _KEY.match(key):
            raise InvalidInput(f"--symbols: {key!r} is not a symbol's name (z, s, n, k, mu, …)")
        if key in names:
            raise InvalidInput(f"--symbols names {key!r} twice")
        names[key] = name(value)
    return names


def spelled(names: dict[str, Name]) -> str:
    """The text --symbols takes for names, as a regenerate line quotes it."""
    return ",".join(f"{key}={value.latex}" for key, value in names.items())


@dataclass(frozen=True)
class Notation:
    """Canonical names (z, s, n, k, mu) and how the reader writes them; vectors in bold if asked."""

    names: tuple  # ((canonical, Name), …)
    vectors: frozenset = frozenset()  # canonical names of the vectors printed bold as a whole
    asked: tuple = ()  # the user's own (canonical, Name) pairs, for the regenerate line

    def lookup(self, canonical: str) -> Name | None:
        return dict(self.names).get(canonical)

    def latex(self, symbol: str, whole: bool = True) -> str | None:
        """LaTeX for a symbol named canonically (s, s12, mu), or None to print it as SymPy would."""
        found = self._split(symbol)
        if found is None:
            return None
        key, digits = found
        spelling = self.lookup(key)
        tex = spelling.latex if spelling is not None else None
        if whole and not digits and key in self.vectors:
            tex = tex or _default_latex(key)
            greek = spelling.greek if spelling is not None else key in GREEK
            command = "\\boldsymbol" if greek else "\\mathbf"
            tex = f"{command}{{{tex}}}"
        if tex is None:
            return None
        return f"{tex}_{{{digits}}}" if digits else tex

    def unicode(self, symbol: str) -> str | None:
        """The Unicode name for a symbol named canonically, or None when it is not renamed."""
        found = self._split(symbol)
        if found is None or self.lookup(found[0]) is None:
            return None
        return self.lookup(found[0]).unicode + found[1]

    def _split(self, symbol: str):
        """('s', '12') for s12, ('mu', '') for mu; None for any other name."""
        if symbol in self._keys:
            return symbol, ""
        match = re.fullmatch(r"([A-Za-z]+)(\d+)", symbol)
        if match and match[1] in self._keys:
            return match[1], match[2]
        return None

    @property
    def _keys(self) -> set:
        return set(dict(self.names)) | set(self.vectors)

    @property
    def command(self) -> str:
        """The options that ask for this notation again: --symbols "…" --bold."""
        words = [f'--symbols "{spelled(dict(self.asked))}"'] if self.asked else []
        return " ".join(words + (["--bold"] if self.vectors else []))


def _default_latex(key: str) -> str:
    return "\\" + key if key in GREEK else key


def symbols_of(d) -> tuple[set, set]:
    """(every name d's own formulas use, those that name vectors), indices i and j left out."""
    fn, spelled_ = d.function, d.spelled
    exprs = [spelled_.expanded, fn.definition, *(body for _, body in fn.where)]
    names, vectors = {fn.input, "n"}, {fn.input}
    (vectors if d.kind == "vector" else names).add(fn.output)
    names.add(fn.output)
    names |= {key for key, _ in fn.where} | set(fn.parameter_names)
    vectors |= {key for key, body in fn.where if body.has(i)}
    if d.kind == "scalar":  # the gradient's name: a registered function's output (s) or g
        gradient = d.hessian.spelled.output
        names.add(gradient.label.name)
        vectors.add(gradient.label.name)
    for e in exprs:
        for base in e.atoms(IndexedBase):
            names.add(base.label.name)
            vectors.add(base.label.name)
        for total in e.atoms(Sum):
            names |= {str(limit[0]) for limit in total.limits}
    return names - {"i", "j"}, vectors


def resolve(d, asked: dict[str, Name] | None = None, bold: bool = False) -> Notation | None:
    """The notation for d: the asked names checked against d's symbols, the write-up's letters moved
    aside where a name takes one; None when nothing is asked (canonical printing)."""
    asked = dict(asked or {})
    if not asked and not bold:
        return None
    names, vectors = symbols_of(d)
    unknown = [key for key in asked if key not in names]
    if unknown:
        known = ", ".join(_ordered(names, d))
        raise InvalidInput(f"--symbols: {d.function.name} has no symbol {unknown[0]!r}; its symbols: {known}")
    taken: dict[str, str] = {}  # a new name's LaTeX → the symbol it names
    for key, value in asked.items():
        if value.latex in RESERVED or value.unicode in ("δ", "π"):
            reserved = value.latex
            raise InvalidInput(f"--symbols: {key}={reserved} clashes with {reserved}, which is reserved")
        if value.latex in taken:
            raise InvalidInput(
                f"--symbols: {taken[value.latex]} and {key} would both be written {value.latex}"
            )
        taken[value.latex] = key
    for other in names - set(asked):
        tex = _default_latex(other)
        if tex in taken:
            raise InvalidInput(
                f"--symbols: {taken[tex]}={tex} clashes with {other}, which {d.function.name} already uses;"
                f" rename {other} too"
            )
        taken[tex] = other
    moved = {}
    for letter, stand_ins in STAND_INS.items():
        if letter in taken and taken[letter] != letter and letter not in names:
            free = next((s for s in stand_ins if s not in taken), None)
            if free is not None:
                moved[letter] = Name(free, _unicode_of(free))
                taken[free] = letter
    # the write-up's target y is a vector too, in bold with the others; f and g (numerator and
    # denominator, also the gradient's name) are the route's scalars
    every = {**moved, **asked}
    return Notation(
        names=tuple(sorted(every.items())),
        vectors=frozenset((vectors | {"y"}) - {"f", "g"}) if bold else frozenset(),
        asked=tuple(asked.items()),
    )


def _unicode_of(tex: str) -> str:
    return {r"\ell": "ℓ", r"\mathcal{J}": "𝒥", r"\mathcal{H}": "ℋ"}.get(tex, tex)


def _ordered(names, d) -> list[str]:
    first = [d.function.input, d.function.output, "n"]
    return [*first, *sorted(set(names) - set(first))]


def of(d, symbols=None, bold: bool = False) -> Notation | None:
    """The notation asked for d: symbols as the text --symbols takes or a dict {'z': 'a'}, checked."""
    if symbols is None or symbols == "" or symbols == {}:
        asked = {}
    elif isinstance(symbols, str):
        asked = parse(symbols)
    elif isinstance(symbols, dict):
        asked = parse(",".join(f"{key}={value}" for key, value in symbols.items()))
    else:
        raise InvalidInput(f"symbols takes a text such as 'z=a,s=S' or a dict, not {type(symbols).__name__}")
    return resolve(d, asked, bold)
