"""Regenerate the golden documents: python -m tests.regen_golden (then review the diff)."""

from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
# (file name, render options): softmax at n = 4, in every language, by both routes, in every document form.
CASES = [
    (f"softmax-n4-{lang}-{method}{suffix}", dict(fmt=fmt, lang=lang, method=method, **extra))
    for lang in ("en", "zh", "zh-Hant")
    for method in ("quotient", "log")
    for suffix, fmt, extra in (
        (".md", "markdown", {}),
        (".tex", "latex", {}),
        (".standalone.tex", "latex", {"standalone": True}),
    )
]
# Softmax at n = 4 in the notation of each note in /work/shared/notes: notes 000 and 001 write z, s, n
# (softmax-n4-zh-quotient above); note 002 bold ẑ, ŷ with d; note 003 a, S, N; note 004 x, y in
# Traditional Chinese.
NOTATIONS = {
    "yhat-d": dict(lang="zh", symbols="s=\\hat{y},n=d", bold=True),
    "a-S-N": dict(lang="zh", symbols="z=a,s=S,n=N"),
    "x-y": dict(lang="zh-Hant", symbols="z=x,s=y"),
}
CASES += [
    (f"softmax-n4-{options['lang']}-{name}{suffix}", dict(fmt=fmt, **options, **extra))
    for name, options in NOTATIONS.items()
    for suffix, fmt, extra in ((".md", "markdown", {}), (".standalone.tex", "latex", {"standalone": True}))
]

# A function of several inputs, for any sizes: the chain rule through z = W x + b, then each input's block.
CASES += [
    (
        f"linear_softmax_cross_entropy-{lang}{suffix}",
        dict(function="linear_softmax_cross_entropy", fmt=fmt, lang=lang, **extra),
    )
    for lang in ("en", "zh")
    for suffix, fmt, extra in ((".md", "markdown", {}), (".standalone.tex", "latex", {"standalone": True}))
]


def render_case(options: dict) -> str:
    from derive import derive, render

    options = dict(options)
    function = options.pop("function", "softmax")
    d = derive(function, n=4) if function == "softmax" else derive(function)
    return render(d, options.pop("fmt"), **options)


def main():
    GOLDEN.mkdir(exist_ok=True)
    for name, options in CASES:
        (GOLDEN / name).write_text(render_case(options), encoding="utf-8", newline="\n")
        print(f"wrote tests/golden/{name}")


if __name__ == "__main__":
    main()
