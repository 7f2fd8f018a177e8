"""gradcheck: True for correct gradients, a RuntimeError naming the input, the element
and both values for a wrong one, and eps/atol/rtol honoured.

Wrong gradients are made with a hook on an intermediate tensor that alters the
gradient flowing through it; the forward values stay exact.
"""

import re

import numpy as np
import pytest

from tinygrad_dlcv import Tensor
from tinygrad_dlcv.gradcheck import gradcheck

RNG = np.random.default_rng(0)
FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _inp(*shape, low=-1.0, high=1.0):
    return Tensor(RNG.uniform(low, high, size=shape), dtype="float64", requires_grad=True)


def _tamper(t, hook):
    """Put ``hook`` on ``t`` when a backward can reach it (the numeric pass may not record)."""
    if t.requires_grad:
        t.register_hook(hook)
    return t


def _floats(msg):
    return [float(m) for m in FLOAT.findall(msg)]


CORRECT = {
    "square_sum": (lambda x: (x * x).sum(), [(3, 4)]),
    "softplus": (lambda x: (x.exp() + 1).log().sum(), [(5,)]),
    "matmul_tanh": (lambda a, b: (a @ b).tanh().sum(), [(2, 3), (3, 4)]),
    "broadcast_div_sigmoid": (
        lambda x, y: (x / (y + 3.0) + x.sigmoid() * y).sum(),
        [(3, 1), (1, 4)],
    ),
    "log_softmax_weighted": (
        lambda x: (x.log_softmax(axis=-1) * Tensor(np.arange(12.0).reshape(3, 4))).sum(),
        [(3, 4)],
    ),
    "max_axis": (lambda x: x.max(axis=0).sum(), [(4, 3)]),
    "getitem_repeat_mean": (lambda x: x[np.array([0, 0, 2])].sum() * x.mean(), [(3, 2)]),
    "diamond": (lambda x: ((x + x) * (x + x)).sum(), [(2, 2)]),
}


@pytest.mark.parametrize("name", list(CORRECT))
def test_correct_gradients_pass(name):
    fn, shapes = CORRECT[name]
    inputs = [_inp(*s) for s in shapes]
    assert gradcheck(fn, *inputs) is True


def test_non_scalar_output():
    assert gradcheck(lambda x: x.exp() * 2.0, _inp(2, 3)) is True


def test_wrong_gradient_raises():
    def doubled(x):
        y = _tamper(x * 3.0, lambda g: g * 2)
        return (y * y).sum()

    with pytest.raises(RuntimeError):
        gradcheck(doubled, _inp(4))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_hook_on_an_input_is_part_of_the_checked_gradient(dtype):
    # backward() hands the user the gradient after the input's hooks: a wrong hook is a
    # wrong gradient (gradcheck checked a copy without the hooks, and passed).
    x = Tensor(np.array([1.0, 2.0]), dtype=dtype, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    with pytest.raises(RuntimeError, match="numeric 2.0.* vs analytic 20.0"):
        gradcheck(lambda t: (t * t).sum(), x)
    assert x.grad is None  # the input itself is left alone
    y = Tensor(np.array([1.0, 2.0]), dtype=dtype, requires_grad=True)
    y.register_hook(lambda g: g * 1.0)
    assert gradcheck(lambda t: (t * t).sum(), y) is True


def test_a_float32_hook_returning_float32_is_checked_in_float64():
    x = Tensor(np.array([1.0, 2.0]), dtype="float32", requires_grad=True)
    x.register_hook(lambda g: (g * 1.0).astype("float32"))
    assert gradcheck(lambda t: (t * t).sum(), x) is True


def test_a_hook_returning_another_dtype_fails_as_backward_would():
    def to_float16(g):
        return g.astype("float16")

    x = Tensor(np.array([1.0, 2.0]), dtype="float32", requires_grad=True)
    x.register_hook(to_float16)
    with pytest.raises(RuntimeError, match="to_float16"):
        gradcheck(lambda t: (t * t).sum(), x)


def test_error_names_input_element_and_values():
    factor = np.ones((2, 3))
    factor[1, 2] = 4.0

    def one_wrong_element(a, b):
        y = _tamper(b * 1.0, lambda g: g * Tensor(factor, dtype="float64"))
        return (a * a).sum() + (y * 3.25).sum()

    with pytest.raises(RuntimeError) as exc:
        gradcheck(one_wrong_element, _inp(2, 2), _inp(2, 3))
    msg = str(exc.value)
    # the second input (index 1), element (1, 2); its analytic value is 4x the numeric one
    # (gradcheck may project the output on fixed weights, so the values are not pinned)
    assert re.search(r"(input|arg)\D{0,12}1\b", msg, re.IGNORECASE), msg
    assert re.search(r"1,\s*2", msg), msg
    values = [v for v in _floats(msg) if abs(v) > 0.5]
    assert any(abs(big - 4 * small) < 1e-5 * abs(big) for big in values for small in values), msg


def test_eps_is_used():
    x = Tensor([1.0, 0.5], dtype="float64", requires_grad=True)

    def cube(t):
        return (t**3).sum()  # central difference error is exactly eps**2

    assert gradcheck(cube, x, eps=1e-3) is True
    with pytest.raises(RuntimeError):
        gradcheck(cube, x, eps=0.1)


def test_atol_is_used():
    def off_by_5e_5(x):
        y = _tamper(x * 1e-3, lambda g: g + 5e-2)  # d/dx = 1e-3 * (g + 5e-2) = 1e-3 g + 5e-5
        return y.sum()

    x = _inp(3)
    with pytest.raises(RuntimeError):
        gradcheck(off_by_5e_5, x)  # tolerance 1e-5 + 1e-3 * 1e-3
    assert gradcheck(off_by_5e_5, x, atol=1e-4) is True


def test_rtol_is_used():
    def relative_5e_4(x):
        y = _tamper(x * 100.0, lambda g: g * 1.0005)
        return y.sum()

    x = _inp(3)
    assert gradcheck(relative_5e_4, x) is True  # |0.05| <= 1e-5 + 1e-3 * 100
    with pytest.raises(RuntimeError):
        gradcheck(relative_5e_4, x, rtol=1e-4)
    with pytest.raises(RuntimeError):
        gradcheck(relative_5e_4, x, rtol=1e-4, atol=1e-3)
    assert gradcheck(relative_5e_4, x, rtol=1e-4, atol=0.1) is True


@pytest.mark.parametrize(
    "option, value, error",
    [
        ("eps", 0.0, ValueError),  # was a ZeroDivisionError
        ("eps", -1e-6, ValueError),
        ("eps", float("nan"), ValueError),  # was a false mismatch
        ("eps", float("inf"), ValueError),
        ("atol", -1.0, ValueError),  # was a false mismatch
        ("atol", float("nan"), ValueError),
        ("rtol", -1e-3, ValueError),
        ("rtol", float("inf"), ValueError),
        ("eps", "x", TypeError),  # was NumPy's TypeError
        ("rtol", "x", TypeError),
        ("atol", None, TypeError),
        ("eps", True, TypeError),
    ],
)
def test_bad_tolerances_raise_before_fn_runs(option, value, error):
    calls = []

    def square(x):
        calls.append(1)
        return (x * x).sum()

    with pytest.raises(error, match=f"gradcheck: {option} must be"):
        gradcheck(square, _inp(3), **{option: value})
    assert not calls


def test_zero_tolerances_are_allowed():
    # Powers of two: the central difference of 2x is exactly 2, so exact agreement passes.
    x = Tensor([1.0, -2.0], dtype="float64", requires_grad=True)
    assert gradcheck(lambda x: (x * 2.0).sum(), x, eps=0.5, atol=0.0, rtol=0.0) is True


def test_an_output_that_does_not_depend_on_the_inputs_passes_as_in_torch():
    # Its gradient is 0 and so is the numeric one; torch.autograd.gradcheck returns True.
    x = _inp(3)
    assert gradcheck(lambda x: Tensor(np.ones(4), dtype="float64"), x) is True
    torch = pytest.importorskip("torch")
    ones = torch.ones(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: torch.ones(4, dtype=torch.float64), (ones,))


def test_an_output_computed_outside_the_graph_is_reported_as_such():
    # fn leaves the graph (through NumPy): the output depends on x numerically only.
    def through_numpy(x):
        return Tensor(x.numpy() * 2.0, dtype="float64")

    with pytest.raises(RuntimeError, match=r"gradcheck: .*does not depend on input 0") as info:
        gradcheck(through_numpy, _inp(3))
    assert "backward" not in str(info.value).split("(")[0]


def test_an_input_left_out_of_the_graph_is_named():
    def second_detached(x, y):
        return (x * 2.0).sum() + Tensor(y.numpy(), dtype="float64").sum()

    with pytest.raises(RuntimeError, match="does not depend on input 1 through the graph"):
        gradcheck(second_detached, _inp(2), _inp(2))
    # An input that truly does not matter has gradient 0 both ways, as torch.
    assert gradcheck(lambda x, y: (x * 2.0).sum(), _inp(2), _inp(2)) is True


def test_inputs_given_as_one_tuple_get_a_message_that_says_how_to_pass_them():
    x = Tensor(np.ones(3), dtype="float64", requires_grad=True)
    w = Tensor(np.ones(3), dtype="float64", requires_grad=True)
    with pytest.raises(ValueError, match="separate arguments"):
        gradcheck(lambda a, b: (a * b).sum(), (x, w))
    assert gradcheck(lambda a, b: (a * b).sum(), x, w) is True
