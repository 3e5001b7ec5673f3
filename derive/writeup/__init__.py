"""The write-up: takes a Derivation; gives the derivation written out step by step, as LaTeX or Markdown.

steps is the checked Step; rules, routes and gradient derive each displayed equality; views, loss and
vanishing the matrix, the loss and the one-hot example; writeup gathers them, typeset prints them,
document fills the templates beside it.
"""
