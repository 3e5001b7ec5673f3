"""Regenerate the golden documents: python -m tests.regen_golden (then review the diff)."""

from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
# (file name, render options): softmax at n = 4, in both languages, by both routes, in every document form.
CASES = [
    (f"softmax-n4-{lang}-{method}{suffix}", dict(fmt=fmt, lang=lang, method=method, **extra))
    for lang in ("en", "zh")
    for method in ("quotient", "log")
    for suffix, fmt, extra in (
        (".md", "markdown", {}),
        (".tex", "latex", {}),
        (".standalone.tex", "latex", {"standalone": True}),
    )
]


def render_case(options: dict) -> str:
    from derive import derive, render

    options = dict(options)
    return render(derive("softmax", n=4), options.pop("fmt"), **options)


def main():
    GOLDEN.mkdir(exist_ok=True)
    for name, options in CASES:
        (GOLDEN / name).write_text(render_case(options), encoding="utf-8", newline="\n")
        print(f"wrote tests/golden/{name}")


if __name__ == "__main__":
    main()
