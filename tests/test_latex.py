"""The standalone documents compile: pdflatex for English, XeLaTeX for Chinese (skipped without latexmk)."""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from derive import derive, render
from derive.registry import register, unregister

from .documents import shape

pytestmark = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")

# (function, n, lang, method): softmax by both routes in both languages, a large n, and a function
# registered by the test that takes the chain rule.
DOCUMENTS = [
    ("softmax", 4, "en", "quotient"),
    ("softmax", 4, "zh", "quotient"),
    ("softmax", 4, "en", "log"),
    ("softmax", 4, "zh", "log"),
    ("softmax", 1024, "en", "quotient"),
    ("test_tanh", 3, "zh", "quotient"),
]


def _compile(folder, text, lang):
    source = folder / "document.tex"
    source.write_text(text, encoding="utf-8")
    engine = "-xelatex" if lang == "zh" else "-pdf"
    done = subprocess.run(
        ["latexmk", engine, "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = (folder / "document.log").read_text(encoding="utf-8", errors="replace")
    return done.returncode, log, (folder / "document.pdf").exists()


def test_standalone_documents_compile(tmp_path):
    register(shape("test_tanh"))
    try:
        jobs = []
        for number, (name, n, lang, method) in enumerate(DOCUMENTS):
            folder = tmp_path / str(number)
            folder.mkdir()
            text = render(derive(name, n=n), "latex", lang=lang, method=method, standalone=True)
            jobs.append((folder, text, lang))
    finally:
        unregister("test_tanh")
    # The compiles are the slow part of the suite: run them side by side.
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda job: _compile(*job), jobs))
    for (name, n, lang, method), (code, log, made) in zip(DOCUMENTS, results, strict=True):
        assert code == 0 and made, f"{name} n={n} {lang} {method} did not compile:\n{log[-3000:]}"
        assert "Overfull \\hbox" not in log, f"{name} n={n} {lang} {method}: a line runs into the margin"
        assert "Missing character" not in log, f"{name} n={n} {lang} {method}: a glyph is missing"
