"""Guards: takes the user's text and the work it causes; gives the text escaped for every place it is
written back (code comments, LaTeX, HTML), and the work bounded: a worker process with a CPU deadline and
a memory limit, stopped cleanly on SIGTERM.

text refuses or escapes, budget runs work under its limits, signals turns SIGTERM into an exception.
"""
