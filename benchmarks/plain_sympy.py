"""The softmax Jacobian the plain SymPy way, timed step by step; run as `python plain_sympy.py N`.

What one writes without derive: differentiate the n explicit outputs with Matrix.jacobian, name the
sum S and substitute e^{z_k} = s_k S to write the entries in the outputs, factor each entry, then
lambdify and typeset. (Substituting the whole quotient e^{z_k}/S for s_k instead is far slower still:
17 s at n = 16.) Prints one JSON object of CPU seconds per step.
"""

import json
import sys
import time

from sympy import Add, Matrix, Symbol, exp, factor, lambdify, latex, symbols


def plain_route(n: int) -> dict[str, float]:
    """Seconds per step of the plain route at size n."""
    steps = {}
    start = time.process_time()
    z = symbols(f"z1:{n + 1}", real=True)
    s = symbols(f"s1:{n + 1}", positive=True)
    S = Symbol("S", positive=True)
    outputs = Matrix([exp(x) / Add(*(exp(x) for x in z)) for x in z])
    J = outputs.jacobian(z)
    steps["jacobian"] = time.process_time() - start

    mark = time.process_time()
    J = J.subs(Add(*(exp(x) for x in z)), S).subs({exp(x): si * S for x, si in zip(z, s, strict=True)})
    steps["substitute"] = time.process_time() - mark

    mark = time.process_time()
    J = J.applyfunc(factor)
    steps["factor"] = time.process_time() - mark

    mark = time.process_time()
    lambdify([s], J, "numpy")
    steps["lambdify"] = time.process_time() - mark

    mark = time.process_time()
    latex(J)
    steps["latex"] = time.process_time() - mark

    assert J[0, 1] == -s[0] * s[1], J[0, 1]  # it did reach the outputs
    steps["total"] = time.process_time() - start
    return steps


if __name__ == "__main__":
    print(json.dumps(plain_route(int(sys.argv[1]))))
