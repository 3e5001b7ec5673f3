"""-o FILE: atomic, never over a file without --force, racing writers, modes, symlinks, SIGTERM."""

import os
import signal
import stat
import threading

import pytest

from derive.show import output
from derive.show.output import OutputError, Terminated, write_text


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_writer_racing_another_is_refused_and_nothing_is_lost(tmp_path, monkeypatch):
    # A checks that the name is free, then B writes the whole file before A publishes: A is refused.
    path = tmp_path / "J.json"
    real_link = os.link
    calls = []

    def link_after_the_other_writer(source, target, *args, **kwargs):
        if not calls:
            calls.append(source)
            write_text(path, "B")  # the racing writer, start to finish
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(output.os, "link", link_after_the_other_writer)
    with pytest.raises(OutputError, match="exists; pass --force"):
        write_text(path, "A")
    assert path.read_text() == "B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["J.json"]  # no temporary file left


def test_many_writers_at_once_exactly_one_wins(tmp_path):
    path, barrier, outcomes = tmp_path / "out.txt", threading.Barrier(8), []

    def writer(number):
        barrier.wait()
        try:
            write_text(path, f"writer {number}\n")
            outcomes.append(("wrote", number))
        except OutputError:
            outcomes.append(("refused", number))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [k for what, k in outcomes if what == "wrote"]
    assert len(won) == 1 and len(outcomes) == 8
    assert path.read_text() == f"writer {won[0]}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_honours_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_text(tmp_path / "f", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "f") == mode


def test_force_keeps_the_existing_mode(tmp_path):
    path = tmp_path / "private.json"
    path.write_text("old")
    os.chmod(path, 0o600)
    write_text(path, "new", force=True)
    assert path.read_text() == "new" and _mode(path) == 0o600


def test_force_refuses_a_symlink_and_leaves_link_and_target_alone(tmp_path):
    # The policy: --force replaces only a regular file; a symlink is refused, never followed or replaced.
    target, link = tmp_path / "target", tmp_path / "link"
    target.write_text("target")
    link.symlink_to(target)
    with pytest.raises(OutputError, match="is a symlink: --force replaces only regular files"):
        write_text(link, "new", force=True)
    assert link.is_symlink() and target.read_text() == "target"
    with pytest.raises(OutputError, match="exists; pass --force"):
        write_text(link, "new")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="exists"):
        write_text(dangling, "new")
    assert not (tmp_path / "nowhere").exists()


def test_force_refuses_a_fifo_and_a_directory(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        write_text(fifo, "x", force=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="it is a directory"):
        write_text(tmp_path, "x", force=True)


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    real_chmod = os.chmod

    def chmod_then_sigterm(*args, **kwargs):
        real_chmod(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # delivered here: the handler raises Terminated

    monkeypatch.setattr(output.os, "chmod", chmod_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as info:
        write_text(path, "x" * 100_000)
    assert info.value.code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_name_too_long_is_one_line(tmp_path):
    with pytest.raises(OutputError, match="File name too long") as info:
        write_text(tmp_path / ("a" * 300), "x")
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_a_name_with_a_line_break_is_shown_escaped(run, tmp_path):
    result = run("softmax", "--format", "json", "-o", str(tmp_path / "a\nb"))
    assert result.exit_code == 0
    assert result.stderr.strip() == f"wrote {tmp_path}/a\\x0ab"
