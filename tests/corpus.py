"""The corpus: expressions a practitioner writes, each with an independent PyTorch oracle from its formula.

Each entry is (name, the `derive expr` text, parameters, oracle, domain, expected). The oracle takes a
float64 torch tensor z of shape (n,) and returns the outputs (n,) or the scalar, written from the
textbook formula with torch's own functions (never from derive's output). domain "positive" means the
expression needs z > 0 (a log or sqrt of an input). expected is "pass", or the start of the one line
derive refuses it with ("refused: ..."), or a known failure ("fails: ...") the test marks xfail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Entry:
    """One corpus expression and what is expected of it."""

    name: str
    source: str
    oracle: object
    params: dict = field(default_factory=dict)
    domain: str = "real"
    expected: str = "pass"
    numba: bool = False  # in the (smaller) numba subset: vector functions (numba emits no scalar modules)
    target: bool = False  # the expression has a target y: the oracle takes (z, y), y a probability vector


def _sum(x):
    return x.sum()


SELU_SCALE, SELU_ALPHA = "1.0507009873554805", "1.6732632423543772"
GELU_C = "0.7978845608028654"  # sqrt(2/π) to 16 digits, as PyTorch's tanh approximation uses it

ACTIVATIONS = [
    Entry("silu", "z[i]*sigmoid(z[i])", F.silu, numba=True),
    Entry("mish", "z[i]*tanh(softplus(z[i]))", F.mish),
    Entry("elu", "max(z[i], 0) + min(0, exp(z[i]) - 1)", F.elu),
    Entry(
        "elu_alpha", "max(z[i], 0) + alpha*min(0, exp(z[i]) - 1)", lambda z: F.elu(z, 0.5), {"alpha": "1/2"}
    ),
    Entry(
        "selu",
        f"{SELU_SCALE}*(max(0, z[i]) + min(0, {SELU_ALPHA}*(exp(z[i]) - 1)))",
        F.selu,
    ),
    Entry(
        "celu",
        "max(0, z[i]) + min(0, a*(exp(z[i]/a) - 1))",
        lambda z: F.celu(z, 2.0),
        {"a": "2"},
    ),
    Entry(
        "gelu_tanh",
        f"0.5*z[i]*(1 + tanh({GELU_C}*(z[i] + 0.044715*z[i]**3)))",
        lambda z: F.gelu(z, approximate="tanh"),
    ),
    Entry("gelu_erf", "z[i]*(1 + erf(z[i]/sqrt(2)))/2", F.gelu),
    Entry("softsign", "z[i]/(1 + abs(z[i]))", F.softsign),
    Entry("hardtanh", "max(-1, min(1, z[i]))", F.hardtanh),
    Entry("leaky_relu", "max(z[i], 0.01*z[i])", F.leaky_relu),
    Entry("relu", "max(z[i], 0)", F.relu),
    Entry("relu6", "min(max(z[i], 0), 6)", F.relu6),
    # Written out: PyTorch's own hardsigmoid backward multiplies by 1/6 rounded to float32.
    Entry("hardsigmoid", "max(0, min(1, z[i]/6 + 1/2))", lambda z: torch.clamp(z / 6 + 0.5, 0, 1)),
    Entry("hardswish", "z[i]*max(0, min(1, z[i]/6 + 1/2))", lambda z: z * torch.clamp(z / 6 + 0.5, 0, 1)),
    Entry("swish_beta", "z[i]*sigmoid(beta*z[i])", lambda z: z * torch.sigmoid(1.5 * z), {"beta": "3/2"}),
    Entry("sigmoid", "sigmoid(z[i])", torch.sigmoid),
    Entry("tanh", "tanh(z[i])", torch.tanh),
    Entry("softplus", "softplus(z[i])", F.softplus),
    Entry("softplus_beta", "log(1 + exp(beta*z[i]))/beta", lambda z: F.softplus(z, beta=2.0), {"beta": "2"}),
    Entry("log_sigmoid", "log(sigmoid(z[i]))", F.logsigmoid),
    Entry("tanhshrink", "z[i] - tanh(z[i])", F.tanhshrink),
    Entry("log_cosh", "log((exp(z[i]) + exp(-z[i]))/2)", lambda z: torch.log(torch.cosh(z))),
    Entry("squareplus", "(z[i] + sqrt(z[i]**2 + 4))/2", lambda z: (z + torch.sqrt(z * z + 4)) / 2),
    Entry("bent_identity", "(sqrt(z[i]**2 + 1) - 1)/2 + z[i]", lambda z: (torch.sqrt(z * z + 1) - 1) / 2 + z),
    Entry("gaussian", "exp(-z[i]**2)", lambda z: torch.exp(-z * z)),
    Entry("snake", "z[i] + sin(z[i])**2", lambda z: z + torch.sin(z) ** 2),
    Entry("sigmoid_tanh", "tanh(z[i])*sigmoid(z[i])", lambda z: torch.tanh(z) * torch.sigmoid(z)),
    Entry(
        "exp_sin",
        "exp(z[i])*sin(z[i])",
        lambda z: torch.exp(z) * torch.sin(z),
    ),
    Entry("abs", "abs(z[i])", torch.abs),
    Entry("sqrt_pos", "sqrt(z[i])", torch.sqrt, domain="positive"),
    Entry("log_pos", "log(z[i])", torch.log, domain="positive"),
    Entry("reciprocal", "1/z[i]", torch.reciprocal, domain="positive"),
]


def _softmax(z, dim=0):
    return torch.softmax(z, dim)


NORMALISATIONS = [
    Entry("softmax", "exp(z[i])/sum(exp(z[k]), k)", _softmax, numba=True),
    Entry("softmax_t", "exp(z[i]/T)/sum(exp(z[k]/T), k)", lambda z: torch.softmax(z / 2, 0), {"T": "2"}),
    Entry("softmin", "exp(-z[i])/sum(exp(-z[k]), k)", lambda z: torch.softmax(-z, 0)),
    Entry("softmax_2z", "exp(2*z[i])/sum(exp(2*z[k]), k)", lambda z: torch.softmax(2 * z, 0)),
    Entry(
        "softmax_centred",
        "exp(z[i] - sum(z[k], k)/n)/sum(exp(z[l] - sum(z[m], m)/n), l)",
        lambda z: torch.softmax(z - z.mean(), 0),
    ),
    Entry("log_softmax", "z[i] - log(sum(exp(z[k]), k))", lambda z: torch.log_softmax(z, 0), numba=True),
    Entry("rbf_softmax", "exp(-z[i]**2)/sum(exp(-z[k]**2), k)", lambda z: torch.softmax(-z * z, 0)),
    Entry(
        "softmax_tanh", "exp(tanh(z[i]))/sum(exp(tanh(z[k])), k)", lambda z: torch.softmax(torch.tanh(z), 0)
    ),
    Entry(
        "rms_norm",
        "z[i]/sqrt(sum(z[k]**2, k)/n + eps)",
        lambda z: z / torch.sqrt((z * z).mean() + 1e-5),
        {"eps": "1/100000"},
    ),
    Entry("l2_normalize", "z[i]/sqrt(sum(z[k]**2, k))", lambda z: F.normalize(z, dim=0, eps=0)),
    Entry(
        "standardise",
        "(z[i] - sum(z[k], k)/n)/sqrt(sum((z[l] - sum(z[m], m)/n)**2, l)/n + eps)",
        lambda z: (z - z.mean()) / torch.sqrt(((z - z.mean()) ** 2).mean() + 1e-5),
        {"eps": "1/100000"},
    ),
    Entry("centre", "z[i] - sum(z[k], k)/n", lambda z: z - z.mean()),
    Entry("l1_normalize", "abs(z[i])/sum(abs(z[k]), k)", lambda z: z.abs() / z.abs().sum()),
    Entry("power_normalize", "z[i]**2/sum(z[k]**2, k)", lambda z: z * z / (z * z).sum()),
    Entry(
        "sigmoid_normalize",
        "sigmoid(z[i])/sum(sigmoid(z[k]), k)",
        lambda z: torch.sigmoid(z) / torch.sigmoid(z).sum(),
    ),
    Entry(
        "gaussian_weight",
        "z[i]*exp(-sum(z[k]**2, k)/2)",
        lambda z: z * torch.exp(-(z * z).sum() / 2),
    ),
    Entry(
        "softmax_times_z",
        "z[i]*exp(z[i])/sum(exp(z[k]), k)",
        lambda z: z * torch.softmax(z, 0),
    ),
    Entry(
        "gated_sum",
        "sigmoid(sum(z[k], k))*z[i]",
        lambda z: torch.sigmoid(z.sum()) * z,
    ),
    Entry("sigmoid_times_sum", "sigmoid(z[i])*sum(z[k], k)", lambda z: torch.sigmoid(z) * z.sum()),
    Entry("z_times_sum", "z[i]*sum(z[k], k)", lambda z: z * z.sum()),
    Entry("tanh_mean_gate", "z[i]*tanh(sum(z[k], k)/n)", lambda z: z * torch.tanh(z.mean())),
    Entry("erf_times_sumsq", "erf(z[i])*sum(z[k]**2, k)", lambda z: torch.erf(z) * (z * z).sum()),
]


def _entropy(z):
    p = torch.softmax(z, 0)
    return -(p * torch.log_softmax(z, 0)).sum()


def _focal(z):
    p = torch.sigmoid(z)
    return -((1 - p) ** 2 * F.logsigmoid(z)).sum()


def _bce_sigmoid_entropy(z):
    p = torch.sigmoid(z)
    return -(p * F.logsigmoid(z) + (1 - p) * F.logsigmoid(-z)).sum()


LOSSES = [
    Entry("logsumexp", "log(sum(exp(z[k]), k))", lambda z: torch.logsumexp(z, 0)),
    Entry("logsumexp_t", "T*log(sum(exp(z[k]/T), k))", lambda z: 2 * torch.logsumexp(z / 2, 0), {"T": "2"}),
    Entry(
        "softmax_entropy",
        "-sum(exp(z[k])/sum(exp(z[l]), l)*log(exp(z[k])/sum(exp(z[m]), m)), k)",
        _entropy,
    ),
    Entry(
        "kl_y",
        "sum(y[k]*log(y[k]*sum(exp(z[l]), l)/exp(z[k])), k)",
        lambda z, y: (y * (torch.log(y) - torch.log_softmax(z, -1))).sum(),
        target=True,
    ),
    Entry(
        "focal",
        "-sum((1 - sigmoid(z[k]))**2*log(sigmoid(z[k])), k)",
        _focal,
    ),
    Entry(
        "label_smoothing_uniform",
        "-sum(log(exp(z[k])/sum(exp(z[l]), l)), k)/n",
        lambda z: -torch.log_softmax(z, 0).mean(),
    ),
    Entry(
        "huber",
        "sum(min(abs(z[k]), 1)*(abs(z[k]) - min(abs(z[k]), 1)/2), k)",
        lambda z: F.huber_loss(z, torch.zeros_like(z), reduction="sum"),
    ),
    Entry(
        "log_cosh_loss",
        "sum(log((exp(z[k]) + exp(-z[k]))/2), k)",
        lambda z: torch.log(torch.cosh(z)).sum(),
    ),
    Entry("mse", "sum(z[k]**2, k)/n", lambda z: (z * z).mean()),
    Entry("l1", "sum(abs(z[k]), k)", lambda z: z.abs().sum()),
    Entry("logistic", "sum(softplus(-z[k]), k)", lambda z: F.softplus(-z).sum()),
    Entry("squared_hinge", "sum(max(0, 1 - z[k])**2, k)", lambda z: (torch.clamp(1 - z, min=0) ** 2).sum()),
    Entry(
        "smooth_norm",
        "sqrt(sum(z[k]**2, k) + eps)",
        lambda z: torch.sqrt((z * z).sum() + 0.01),
        {"eps": "1/100"},
    ),
    Entry("log_norm", "log(sum(z[k]**2, k) + 1)", lambda z: torch.log((z * z).sum() + 1)),
    Entry("variance", "sum((z[k] - sum(z[l], l)/n)**2, k)/n", lambda z: z.var(unbiased=False)),
    Entry("logsumexp_1", "log(1 + sum(exp(z[k]), k))", lambda z: F.softplus(torch.logsumexp(z, 0))),
    Entry(
        "sigmoid_entropy",
        "-sum(sigmoid(z[k])*log(sigmoid(z[k])) + (1 - sigmoid(z[k]))*log(1 - sigmoid(z[k])), k)",
        _bce_sigmoid_entropy,
    ),
    Entry(
        "collision",
        "sum(exp(2*z[k]), k)/sum(exp(z[l]), l)**2",
        lambda z: (torch.softmax(z, 0) ** 2).sum(),
    ),
    Entry("sum_times_sumsq", "sum(z[k], k)*sum(z[l]**2, l)", lambda z: z.sum() * (z * z).sum()),
]

CORPUS = ACTIVATIONS + NORMALISATIONS + LOSSES
