"""Every differentiable op, forward and gradient, against PyTorch and central differences.

The file is built around one helper, :func:`check_op` (tinygrad style): each op is one
line of a case table, run on every device of the ``device`` fixture. The helper

1. builds seeded random float64 inputs and runs the op in the engine;
2. back-propagates a random upstream gradient ``g`` through ``(out * g).sum()``, once
   unrecorded (the formulas on raw arrays) and once with ``create_graph`` (on Tensors);
3. always runs :func:`tinygrad_dlcv.gradcheck.gradcheck` on the same op (no torch needed);
4. when torch is installed, compares forward values and input gradients with torch's.

Further down: second derivatives (analytic and against ``torch.autograd.grad``), numerical
stability at +-1000, comparisons, argmax/argmin and the float32 path.
"""

import contextlib
import operator
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv.gradcheck import gradcheck

try:  # torch is only referenced inside the reference lambdas, after importorskip
    import torch
except ImportError:  # pragma: no cover - the file must collect without torch
    torch = None


# --------------------------------------------------------------------------- helpers


def _same_device(got, want):
    """ "cuda" and "cuda:0" name the same kind of device."""
    return got.split(":")[0] == want.split(":")[0]


def _per_input(value, n):
    """A bound given once for all inputs, or one per input."""
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _inputs(shapes, low, high, inputs, rng):
    if inputs is not None:
        return [np.asarray(a, dtype=np.float64) for a in inputs]
    lows, highs = _per_input(low, len(shapes)), _per_input(high, len(shapes))
    return [
        np.asarray(rng.uniform(lo, hi, size=s))
        for s, lo, hi in zip(shapes, lows, highs, strict=True)
    ]


def check_op(
    shapes,
    fn,
    torch_fn=None,
    device="cpu",
    *,
    low=-2.0,
    high=2.0,
    inputs=None,
    dtype="float64",
    atol=1e-9,
    rtol=1e-7,
    grad=True,
    check_numeric=True,
    seed=0,
):
    """Check ``fn`` (engine) against ``torch_fn`` (defaults to ``fn``) and central differences.

    Parameters
    ----------
    shapes : list of tuple
        Shapes of the random inputs (ignored when ``inputs`` is given).
    fn, torch_fn : callable
        Take one tensor per input and return one tensor; ``torch_fn`` gets torch tensors.
    device : str
        Engine device of the inputs.
    low, high : float or list of float
        Range of the uniform random inputs, once for all or one per input.
    inputs : list of array_like, optional
        Fixed input values instead of random ones (ties, kinks).
    dtype : str or None
        Engine dtype; None uses the engine default (float32) with no ``dtype=`` argument.
    atol, rtol : float
        Tolerances of the comparisons with torch.
    grad : bool
        Also compare gradients (inputs get ``requires_grad=True``).
    check_numeric : bool
        Run gradcheck (float64 only); off where central differences are wrong (ties).
    seed : int
        Seed of the inputs and of the upstream gradient.
    """
    torch_fn = fn if torch_fn is None else torch_fn
    rng = np.random.default_rng(seed)
    arrays = _inputs(shapes, low, high, inputs, rng)
    want_dtype = np.dtype(np.float32 if dtype is None else dtype)
    kw = {} if dtype is None else {"dtype": dtype}

    xs = [tg.Tensor(a, requires_grad=grad, device=device, **kw) for a in arrays]
    out = fn(*xs)
    assert isinstance(out, tg.Tensor)
    assert out.dtype == want_dtype, f"output dtype {out.dtype}, expected {want_dtype}"
    assert _same_device(out.device, device), f"output on {out.device}, expected {device}"

    g_np = np.asarray(rng.standard_normal(out.shape))
    if grad:
        assert out.requires_grad
        g = tg.Tensor(g_np, device=device, **kw)
        (out * g).sum().backward()
        for i, x in enumerate(xs):
            assert x.grad is not None, f"input {i} got no gradient"
            assert x.grad.shape == x.shape, f"input {i}: grad shape {x.grad.shape} != {x.shape}"
            assert x.grad.dtype == want_dtype, f"input {i}: grad dtype {x.grad.dtype}"
        # The backward formulas ran on raw arrays; recorded (create_graph) they run on
        # Tensors. Both modes of each formula must give the same gradients.
        recorded = tg.grad((fn(*xs) * g).sum(), xs, create_graph=True)
        for i, (x, r) in enumerate(zip(xs, recorded, strict=True)):
            assert r.dtype == want_dtype and r.shape == x.shape
            np.testing.assert_allclose(
                r.numpy(), x.grad.numpy(), rtol=1e-6, atol=1e-12, err_msg=f"recorded grad {i}"
            )
        if check_numeric and want_dtype == np.float64:
            fresh = [
                tg.Tensor(a, dtype="float64", requires_grad=True, device=device) for a in arrays
            ]
            assert gradcheck(lambda *ts: (fn(*ts) * g).sum(), *fresh) is True

    pytest.importorskip("torch")
    t_dtype = torch.float32 if want_dtype == np.float32 else torch.float64
    ts = [torch.tensor(a, dtype=t_dtype, requires_grad=grad) for a in arrays]
    t_out = torch_fn(*ts)
    assert out.shape == tuple(t_out.shape), f"shape {out.shape} != torch {tuple(t_out.shape)}"
    np.testing.assert_allclose(
        out.numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward"
    )
    if grad:
        (t_out * torch.tensor(g_np, dtype=t_dtype)).sum().backward()
        for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
            np.testing.assert_allclose(
                x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
            )


class Case(NamedTuple):
    shapes: list
    fn: object
    torch_fn: object
    kw: dict


def case(name, shapes, fn, torch_fn=None, **kw):
    """One line of a case table: a pytest.param with a readable id."""
    return pytest.param(Case(shapes, fn, torch_fn, kw), id=name)


def _run(c, device):
    check_op(c.shapes, c.fn, c.torch_fn, device, **c.kw)


# ----------------------------------------------------------------- binary operators

BROADCAST_SHAPES = [
    ("scalar", [(), ()]),
    ("vec", [(3,), (3,)]),
    ("mat", [(2, 3), (2, 3)]),
    ("mat-vec", [(2, 3), (3,)]),
    ("vec-mat", [(3,), (2, 3)]),
    ("col-row", [(2, 1), (1, 3)]),
    ("3d-col", [(4, 1, 3), (2, 1)]),
    ("scalar-mat", [(), (2, 3)]),
    ("mat-scalar", [(2, 3), ()]),
]
POS = (0.5, 2.0)  # a range away from zero: denominators, bases of powers

C = np.array([[1.5, -2.0, 0.5], [3.0, 0.25, -1.0]])  # an ndarray on the left of an operator

BINARY = [
    *[case(f"add-{n}", s, lambda a, b: a + b) for n, s in BROADCAST_SHAPES],
    *[case(f"sub-{n}", s, lambda a, b: a - b) for n, s in BROADCAST_SHAPES],
    *[case(f"mul-{n}", s, lambda a, b: a * b) for n, s in BROADCAST_SHAPES],
    *[
        case(f"div-{n}", s, lambda a, b: a / b, low=[-2.0, POS[0]], high=[2.0, POS[1]])
        for n, s in BROADCAST_SHAPES
    ],
    *[
        case(f"pow-{n}", s, lambda a, b: a**b, low=[POS[0], -2.0], high=[POS[1], 2.0])
        for n, s in BROADCAST_SHAPES
    ],
    case("mul-same-input", [(2, 3)], lambda a: a * a),
    case("sub-same-input", [(2, 3)], lambda a: a - a),
    case("add-scalar", [(2, 3)], lambda a: a + 2.5),
    case("sub-scalar", [(2, 3)], lambda a: a - 2.5),
    case("mul-scalar", [(2, 3)], lambda a: a * -1.5),
    case("div-scalar", [(2, 3)], lambda a: a / 4.0),
    case("radd", [(2, 3)], lambda a: 2 + a),
    case("rsub", [(2, 3)], lambda a: 2 - a),
    case("rmul", [(2, 3)], lambda a: 3 * a),
    case("rdiv", [(2, 3)], lambda a: 2 / a, low=POS[0], high=POS[1]),
    case("rdiv-neg", [(2, 3)], lambda a: 2 / a, low=-POS[1], high=-POS[0]),
    case("neg", [(2, 3)], lambda a: -a),
    case("neg-scalar", [()], lambda a: -a),
    case("pow-2", [(2, 3)], lambda a: a**2),
    case("pow-3", [(2, 3)], lambda a: a**3),
    case("pow-0.5", [(2, 3)], lambda a: a**0.5, low=POS[0], high=POS[1]),
    case("pow-neg2", [(2, 3)], lambda a: a**-2, low=POS[0], high=POS[1]),
    case("pow-2.5", [(2, 3)], lambda a: a**2.5, low=POS[0], high=POS[1]),
    case("pow-0", [(2, 3)], lambda a: a**0),
    case("pow-1", [(2, 3)], lambda a: a**1),
    case("rpow-2", [(2, 3)], lambda a: 2.0**a),
    case("rpow-0.5", [(2, 3)], lambda a: 0.5**a),
    case("rpow-int", [(3,)], lambda a: 3**a),
    case("ndarray-add", [(2, 3)], lambda a: C + a, lambda a: torch.tensor(C) + a),
    case("ndarray-mul", [(2, 3)], lambda a: C * a, lambda a: torch.tensor(C) * a),
    case("ndarray-sub", [(2, 3)], lambda a: C - a, lambda a: torch.tensor(C) - a),
    case("tensor-ndarray", [(2, 3)], lambda a: a / C, lambda a: a / torch.tensor(C)),
]

MATMUL = [
    case("1d@1d", [(3,), (3,)], lambda a, b: a @ b),
    case("1d@2d", [(3,), (3, 4)], lambda a, b: a @ b),
    case("2d@1d", [(2, 3), (3,)], lambda a, b: a @ b),
    case("2d@2d", [(2, 3), (3, 4)], lambda a, b: a @ b),
    case("3d@3d", [(5, 2, 3), (5, 3, 4)], lambda a, b: a @ b),
    case("3d@2d", [(5, 2, 3), (3, 4)], lambda a, b: a @ b),
    case("2d@3d", [(2, 3), (5, 3, 4)], lambda a, b: a @ b),
    case("4d@3d-broadcast", [(4, 1, 2, 3), (3, 3, 2)], lambda a, b: a @ b),
    case("1d@3d", [(3,), (5, 3, 4)], lambda a, b: a @ b),
    case("3d@1d", [(5, 2, 3), (3,)], lambda a, b: a @ b),
    case("method", [(2, 3), (3, 4)], lambda a, b: a.matmul(b)),
    case("same-input", [(3, 3)], lambda a: a @ a),
]


@pytest.mark.parametrize("c", BINARY)
def test_binary(c, device):
    _run(c, device)


@pytest.mark.parametrize("c", MATMUL)
def test_matmul(c, device):
    _run(c, device)


# --------------------------------------------------------------------- elementwise

TIE_X = [[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]
TIE_Y = [[1.0, 2.0, 3.0], [-0.5, 0.0, -1.0]]  # equal to TIE_X at 4 of 6 places
NAN = float("nan")
NAN_X = [[NAN, 1.0, 2.0, NAN], [-1.0, 0.5, 3.0, 0.0]]
NAN_Y = [[0.0, NAN, 2.0, NAN], [NAN, 0.5, 1.0, 4.0]]  # NaN in either, both; ties; winners
COND = np.array([[True, False, True], [False, False, True]])
COND_ROW = np.array([True, False, True])


def _where(cond):
    return (
        lambda a, b: tg.where(tg.Tensor(cond, device=a.device), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
    )


UNARY = [
    case("exp", [(2, 3)], lambda a: a.exp()),
    case("exp-scalar", [()], lambda a: a.exp()),
    case("log", [(2, 3)], lambda a: a.log(), low=0.1, high=3.0),
    case("sqrt", [(2, 3)], lambda a: a.sqrt(), low=0.1, high=3.0),
    case("abs", [(2, 3)], lambda a: a.abs()),
    case("sigmoid", [(2, 3)], lambda a: a.sigmoid(), low=-5.0, high=5.0),
    case("tanh", [(2, 3)], lambda a: a.tanh()),
    case("relu", [(2, 3)], lambda a: a.relu()),
    case("leaky_relu-0.1", [(2, 3)], lambda a: a.leaky_relu(0.1), lambda a: _leaky(a, 0.1)),
    case("leaky_relu-default", [(2, 3)], lambda a: a.leaky_relu(), lambda a: _leaky(a, 0.01)),
    case("clip", [(3, 4)], lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5)),
    case("maximum", [(2, 3), (2, 3)], lambda a, b: a.maximum(b), lambda a, b: torch.maximum(a, b)),
    case("minimum", [(2, 3), (2, 3)], lambda a, b: a.minimum(b), lambda a, b: torch.minimum(a, b)),
    case("tg.maximum-bcast", [(2, 3), (3,)], tg.maximum, lambda a, b: torch.maximum(a, b)),
    case("tg.minimum-bcast", [(2, 1), (1, 3)], tg.minimum, lambda a, b: torch.minimum(a, b)),
    # ties: torch splits the gradient half/half between equal inputs
    case(
        "maximum-ties",
        None,
        tg.maximum,
        lambda a, b: torch.maximum(a, b),
        inputs=[TIE_X, TIE_Y],
        check_numeric=False,
    ),
    case(
        "minimum-ties",
        None,
        tg.minimum,
        lambda a, b: torch.minimum(a, b),
        inputs=[TIE_X, TIE_Y],
        check_numeric=False,
    ),
    # NaN: torch.maximum/minimum send the whole gradient to both inputs where either is NaN
    case(
        "maximum-nan",
        None,
        tg.maximum,
        lambda a, b: torch.maximum(a, b),
        inputs=[NAN_X, NAN_Y],
        check_numeric=False,
    ),
    case(
        "minimum-nan",
        None,
        tg.minimum,
        lambda a, b: torch.minimum(a, b),
        inputs=[NAN_X, NAN_Y],
        check_numeric=False,
    ),
    case("where", [(2, 3), (2, 3)], *_where(COND)),
    case("where-bcast", [(2, 1), (3,)], *_where(COND)),
    case("where-cond-bcast", [(2, 3), (2, 3)], *_where(COND_ROW)),
    # PyTorch's choices at kinks: relu'(0) = 0, abs'(0) = 0, clamp passes the bounds
    case("relu-at-0", None, lambda a: a.relu(), inputs=[[-1.0, 0.0, 2.0]], check_numeric=False),
    case("abs-at-0", None, lambda a: a.abs(), inputs=[[-1.0, 0.0, 2.0]], check_numeric=False),
    case(
        "clip-at-bounds",
        None,
        lambda a: a.clip(-0.5, 0.5),
        lambda a: a.clamp(-0.5, 0.5),
        inputs=[[-1.0, -0.5, 0.0, 0.5, 1.0]],
        check_numeric=False,
    ),
]


def _leaky(t, slope):
    return torch.nn.functional.leaky_relu(t, slope)


@pytest.mark.parametrize("c", UNARY)
def test_elementwise(c, device):
    _run(c, device)


# ----------------------------------------------------------------------- reductions


def _dims(t, axis):
    if axis is None:
        return tuple(range(t.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _reduce(op, axis, keepdims, correction=None):
    """Engine and torch versions of one reduction."""
    if op == "var":

        def fn(x):
            return x.var(axis=axis, correction=correction, keepdims=keepdims)

        def tfn(t):
            return torch.var(t, dim=_dims(t, axis), correction=correction, keepdim=keepdims)

        return fn, tfn
    t_op = {"max": "amax", "min": "amin"}.get(op, op)

    def fn(x):
        return getattr(x, op)(axis=axis, keepdims=keepdims)

    def tfn(t):
        return getattr(torch, t_op)(t, dim=_dims(t, axis), keepdim=keepdims)

    return fn, tfn


AXES = [None, 1, -1, (0, 2), (-1, 0)]
REDUCE = [
    case(f"{op}-axis{axis}-keep{kd}".replace(" ", ""), [(2, 3, 4)], *_reduce(op, axis, kd))
    for op in ["sum", "mean", "max", "min", "logsumexp"]
    for axis in AXES
    for kd in [False, True]
]
REDUCE += [
    case(f"var{c}-axis{axis}-keep{kd}".replace(" ", ""), [(2, 3, 4)], *_reduce("var", axis, kd, c))
    for c in [0, 1]
    for axis in AXES
    for kd in [False, True]
]
REDUCE += [
    case(f"{op}-scalar", [()], *_reduce(op, None, False)) for op in ["sum", "mean", "max", "min"]
]
REDUCE += [case(f"{op}-vec-axis0", [(5,)], *_reduce(op, 0, False)) for op in ["sum", "max"]]
REDUCE += [
    case("var-default", [(3, 4)], lambda x: x.var(), lambda t: torch.var(t)),
    case("var-axis0-default", [(3, 4)], lambda x: x.var(axis=0), lambda t: torch.var(t, dim=0)),
    case("sum-default", [(3, 4)], lambda x: x.sum(), lambda t: t.sum()),
    case("mean-int-pos", [(3, 4)], lambda x: x.mean(0), lambda t: t.mean(0)),
    case(
        "logsumexp-default", [(3, 4)], lambda x: x.logsumexp(), lambda t: torch.logsumexp(t, (0, 1))
    ),
]

TIES_MAX = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
TIES_MIN = [[1.0, 1.0, 3.0], [0.0, 2.0, 0.0]]
TIES_ALL = [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
REDUCE_TIES = [
    case(
        f"{op}-{name}-axis{axis}-keep{kd}",
        None,
        *_reduce(op, axis, kd),
        inputs=[x],
        check_numeric=False,
    )
    for op in ["max", "min"]
    for name, x in [("ties", TIES_MAX if op == "max" else TIES_MIN), ("allequal", TIES_ALL)]
    for axis in [None, 0, 1, -1]
    for kd in [False, True]
]


@pytest.mark.parametrize("c", REDUCE)
def test_reduce(c, device):
    _run(c, device)


@pytest.mark.parametrize("c", REDUCE_TIES)
def test_reduce_ties(c, device):
    """Gradient of max/min is shared equally among tied extremes (torch.amax/amin)."""
    _run(c, device)


# ------------------------------------------------------------------------- movement


def _rev(t):
    return t.permute(*reversed(range(t.ndim)))


MOVEMENT = [
    case("reshape-tuple", [(2, 3, 4)], lambda x: x.reshape((3, 8)), lambda t: t.reshape(3, 8)),
    case("reshape-ints", [(2, 3, 4)], lambda x: x.reshape(4, 2, 3)),
    case("reshape-minus1", [(2, 3, 4)], lambda x: x.reshape(-1)),
    case("reshape-minus1-mid", [(2, 3, 4)], lambda x: x.reshape(4, -1)),
    case("reshape-to-scalar", [(1,)], lambda x: x.reshape(()), lambda t: t.reshape(())),
    case("reshape-from-scalar", [()], lambda x: x.reshape(1, 1)),
    case("transpose-reverse", [(2, 3, 4)], lambda x: x.transpose(), _rev),
    case("transpose-2d", [(2, 3)], lambda x: x.transpose(), lambda t: t.permute(1, 0)),
    case(
        "transpose-axes", [(2, 3, 4)], lambda x: x.transpose(1, 0, 2), lambda t: t.permute(1, 0, 2)
    ),
    case(
        "transpose-tuple",
        [(2, 3, 4)],
        lambda x: x.transpose((2, 0, 1)),
        lambda t: t.permute(2, 0, 1),
    ),
    case("transpose-2d-identity", [(2, 3)], lambda x: x.transpose(0, 1), lambda t: t.permute(0, 1)),
    case("permute-ints", [(2, 3, 4)], lambda x: x.permute(2, 0, 1)),
    case(
        "permute-tuple", [(2, 3, 4)], lambda x: x.permute((1, 2, 0)), lambda t: t.permute(1, 2, 0)
    ),
    case(
        "permute-negative", [(2, 3, 4)], lambda x: x.permute(-1, 0, 1), lambda t: t.permute(2, 0, 1)
    ),
    case("T-2d", [(2, 3)], lambda x: x.T, _rev),
    case("T-3d", [(2, 3, 4)], lambda x: x.T, _rev),
    case("flatten", [(2, 3, 4)], lambda x: x.flatten()),
    case("flatten-1", [(2, 3, 4)], lambda x: x.flatten(1)),
    case("flatten-kw", [(2, 3, 4)], lambda x: x.flatten(start_axis=2), lambda t: t.flatten(2)),
    case("squeeze-axis", [(2, 1, 3)], lambda x: x.squeeze(1)),
    case("squeeze-neg", [(2, 3, 1)], lambda x: x.squeeze(-1)),
    case("squeeze-all", [(1, 2, 1, 3)], lambda x: x.squeeze()),
    case("unsqueeze-0", [(2, 3)], lambda x: x.unsqueeze(0)),
    case("unsqueeze-1", [(2, 3)], lambda x: x.unsqueeze(1)),
    case("unsqueeze-neg", [(2, 3)], lambda x: x.unsqueeze(-1)),
    case("unsqueeze-scalar", [()], lambda x: x.unsqueeze(0)),
    case("expand-ints", [(3, 1)], lambda x: x.expand(2, 3, 4)),
    case("expand-tuple", [(3, 1)], lambda x: x.expand((2, 3, 4)), lambda t: t.expand(2, 3, 4)),
    case("expand-scalar", [()], lambda x: x.expand(2, 3)),
    case(
        "broadcast_to",
        [(3,)],
        lambda x: x.broadcast_to((2, 3)),
        lambda t: torch.broadcast_to(t, (2, 3)),
    ),
    case(
        "reshape-then-T",
        [(6,)],
        lambda x: x.reshape(2, 3).T * x.reshape(3, 2),
        lambda t: t.reshape(2, 3).T * t.reshape(3, 2),
    ),
]


@pytest.mark.parametrize("c", MOVEMENT)
def test_movement(c, device):
    _run(c, device)


# ------------------------------------------------------------------------- indexing

IDX = np.array([2, 0, 2, 2])
IDX2D = np.array([[0, 1], [2, 0]])
MASK = np.array(
    [[True, False, True, False], [False, False, True, True], [True, True, False, False]]
)
ROWS = np.array([True, False, True])


def _np_index(index):
    """Engine indexes with NumPy arrays, torch with the same values as torch tensors."""
    return lambda x: x[index], lambda t: t[torch.tensor(index)]


GETITEM = [
    case("int", [(3, 4)], lambda x: x[1]),
    case("int-neg", [(3, 4)], lambda x: x[-1]),
    case("int-int", [(3, 4)], lambda x: x[1, 2]),
    case("int-neg-neg", [(3, 4)], lambda x: x[-1, -2]),
    case("int-1d", [(5,)], lambda x: x[3]),
    case("slice", [(5, 4)], lambda x: x[1:4]),
    case("slice-step", [(6, 4)], lambda x: x[::2, 1:3]),
    case("slice-step-offset", [(6, 5)], lambda x: x[1::2, ::3]),
    case("slice-neg-bounds", [(5, 4)], lambda x: x[-3:-1, :-1]),
    case("slice-reverse", [(3, 4)], lambda x: x[:, ::-1], lambda t: t.flip(1)),
    case("None", [(3, 4)], lambda x: x[None]),
    case("None-mid", [(3, 4)], lambda x: x[:, None]),
    case("ellipsis-int", [(2, 3, 4)], lambda x: x[..., 0]),
    case("int-ellipsis", [(2, 3, 4)], lambda x: x[0, ...]),
    case("ellipsis-slice", [(2, 3, 4)], lambda x: x[..., 1:3]),
    case("None-ellipsis-None", [(2, 3)], lambda x: x[None, ..., None]),
    case("list-repeats", [(3, 4)], lambda x: x[[0, 0, 2]]),
    case("list-negative", [(3, 4)], lambda x: x[[-1, 0, -1]]),
    case("array-repeats", [(3, 4)], *_np_index(IDX)),
    case("array-2d", [(3, 4)], *_np_index(IDX2D)),
    case("array-1d-vec", [(4,)], *_np_index(IDX)),
    case("two-lists-repeats", [(3, 4)], lambda x: x[[0, 2, 0], [1, 1, 1]]),
    case("cols-repeats", [(3, 4)], lambda x: x[:, [0, 0, 3]]),
    case(
        "int-tensor-index",
        [(3, 4)],
        lambda x: x[tg.Tensor([0, 0, 2], device=x.device)],
        lambda t: t[torch.tensor([0, 0, 2])],
    ),
    case("mask-2d", [(3, 4)], *_np_index(MASK)),
    case("mask-rows", [(3, 4)], *_np_index(ROWS)),
    case("mask-tensor", [(3, 4)], lambda x: x[x > 0]),
    case("mixed-slice-list", [(3, 4)], lambda x: x[1:, [0, 2]]),
    case("mixed-list-slice", [(3, 4)], lambda x: x[[0, 2, 0], 1:]),
    # NumPy rule (the contract's): the int and the list are split by a slice, so the
    # broadcast index axis goes first -> (2, 3); torch would give (3, 2).
    case("mixed-int-list", [(2, 3, 4)], lambda x: x[1, :, [3, 3]], lambda t: t[1][:, [3, 3]].T),
    case("scalar-result-of-vec", [(3,)], lambda x: x[0] * x[1] + x[0]),
]


@pytest.mark.parametrize("c", GETITEM)
def test_getitem(c, device):
    _run(c, device)


# ---------------------------------------------------------------------- cat / stack

JOIN = [
    case(
        "cat-0",
        [(2, 3), (4, 3)],
        lambda a, b: tg.cat([a, b], axis=0),
        lambda a, b: torch.cat([a, b], 0),
    ),
    case(
        "cat-default", [(2, 3), (1, 3)], lambda a, b: tg.cat([a, b]), lambda a, b: torch.cat([a, b])
    ),
    case(
        "cat-1",
        [(2, 3), (2, 5)],
        lambda a, b: tg.cat([a, b], axis=1),
        lambda a, b: torch.cat([a, b], 1),
    ),
    case(
        "cat-neg",
        [(2, 3), (2, 1)],
        lambda a, b: tg.cat((a, b), axis=-1),
        lambda a, b: torch.cat([a, b], -1),
    ),
    case(
        "cat-three-3d",
        [(2, 1, 4), (2, 3, 4), (2, 2, 4)],
        lambda a, b, c: tg.cat([a, b, c], axis=1),
        lambda a, b, c: torch.cat([a, b, c], 1),
    ),
    case(
        "cat-same",
        [(2, 3)],
        lambda a: tg.cat([a, a * 2], axis=0),
        lambda a: torch.cat([a, a * 2], 0),
    ),
    *[
        case(
            f"stack-{axis}",
            [(2, 3), (2, 3), (2, 3)],
            lambda a, b, c, axis=axis: tg.stack([a, b, c], axis=axis),
            lambda a, b, c, axis=axis: torch.stack([a, b, c], axis),
        )
        for axis in [0, 1, 2, -1, -3]
    ],
    case(
        "stack-default",
        [(3,), (3,)],
        lambda a, b: tg.stack([a, b]),
        lambda a, b: torch.stack([a, b]),
    ),
    case(
        "stack-scalars", [(), ()], lambda a, b: tg.stack([a, b]), lambda a, b: torch.stack([a, b])
    ),
]


@pytest.mark.parametrize("c", JOIN)
def test_cat_stack(c, device):
    _run(c, device)


# ------------------------------------------------------------------------- softmax

SOFTMAX = [
    case(
        f"{op}-{shape}-axis{axis}",
        [shape],
        lambda x, op=op, axis=axis: getattr(x, op)(axis=axis),
        lambda t, op=op, axis=axis: getattr(t, op)(dim=axis),
    )
    for op in ["softmax", "log_softmax"]
    for shape, axis in [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((5,), 0)]
]
SOFTMAX += [
    case("softmax-default", [(3, 4)], lambda x: x.softmax(), lambda t: t.softmax(-1)),
    case("log_softmax-default", [(3, 4)], lambda x: x.log_softmax(), lambda t: t.log_softmax(-1)),
    case(
        "softmax-large",
        [(3, 4)],
        lambda x: x.softmax(),
        lambda t: t.softmax(-1),
        low=-50.0,
        high=50.0,
    ),
]


@pytest.mark.parametrize("c", SOFTMAX)
def test_softmax(c, device):
    _run(c, device)


# ------------------------------------------------------------- second derivatives

SECOND = [
    # name, f, f', f'', input range
    ("cube", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, (-2.0, 2.0)),
    ("square-mul", lambda x: x * x, lambda x: 2 * x, lambda x: 2 + 0 * x, (-2.0, 2.0)),
    ("exp", lambda x: x.exp(), np.exp, np.exp, (-2.0, 2.0)),
    ("log", lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x**2, (0.5, 3.0)),
    ("sqrt", lambda x: x.sqrt(), lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5, (0.5, 3.0)),
    ("reciprocal", lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, (0.5, 3.0)),
    (
        "sigmoid",
        lambda x: x.sigmoid(),
        lambda x: _sig(x) * (1 - _sig(x)),
        lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x)),
        (-4.0, 4.0),
    ),
    (
        "tanh",
        lambda x: x.tanh(),
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        (-2.0, 2.0),
    ),
    (
        "rpow",
        lambda x: 2.0**x,
        lambda x: np.log(2) * 2**x,
        lambda x: np.log(2) ** 2 * 2**x,
        (-2, 2),
    ),
]


def _sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize(
    ("f", "d1", "d2", "bounds"), [pytest.param(*s[1:], id=s[0]) for s in SECOND]
)
def test_second_derivative_analytic(f, d1, d2, bounds, device):
    """tg.grad(create_graph=True), then tg.grad again and backward(), give f''."""
    a = np.random.default_rng(1).uniform(*bounds, size=(5,))
    x = tg.Tensor(a, dtype="float64", requires_grad=True, device=device)
    (g,) = tg.grad(f(x).sum(), [x], create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), d1(a), rtol=1e-10, atol=1e-12)
    (h,) = tg.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), d2(a), rtol=1e-10, atol=1e-12)
    assert x.grad is None  # tg.grad never touches .grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d2(a), rtol=1e-10, atol=1e-12)


def test_third_derivative(device):
    """d3/dx3 x**4 = 24 x, by three nested tg.grad calls."""
    a = np.array([-1.5, 0.5, 2.0])
    x = tg.Tensor(a, dtype="float64", requires_grad=True, device=device)
    (g1,) = tg.grad((x**4).sum(), [x], create_graph=True)
    (g2,) = tg.grad(g1.sum(), [x], create_graph=True)
    (g3,) = tg.grad(g2.sum(), [x])
    np.testing.assert_allclose(g1.numpy(), 4 * a**3, rtol=1e-12)
    np.testing.assert_allclose(g2.numpy(), 12 * a**2, rtol=1e-12)
    np.testing.assert_allclose(g3.numpy(), 24 * a, rtol=1e-12)


W = np.array([[0.3, -1.0, 2.0, 0.5], [1.5, 0.2, -0.7, 1.0], [-0.4, 0.9, 0.1, -2.0]])

COMPOSITE = [
    case(
        "tanh-x2",
        [(3, 4)],
        lambda x: (x.tanh() * x**2).sum(),
        lambda t: (t.tanh() * t**2).sum(),
    ),
    case(
        "logsumexp",
        [(3, 4)],
        lambda x: x.logsumexp(axis=-1).sum(),
        lambda t: t.logsumexp(dim=-1).sum(),
    ),
    case(
        "softmax",
        [(3, 4)],
        lambda x: (x.softmax(axis=-1) * tg.Tensor(W, dtype="float64", device=x.device)).sum(),
        lambda t: (t.softmax(dim=-1) * torch.tensor(W)).sum(),
    ),
    case(
        "log_softmax",
        [(3, 4)],
        lambda x: (x.log_softmax(axis=0) * tg.Tensor(W, dtype="float64", device=x.device)).sum(),
        lambda t: (t.log_softmax(dim=0) * torch.tensor(W)).sum(),
    ),
    case(
        "matmul-tanh",
        [(2, 3), (3, 4)],
        lambda a, b: (a @ b).tanh().sum(),
        lambda a, b: (a @ b).tanh().sum(),
    ),
    case(
        "matmul-square",
        [(2, 3), (3, 4)],
        lambda a, b: ((a @ b) ** 2).mean(),
        lambda a, b: ((a @ b) ** 2).mean(),
    ),
    case(
        "sigmoid-mul-bcast",
        [(2, 3), (3,)],
        lambda a, b: (a.sigmoid() * b.exp()).sum(),
        lambda a, b: (a.sigmoid() * b.exp()).sum(),
    ),
    case(
        "div-var",
        [(2, 3), (2, 3)],
        lambda a, b: (a / b).var(axis=1).sum(),
        lambda a, b: (a / b).var(dim=1).sum(),
        low=[-2.0, 0.5],
        high=[2.0, 2.0],
    ),
    case("var-all", [(3, 4)], lambda x: x.var() ** 2, lambda t: t.var() ** 2),
    case(
        "getitem-cat",
        [(3, 4)],
        lambda x: (tg.cat([x[[0, 0]], x[1:]], axis=0) ** 3).sum(),
        lambda t: (torch.cat([t[[0, 0]], t[1:]], 0) ** 3).sum(),
    ),
]


def check_second_order(shapes, fn, torch_fn, device, *, low=-2.0, high=2.0, seed=0):
    """Compare the Hessian-vector product of scalar ``fn`` with torch's."""
    rng = np.random.default_rng(seed)
    arrays = _inputs(shapes, low, high, None, rng)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    xs = [tg.Tensor(a, dtype="float64", requires_grad=True, device=device) for a in arrays]
    grads = tg.grad(fn(*xs), xs, create_graph=True)
    s = sum(
        (g * tg.Tensor(v, dtype="float64", device=device)).sum()
        for g, v in zip(grads, vs, strict=True)
    )
    hvp = tg.grad(s, xs)
    assert isinstance(grads, tuple) and isinstance(hvp, tuple)

    pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_grads = torch.autograd.grad(torch_fn(*ts), ts, create_graph=True)
    t_s = sum((g * torch.tensor(v)).sum() for g, v in zip(t_grads, vs, strict=True))
    t_hvp = torch.autograd.grad(t_s, ts)
    for i in range(len(xs)):
        np.testing.assert_allclose(
            grads[i].numpy(), t_grads[i].detach().numpy(), rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(hvp[i].numpy(), t_hvp[i].numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("c", COMPOSITE)
def test_second_order_vs_torch(c, device):
    check_second_order(c.shapes, c.fn, c.torch_fn, device, **c.kw)


# ------------------------------------------------------------ numerical stability

EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])

STABLE = [
    ("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid()),
    ("tanh", lambda x: x.tanh(), lambda t: t.tanh()),
    ("softmax", lambda x: x.softmax(axis=-1), lambda t: t.softmax(dim=-1)),
    ("softmax-axis0", lambda x: x.softmax(axis=0), lambda t: t.softmax(dim=0)),
    ("log_softmax", lambda x: x.log_softmax(axis=-1), lambda t: t.log_softmax(dim=-1)),
    ("log_softmax-axis0", lambda x: x.log_softmax(axis=0), lambda t: t.log_softmax(dim=0)),
    ("logsumexp", lambda x: x.logsumexp(axis=-1), lambda t: t.logsumexp(dim=-1)),
    ("logsumexp-all", lambda x: x.logsumexp(), lambda t: torch.logsumexp(t, dim=(0, 1))),
    (
        "logsumexp-keep",
        lambda x: x.logsumexp(axis=0, keepdims=True),
        lambda t: t.logsumexp(0, True),
    ),
]


def _strict(mode):
    """NumPy floating-point errors raised directly, or as warnings turned into errors."""
    if mode == "errstate":
        return np.errstate(all="raise", under="ignore")
    return np.errstate(all="warn", under="ignore")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["errstate", "warnings"])
@pytest.mark.parametrize(("fn", "torch_fn"), [pytest.param(*s[1:], id=s[0]) for s in STABLE])
def test_stable_at_extremes(fn, torch_fn, mode, dtype, device):
    """No overflow, invalid value or division by zero at +-1000; values and grads as torch.

    Underflow (exp(-2000) -> 0) is harmless and allowed: every stable formula underflows.
    """
    with warnings.catch_warnings(), _strict(mode):
        warnings.simplefilter("error")
        x = tg.Tensor(EXTREME, dtype=dtype, requires_grad=True, device=device)
        out = fn(x)
        g_np = np.asarray(np.random.default_rng(2).standard_normal(out.shape))
        (out * tg.Tensor(g_np, dtype=dtype, device=device)).sum().backward()
        values, grads = out.numpy(), x.grad.numpy()
    assert out.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(values)), values
    assert np.all(np.isfinite(grads)), grads

    pytest.importorskip("torch")
    t = torch.tensor(EXTREME, dtype=getattr(torch, dtype), requires_grad=True)
    t_out = torch_fn(t)
    (t_out * torch.tensor(g_np, dtype=t.dtype)).sum().backward()
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(values, t_out.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(grads, t.grad.numpy(), rtol=tol, atol=tol)


# ------------------------------------------------------- comparisons (no gradient)

COMPARE_OPS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]
CMP_A = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
CMP_B = np.array([1.0, -1.0, 3.0])  # broadcasts over CMP_A's rows, equal in places


@pytest.mark.parametrize("op", COMPARE_OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", ["tensor", "scalar", "reflected"])
def test_comparison(op, other, device):
    """Comparisons give bool tensors without gradient, values as NumPy."""
    a = tg.Tensor(CMP_A, dtype="float64", requires_grad=True, device=device)
    if other == "tensor":
        b = tg.Tensor(CMP_B, dtype="float64", requires_grad=True, device=device)
        out, want = op(a, b), op(CMP_A, CMP_B)
    elif other == "scalar":
        out, want = op(a, 2.0), op(CMP_A, 2.0)
    else:
        out, want = op(2.0, a), op(2.0, CMP_A)
    assert isinstance(out, tg.Tensor)
    assert out.dtype == np.bool_
    assert out.shape == want.shape
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), want)


ARG = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 5.0, 5.0, -1.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(name, axis, keepdims, device):
    """int64, no gradient, first index among ties, as NumPy (None: flat index)."""
    x = tg.Tensor(ARG, dtype="float64", requires_grad=True, device=device)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    want = getattr(np, name)(ARG, axis=axis, keepdims=keepdims)
    assert isinstance(out, tg.Tensor)
    assert out.dtype == np.int64
    assert not out.requires_grad
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)


def test_argmax_default_is_flat_index(device):
    x = tg.Tensor(ARG, device=device)
    assert x.argmax().item() == 5
    assert x.argmin().item() == 7
    assert x.argmax().shape == ()


# ------------------------------------------------------------------ float32 path

F32 = [
    case("add-bcast", [(2, 3), (3,)], lambda a, b: a + b),
    case("mul-scalar", [(2, 3)], lambda a: a * 2.5),
    case("rdiv-scalar", [(2, 3)], lambda a: 2 / a, low=0.5, high=2.0),
    case("pow-scalar", [(2, 3)], lambda a: a**2),
    case("rpow", [(2, 3)], lambda a: 2**a),
    case("div", [(2, 3), (2, 3)], lambda a, b: a / b, low=[-2.0, 0.5], high=[2.0, 2.0]),
    case("exp-log", [(2, 3)], lambda a: a.exp() + a.log(), low=0.5, high=2.0),
    case("sigmoid-tanh", [(2, 3)], lambda a: a.sigmoid() * a.tanh()),
    case("matmul", [(4, 3), (3, 5)], lambda a, b: a @ b),
    case("sum-axis", [(2, 3, 4)], lambda a: a.sum(axis=1), lambda t: t.sum(1)),
    case("mean", [(2, 3, 4)], lambda a: a.mean(), lambda t: t.mean()),
    case("max", [(2, 3, 4)], lambda a: a.max(axis=-1), lambda t: t.amax(-1)),
    case("var", [(3, 4)], lambda a: a.var(axis=0), lambda t: t.var(0)),
    case("logsumexp", [(3, 4)], lambda a: a.logsumexp(axis=1), lambda t: t.logsumexp(1)),
    case("softmax", [(3, 4)], lambda a: a.softmax(), lambda t: t.softmax(-1)),
    case("log_softmax", [(3, 4)], lambda a: a.log_softmax(axis=0), lambda t: t.log_softmax(0)),
    case("getitem", [(3, 4)], lambda a: a[[0, 0, 2], 1:]),
    case("where", [(2, 3), (2, 3)], *_where(COND)),
    case("cat", [(2, 3), (1, 3)], lambda a, b: tg.cat([a, b]), lambda a, b: torch.cat([a, b])),
]


@pytest.mark.parametrize("c", F32)
def test_float32(c, device):
    """Default dtype float32: outputs and gradients stay float32, values as torch's float32."""
    check_op(c.shapes, c.fn, c.torch_fn, device, dtype=None, rtol=1e-5, atol=1e-6, **c.kw)


def test_float32_scalar_does_not_widen(device):
    x = tg.Tensor([1.0, 2.0], requires_grad=True, device=device)
    assert x.dtype == np.float32
    for y in [x + 2.5, 2.5 * x, x / 3.0, 1.0 / x, x**2.0, 2.0**x, -x]:
        assert y.dtype == np.float32, y


@pytest.mark.parametrize(
    "name, fn",
    [
        ("pow", lambda x: x ** np.float64(3.0)),
        ("rpow", lambda x: np.float64(2.0) ** x),
        ("mul", lambda x: x * np.float64(2.0)),
        ("clip", lambda x: x.clip(np.float64(-0.5), np.float64(0.5))),
        ("leaky_relu", lambda x: x.leaky_relu(np.float64(0.1))),
        ("maximum", lambda x: tg.maximum(x, np.float64(0.1))),
    ],
)
def test_numpy_float64_scalar_does_not_widen(name, fn, device):
    """np.float64 is a Python float too: like 2.5 it keeps a float32 tensor float32,
    in the forward and in the gradient (as in PyTorch)."""
    x = tg.Tensor([0.3, -0.7, 1.2], requires_grad=True, device=device)
    y = fn(x)
    assert y.dtype == np.float32, name
    y.sum().backward()
    assert x.grad.dtype == np.float32, name
    x64 = tg.Tensor(x.numpy(), dtype="float64", requires_grad=True, device=device)
    want = fn(x64)
    want.sum().backward()
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("shape, axis", [((0,), None), ((0, 2), 0), ((2, 0), 1), ((2, 0), None)])
def test_mean_over_nothing_is_nan_without_a_warning(shape, axis, device):
    """As torch: nan where no element was averaged, a gradient of the input's (empty) shape."""
    x = tg.Tensor(np.zeros(shape), requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.mean(axis=axis)
        out.sum().backward()
    pytest.importorskip("torch")
    t = torch.zeros(shape, requires_grad=True)
    want = t.mean() if axis is None else t.mean(dim=axis)
    np.testing.assert_array_equal(out.numpy(), want.detach().numpy())
    assert x.grad.shape == shape


# ------------------------------------------------------- edge cases of the ops (vs torch)


@contextlib.contextmanager
def _no_warnings():
    """Warnings turned into errors: an edge case must not leak NumPy's RuntimeWarnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_division_gradient_at_extreme_divisors_matches_torch(dtype, device):
    """d(a / b)/db = -(a / b) / b, as torch computes it: -a / (b * b) overflowed (b*b = inf
    gave -0) or underflowed (b*b = 0 gave -inf) long before the gradient itself does."""
    torch = pytest.importorskip("torch")
    big, tiny = (1e20, 1e-25) if dtype == "float32" else (1e160, 1e-170)
    numerators, divisors = [big * 1e10, tiny, 1.0], [big, tiny, 3.0]
    x = tg.Tensor(numerators, dtype=dtype, requires_grad=True, device=device)
    y = tg.Tensor(divisors, dtype=dtype, requires_grad=True, device=device)
    (x / y).sum().backward()
    tx = torch.tensor(numerators, dtype=getattr(torch, dtype), requires_grad=True)
    ty = torch.tensor(divisors, dtype=getattr(torch, dtype), requires_grad=True)
    (tx / ty).sum().backward()
    assert np.isfinite(y.grad.numpy()).all() and (y.grad.numpy() != 0).all()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_pow_at_zero_base_matches_torch(device):
    """0 ** 0: d/da is 0 (torch), not 0 * 0 ** -1 = nan; d/db = a^b ln a is 0 at a = 0 for
    b >= 0, -inf for b < 0, nan for a negative base; values and gradients as torch."""
    bases = [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -1.0, 0.5]
    exponents = [0.0, 2.0, 1.0, 0.5, -1.0, 0.0, 2.0, 0.0]
    with np.errstate(divide="ignore"):  # the forward's 0 ** -1 = inf is NumPy's warning to give
        check_op(
            None, lambda a, b: a**b, device=device, inputs=[bases, exponents], check_numeric=False
        )
    with np.errstate(all="raise"):  # and the backward has nothing to warn about
        x = tg.Tensor([0.0], dtype="float64", requires_grad=True, device=device)
        y = tg.Tensor([0.0], dtype="float64", requires_grad=True, device=device)
        (x**y).sum().backward()
    assert x.grad.tolist() == [0.0] and y.grad.tolist() == [0.0]


@pytest.mark.parametrize(
    "values, axis, correction",
    [
        ([1.0, 2.0], None, 3),  # n - correction < 0: divide by 0, not by -1
        ([1.0, 2.0], None, 2),
        ([2.0, 2.0], None, 2),  # constant data: 0 / 0
        ([[1.0, 2.0, 2.0]], 1, 3),
        ([[1.0, 2.0, 2.0], [3.0, 3.0, 3.0]], (0, 1), 6),
        (np.zeros(0), None, 1),  # no data: nan, and an empty gradient
        (np.zeros((0, 3)), 0, 1),
        (np.zeros((3, 0)), 0, 1),
        (3.0, None, 1),  # 0-d
        (3.0, 0, 0),
        ([1.0, 4.0], None, 1),  # the ordinary case, for contrast
    ],
)
def test_var_without_degrees_of_freedom_matches_torch(values, axis, correction, device):
    """Divide by max(0, n - correction) as torch: inf (nan for constant or no data), gradient
    inf/nan where torch's is, and no NumPy warnings."""
    with _no_warnings():
        x = tg.Tensor(values, dtype="float64", requires_grad=True, device=device)
        out = x.var(axis=axis, correction=correction)
        out.sum().backward()
        (recorded,) = tg.grad(x.var(axis=axis, correction=correction).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(recorded.numpy(), x.grad.numpy())
    pytest.importorskip("torch")
    t = torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns "degrees of freedom is <= 0"
        t_out = t.var(correction=correction) if axis is None else t.var(axis, correction=correction)
        t_out.sum().backward()
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
    assert x.grad.shape == tuple(t.grad.shape)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_var_with_correction_above_n_over_an_axis(device):
    """torch's gradient over given axes divides by n - correction < 0 (finite, against its
    own inf value); ours divides by max(0, n - correction) = 0 there too, as for correction = n."""
    x = tg.Tensor([[1.0, 2.0, 2.0]], dtype="float64", requires_grad=True, device=device)
    out = x.var(axis=1, correction=4)
    out.sum().backward()
    assert out.tolist() == [np.inf]
    assert x.grad.tolist() == [[-np.inf, np.inf, np.inf]]


@pytest.mark.parametrize(
    "values, axis, correction, keepdims",
    [
        ([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], 1, 1, False),  # a constant row: gradient 0
        ([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], None, 1, False),
        ([[1.0, 2.0], [5.0, 7.0]], 0, 0, True),
        ([[3.0, 3.0]], None, 1, False),  # constant data: std 0, gradient 0 (not 0 / 0)
        ([[1.0, 2.0, 4.0]], (0, 1), 2, True),
    ],
)
def test_std_matches_torch_with_its_gradients(values, axis, correction, keepdims, device):
    pytest.importorskip("torch")
    weights = np.random.default_rng(0).random(np.asarray(values).size)
    x = tg.Tensor(values, dtype="float64", requires_grad=True, device=device)
    out = x.std(axis=axis, correction=correction, keepdims=keepdims)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    dims = {} if axis is None else {"dim": axis}
    t_out = t.std(**dims, correction=correction, keepdim=keepdims)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
    assert out.shape == tuple(t_out.shape)
    # First and second derivatives (through the weighted sum of squared gradients).
    scale = tg.Tensor(weights[: out.size].reshape(out.shape), dtype="float64", device=device)
    (grad,) = tg.grad((out * scale).sum(), [x], create_graph=True)
    (t_grad,) = torch.autograd.grad(
        (t_out * torch.tensor(weights[: out.size].reshape(out.shape))).sum(), t, create_graph=True
    )
    np.testing.assert_allclose(grad.numpy(), t_grad.detach().numpy(), rtol=1e-10, atol=1e-15)
    if (out.numpy() != 0).all():  # torch's double backward of std at 0 is nan; not compared
        (second,) = tg.grad((grad * grad).sum(), [x])
        (t_second,) = torch.autograd.grad((t_grad * t_grad).sum(), t)
        np.testing.assert_allclose(second.numpy(), t_second.numpy(), rtol=1e-8, atol=1e-12)
    assert tg.std(x, axis=axis, correction=correction, keepdims=keepdims).tolist() == out.tolist()


@pytest.mark.parametrize("shape, axis", [((0,), None), ((0, 3), 0), ((0, 3), None), ((3, 0), 1)])
def test_logsumexp_of_nothing_is_minus_inf(shape, axis, device):
    """log(sum of no exps) = log 0 = -inf, as torch, with a gradient of the input's shape."""
    with _no_warnings():
        x = tg.Tensor(np.zeros(shape), dtype="float64", requires_grad=True, device=device)
        out = x.logsumexp(axis=axis)
        out.sum().backward()
    assert x.grad.shape == shape
    pytest.importorskip("torch")
    t = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    t_out = t.logsumexp(dim=tuple(range(len(shape))) if axis is None else axis)
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_over_a_full_axis_of_an_empty_tensor(op, device):
    """zeros(0, 3).max(axis=1) has shape (0,), as NumPy and torch (amax)."""
    x = tg.Tensor(np.zeros((0, 3)), dtype="float64", requires_grad=True, device=device)
    out = getattr(x, op)(axis=1)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 3)
    assert getattr(x, op)(axis=-1, keepdims=True).shape == (0, 1)
    assert getattr(x, "arg" + op)(axis=1).shape == (0,)
    pytest.importorskip("torch")
    assert tuple(getattr(torch, "a" + op)(torch.zeros(0, 3), dim=1).shape) == out.shape


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((0, 3), None), ((0,), None), ((2, 0), -1)])
def test_max_min_over_an_empty_axis_is_an_error(op, shape, axis, device):
    """The max of nothing is undefined (NumPy and torch raise too): a ValueError naming the op
    and the shape."""
    x = tg.Tensor(np.zeros(shape), device=device)
    with pytest.raises(ValueError) as exc:
        getattr(x, op)(axis=axis)
    assert op in str(exc.value) and str(shape) in str(exc.value)


SCALAR_AXIS_OPS = [
    ("sum", lambda x, a: x.sum(axis=a), lambda t, a: t.sum(a)),
    ("mean", lambda x, a: x.mean(axis=a), lambda t, a: t.mean(a)),
    ("max", lambda x, a: x.max(axis=a), lambda t, a: t.amax(a)),
    ("min-keep", lambda x, a: x.min(axis=a, keepdims=True), lambda t, a: t.amin(a, True)),
    ("logsumexp", lambda x, a: x.logsumexp(axis=a), lambda t, a: t.logsumexp(a)),
    ("softmax", lambda x, a: x.softmax(axis=a), lambda t, a: t.softmax(a)),
    ("log_softmax", lambda x, a: x.log_softmax(axis=a), lambda t, a: t.log_softmax(a)),
    ("squeeze", lambda x, a: x.squeeze(a), lambda t, a: t.squeeze(a)),
    ("var", lambda x, a: x.var(axis=a, correction=0), lambda t, a: t.var(a, correction=0)),
]


@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize(
    ("fn", "torch_fn"), [pytest.param(*s[1:], id=s[0]) for s in SCALAR_AXIS_OPS]
)
def test_axis_0_and_minus_1_of_a_0d_tensor(fn, torch_fn, axis, device):
    """torch accepts dim 0 and -1 on a 0-d tensor (as on a tensor of one axis); so do we."""
    check_op(None, lambda x: fn(x, axis), lambda t: torch_fn(t, axis), device, inputs=[1.5])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_of_a_0d_tensor(name, axis, keepdims, device):
    out = getattr(tg.Tensor(1.5, device=device), name)(axis=axis, keepdims=keepdims)
    assert out.shape == () and out.item() == 0
    pytest.importorskip("torch")
    assert tuple(getattr(torch.tensor(1.5), name)(axis, keepdims).shape) == ()


@pytest.mark.parametrize("axis", [1, -2, (0, 1)])
@pytest.mark.parametrize(
    "name",
    ["sum", "mean", "max", "min", "var", "logsumexp", "argmax", "argmin", "squeeze", "softmax"],
)
def test_other_axes_of_a_0d_tensor_are_index_errors(name, axis, device):
    """Axis out of range: an IndexError that names the op, whatever the op (torch: IndexError)."""
    x = tg.Tensor(1.0, device=device)
    if name in ("argmax", "argmin", "softmax") and isinstance(axis, tuple):
        with pytest.raises(TypeError, match=name):  # one axis only there
            getattr(x, name)(axis=axis)
        return
    with pytest.raises(IndexError, match=name):
        getattr(x, name)(axis=axis)


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_gradient_at_nan_is_torchs(name):
    torch = pytest.importorskip("torch")
    values = [np.nan, -1.0, 0.0, 2.0]
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    getattr(theirs, name)().sum().backward()
    ours = tg.tensor(values, dtype="float64", requires_grad=True)
    getattr(ours, name)().sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist()  # relu passes it on, abs gives 0
    (again,) = tg.grad(getattr(ours, name)().sum(), [ours], create_graph=True)
    assert again.tolist() == theirs.grad.tolist()


@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0, 3), 0), ((0, 3), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_is_empty_as_torch(shape, axis, name):
    x = tg.zeros(*shape, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and quiet: no log(0) on the way
        out = getattr(x, name)(axis)
        out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape


def test_a_broadcast_gradient_sums_back_as_value_times_count():
    from tinygrad_dlcv.ops import unbroadcast

    grad = np.broadcast_to(np.arange(3.0).reshape(3, 1, 1), (3, 4, 5))  # stride 0 on axes 1, 2
    expected = np.arange(3.0).reshape(3, 1, 1) * 20
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1, 1)), expected)
    np.testing.assert_array_equal(unbroadcast(grad, (1, 1)), [[60.0]])  # with a summed real axis
    x = tg.tensor(np.ones((100, 100, 1)), requires_grad=True)
    x.expand(100, 100, 8).sum().backward()
    assert x.grad.numpy().min() == x.grad.numpy().max() == 8.0


def test_a_broadcast_gradient_of_nothing_or_of_many_float16_copies_is_right():
    x = tg.tensor([1.0], requires_grad=True)
    x.expand(0).sum().backward()
    assert x.grad.tolist() == [0.0]
    b = tg.zeros(2, requires_grad=True)
    (tg.zeros((0, 2)) * b).sum().backward()
    assert b.grad.tolist() == [0.0, 0.0]
    h = tg.tensor([1e-4], dtype="float16", requires_grad=True)
    (h.expand(70000).sum() * 1e-4).backward()  # 70,000 is no float16 number: summed instead
    assert abs(h.grad.item() - 7.0) < 0.01


@pytest.mark.parametrize(
    "name, data, reference",
    [
        ("mean", np.full(300, 255.0), 255.0),  # the float16 sum, 76,500, is no float16
        ("var", 250.0 + np.tile([-1.0, 1.0], 150), 300 / 299),  # squares past 65,504
        ("logsumexp", np.zeros(70000), np.log(70000)),
        ("softmax", np.zeros(70000), 1 / 70000),
        ("log_softmax", np.zeros(70000), -np.log(70000)),
        ("cross_entropy", np.zeros(70000), np.log(70000)),
    ],
)
def test_float16_sums_are_added_up_in_float32(name, data, reference, device):
    # As NumPy's mean and torch: a float16 sum overflowed to inf (mean inf, var inf,
    # softmax all 0); the result is rounded to float16 once, at the end.
    from tinygrad_dlcv.nn import functional as F

    x = tg.tensor(data, dtype="float16", device=device, requires_grad=True)
    if name == "cross_entropy":
        out = F.cross_entropy(x.reshape(1, -1), tg.tensor([3], device=device))
    else:
        out = getattr(x, name)()
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.numpy().astype(np.float64).ravel()[0], reference, rtol=2e-3)
    out.mean().backward()  # (a sum of 70,000 log-probabilities is no float16)
    assert x.grad.dtype == np.float16 and np.isfinite(x.grad.numpy()).all()
    recorded = tg.tensor(data, dtype="float16", device=device, requires_grad=True)
    again = (
        F.cross_entropy(recorded.reshape(1, -1), tg.tensor([3], device=device))
        if (name == "cross_entropy")
        else getattr(recorded, name)()
    )
    again.mean().backward(create_graph=True)  # the recorded backward sums in float32 too
    np.testing.assert_allclose(
        recorded.grad.numpy().astype(np.float64), x.grad.numpy().astype(np.float64), atol=1e-3
    )


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_float16_mean_losses_over_many_elements(loss):
    # The float16 sum of 70,000 losses overflowed: the mean came out 0 (torch: ln 2).
    from tinygrad_dlcv.nn import functional as F

    inputs = tg.full((70000,), 0.5 if loss == "binary_cross_entropy" else 0.0, dtype="float16")
    value = getattr(F, loss)(inputs, tg.ones(70000, dtype="float16"))
    assert value.dtype == np.float16
    assert abs(value.item() - np.log(2)) < 1e-3


def test_a_float16_broadcast_gradient_is_summed_in_float32():
    # The copies of a broadcast float16 weight added up in float16 lost digits (torch
    # sums them in float32 and rounds once).
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).normal(size=1000).astype(np.float16)
    w = tg.tensor([1.0], dtype="float16", requires_grad=True)
    (tg.tensor(values, dtype="float16") * w).sum().backward()
    theirs = torch.tensor([1.0], dtype=torch.float16, requires_grad=True)
    (torch.tensor(values) * theirs).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), theirs.grad.numpy())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) and 1/0: NumPy's words
def test_relu_gives_zero_gradient_below_zero_even_for_an_infinite_incoming_one():
    # torch's threshold_backward: 0 where the input is <= 0, whatever arrives; the mask
    # product made inf * 0 = NaN (relu(x).log() at x = -1).
    torch = pytest.importorskip("torch")
    x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    theirs = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().log().sum().backward()
    theirs.relu().log().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), theirs.grad.numpy())


def test_float16_results_are_the_float32_ones_rounded_once():
    # Sums over a strided axis, softmax's exps, linear's product + bias and BCE's formula
    # were each rounded to float16 on the way (up to 48 ulp off); now computed in float32
    # and rounded once, as torch's fused float16 kernels do.
    torch = pytest.importorskip("torch")
    from tinygrad_dlcv.nn import functional as F

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20)).astype(np.float16)
    weight = (rng.normal(size=(8, 20)) * 0.2).astype(np.float16)
    bias = rng.normal(size=8).astype(np.float16)

    def ours(array):
        return tg.tensor(array, dtype="float16")

    def rounded_once(values):
        return values.astype(np.float16)

    np.testing.assert_array_equal(
        ours(x).sum(axis=0).numpy(), rounded_once(x.astype(np.float32).sum(0))
    )
    np.testing.assert_array_equal(
        F.linear(ours(x), ours(weight), ours(bias)).numpy(),
        torch.nn.functional.linear(*(torch.tensor(a) for a in (x, weight, bias))).numpy(),
    )
    for name in ("softmax", "log_softmax"):
        for axis in (0, 1):
            reference = rounded_once(
                getattr(torch.tensor(x.astype(np.float32)), name)(axis).numpy()
            )
            result = getattr(ours(x), name)(axis).numpy()
            # Within one float16 step of the float32 result (exps in float16 were up to 5).
            assert (np.abs(result - reference) <= np.spacing(np.abs(reference))).all()
    logits, targets = x[:, :3], (rng.random((64, 3)) > 0.5).astype(np.float16)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits).float(), torch.tensor(targets).float(), reduction="none"
    )  # (torch's own float16 kernel here is 1 ulp off in a fifth of the elements)
    np.testing.assert_array_equal(
        F.binary_cross_entropy_with_logits(ours(logits), ours(targets), reduction="none").numpy(),
        rounded_once(reference.numpy()),
    )


# ------------------------------------------------------------------ masks and infinite gradients


MASKING_OPS = {
    "where": (lambda m, x: m.where(x > 0, x, 0.0), lambda x: x.where(x > 0, 0.0)),
    "clip": (lambda m, x: x.clip(0, None), lambda x: x.clamp(0, None)),
    "maximum": (
        lambda m, x: m.maximum(x, m.zeros(3, dtype="float64")),
        lambda x: x.maximum(x.new_zeros(3)),
    ),
    "minimum": (
        lambda m, x: 0.0 - m.minimum(-x, m.zeros(3, dtype="float64")),  # 0.0 - : no -0.0
        lambda x: 0.0 - (-x).minimum(x.new_zeros(3)),
    ),
    "relu": (lambda m, x: x.relu(), lambda x: x.relu()),
    "pow 0": (lambda m, x: x**0 + x.relu() - 1, lambda x: x**0 + x.relu() - 1),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(MASKING_OPS))
def test_an_infinite_gradient_is_not_turned_into_nan_by_a_mask(name, create_graph):
    """The safe-sqrt idiom: sqrt's infinite gradient at 0 meets a 0 of the mask; torch
    selects (where / masked_fill), so the masked-out entries get 0, not inf * 0 = NaN."""
    torch = pytest.importorskip("torch")
    ours, theirs = MASKING_OPS[name]
    values = np.array([-1.0, 0.0, 4.0])
    x = tg.Tensor(values, dtype="float64", requires_grad=True)
    (got,) = tg.grad(ours(tg, x).sqrt().sum(), x, create_graph=create_graph)
    xt = torch.tensor(values, requires_grad=True)
    (want,) = torch.autograd.grad(theirs(xt).sqrt().sum(), xt)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("op", ["abs", "relu", "pow 0"])
def test_second_derivative_of_a_piecewise_linear_op_is_zeros(op):
    """d/da of d|a|/da (and of relu's mask, and of d(a^0)/da) is 0, as torch's, not an
    error saying that nothing depends on a."""
    function = {"abs": lambda a: a.abs(), "relu": lambda a: a.relu(), "pow 0": lambda a: a**0}[op]
    a = tg.Tensor([-2.0, 3.0], dtype="float64", requires_grad=True)
    (first,) = tg.grad(function(a).sum(), a, create_graph=True)
    (second,) = tg.grad(first.sum(), a)
    np.testing.assert_array_equal(second.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_pow_gradients_multiply_the_local_derivative_by_the_gradient_last(dtype):
    """As torch: grad * (b a^(b-1)), not (grad * b) * a^(b-1), whose first product can
    overflow although the result does not."""
    torch = pytest.importorskip("torch")
    big = 1000.0 if dtype == "float16" else 1e37
    cases = [  # (function, a, b, upstream gradient)
        (lambda a, b: a**b, [0.9], [100.0], big),  # the base's gradient
        # The exponent's: 1.5^27 ln 1.5 times the gradient fits, 1.5^27 times it does not.
        (lambda a, b: b**a, [27.0], [1.5], 2.0 if dtype == "float16" else 1e34),
    ]
    for function, a_values, b_values, upstream in cases:
        a = tg.tensor(a_values, dtype=dtype, requires_grad=True)
        b = tg.tensor(b_values, dtype=dtype)
        function(a, b).backward(tg.tensor([upstream], dtype=dtype))
        ta = torch.tensor(a_values, dtype=getattr(torch, dtype), requires_grad=True)
        function(ta, torch.tensor(b_values, dtype=getattr(torch, dtype))).backward(
            torch.tensor([upstream], dtype=getattr(torch, dtype))
        )
        assert np.isfinite(a.grad.numpy()).all()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=2e-3)
    x = tg.tensor([0.9], dtype=dtype, requires_grad=True)
    (x**100.0).backward(tg.tensor([big], dtype=dtype))  # the scalar exponent too
    assert np.isfinite(x.grad.numpy()).all()


def test_matmul_and_linear_backward_of_a_mean_equal_torch():
    """The mean's backward hands matmul a broadcast (zero-stride) gradient, which is made
    contiguous first (NumPy's matmul skips BLAS for it); the values must not change."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, w = rng.normal(size=(50, 4)), rng.normal(size=4)
    ours_w = tg.tensor(w, dtype="float64", requires_grad=True)
    (tg.tensor(X, dtype="float64") @ ours_w).mean().backward()
    theirs_w = torch.tensor(w, requires_grad=True)
    (torch.tensor(X) @ theirs_w).mean().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=1e-13)
    layer = tg.nn.Linear(4, 3, dtype="float64")
    layer(tg.tensor(X, dtype="float64")).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.tile(X.sum(axis=0), (3, 1)))


@pytest.mark.parametrize("scale", [1e20, 1e-30])
def test_float32_std_of_values_whose_squares_leave_float32_matches_torch(scale, device):
    pytest.importorskip("torch")
    values = [1.0 * scale, 2.0 * scale, 3.0 * scale]
    with _no_warnings():
        x = tg.tensor(values, requires_grad=True, device=device)
        out = x.std()
        out.backward()
    t = torch.tensor(values, requires_grad=True)
    t.std().backward()
    np.testing.assert_allclose(out.item(), t.std().item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
