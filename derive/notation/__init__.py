"""The notation: takes nothing; gives what every definition is written with.

symbols holds n, the indices i, j, k, …, the vectors z and y, Σ as total(); function holds the Function
record a file in derive/functions/ fills in. Every layer may read it; it reads nothing of derive.
"""
