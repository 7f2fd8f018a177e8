"""nn.init: in-place fills with PyTorch's signatures, fans, gains and distributions.

Statistics are checked on 400 x 400 (or larger) tensors: 160,000 draws put the
sample mean within ~0.3% of the scale and the sample std within ~0.5%, so the
few-percent tolerances below are far from flaky.
"""

import math

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn
from tinygrad_dlcv.nn import init

FILLERS = [
    ("uniform_", {}),
    ("normal_", {}),
    ("zeros_", {}),
    ("ones_", {}),
    ("xavier_uniform_", {}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {}),
    ("kaiming_normal_", {}),
]


def _torch():
    return pytest.importorskip("torch")


def _torch_fans(shape):
    torch = _torch()
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize(("name", "kwargs"), FILLERS, ids=[f[0] for f in FILLERS])
def test_fills_in_place_and_returns_the_tensor(name, kwargs):
    t = tg.full((30, 20), 7.0)
    data = t.data
    out = getattr(init, name)(t, **kwargs)
    assert out is t
    assert t.data is data  # written into the same array
    assert t.shape == (30, 20) and t.dtype == np.float32
    assert not np.any(t.numpy() == 7.0)


@pytest.mark.parametrize(("name", "kwargs"), FILLERS, ids=[f[0] for f in FILLERS])
def test_filling_a_parameter_keeps_it_a_leaf_and_keeps_float64(name, kwargs):
    p = nn.Parameter(np.full((8, 6), 7.0), dtype="float64")
    assert getattr(init, name)(p, **kwargs) is p
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p.dtype == np.float64


def test_zeros_and_ones():
    t = tg.randn(5, 4)
    np.testing.assert_array_equal(init.zeros_(t).numpy(), np.zeros((5, 4)))
    np.testing.assert_array_equal(init.ones_(t).numpy(), np.ones((5, 4)))


def test_uniform_statistics_and_bounds():
    t = init.uniform_(tg.zeros(400, 400, dtype="float64"), -2.0, 3.0)
    values = t.numpy()
    assert values.min() >= -2.0 and values.max() <= 3.0
    assert values.min() < -1.99 and values.max() > 2.99
    np.testing.assert_allclose(values.mean(), 0.5, atol=0.02)
    np.testing.assert_allclose(values.std(), 5 / math.sqrt(12), rtol=0.02)


def test_uniform_default_is_zero_one():
    values = init.uniform_(tg.zeros(400, 400)).numpy()
    assert values.min() >= 0.0 and values.max() <= 1.0
    np.testing.assert_allclose(values.mean(), 0.5, atol=0.01)


def test_normal_statistics():
    values = init.normal_(tg.zeros(400, 400, dtype="float64"), mean=1.0, std=2.0).numpy()
    np.testing.assert_allclose(values.mean(), 1.0, atol=0.03)
    np.testing.assert_allclose(values.std(), 2.0, rtol=0.02)
    default = init.normal_(tg.zeros(400, 400)).numpy()
    np.testing.assert_allclose(default.mean(), 0.0, atol=0.015)
    np.testing.assert_allclose(default.std(), 1.0, rtol=0.02)


# --------------------------------------------------------------------------- fans and gains


@pytest.mark.parametrize(
    "nonlinearity",
    [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose2d",
        "sigmoid",
        "tanh",
        "relu",
        "selu",
    ],
)
def test_calculate_gain_equals_torch(nonlinearity):
    torch = _torch()
    assert init.calculate_gain(nonlinearity) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity), rel=1e-15
    )


@pytest.mark.parametrize("param", [None, 0, 0.2, math.sqrt(5)])
def test_calculate_gain_of_leaky_relu_equals_torch(param):
    torch = _torch()
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", param), rel=1e-15
    )


@pytest.mark.parametrize("nonlinearity", ["softsign", "identity"])
def test_calculate_gain_unknown_is_a_value_error(nonlinearity):
    with pytest.raises(ValueError, match=nonlinearity):  # torch has no "identity" either
        init.calculate_gain(nonlinearity)


def _uniform_bound(values):
    return np.abs(values).max()


SHAPES = [(300, 500), (500, 300), (64, 16, 5, 5), (200, 1000, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_xavier_uniform_bound_uses_torch_fans(shape):
    fan_in, fan_out = _torch_fans(shape)
    bound = 1.5 * math.sqrt(6.0 / (fan_in + fan_out))
    values = init.xavier_uniform_(tg.zeros(shape), gain=1.5).numpy()
    assert _uniform_bound(values) <= bound * (1 + 1e-6)
    assert _uniform_bound(values) > 0.995 * bound
    np.testing.assert_allclose(values.std(), bound / math.sqrt(3), rtol=0.03)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_xavier_normal_std_uses_torch_fans(shape):
    fan_in, fan_out = _torch_fans(shape)
    std = 0.5 * math.sqrt(2.0 / (fan_in + fan_out))
    values = init.xavier_normal_(tg.zeros(shape), gain=0.5).numpy()
    np.testing.assert_allclose(values.mean(), 0.0, atol=0.02 * std)
    np.testing.assert_allclose(values.std(), std, rtol=0.03)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_kaiming_uniform_bound_uses_torch_fans_and_gain(shape, mode):
    torch = _torch()
    fan_in, fan_out = _torch_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = torch.nn.init.calculate_gain("relu") * math.sqrt(3.0 / fan)
    values = init.kaiming_uniform_(tg.zeros(shape), mode=mode, nonlinearity="relu").numpy()
    assert _uniform_bound(values) <= bound * (1 + 1e-6)
    assert _uniform_bound(values) > 0.995 * bound
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(shape), mode=mode, nonlinearity="relu")
    np.testing.assert_allclose(_uniform_bound(values), theirs.abs().max().item(), rtol=0.005)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_kaiming_normal_std_uses_torch_fans_and_gain(shape, mode):
    torch = _torch()
    fan_in, fan_out = _torch_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    std = torch.nn.init.calculate_gain("leaky_relu", 0.2) / math.sqrt(fan)
    values = init.kaiming_normal_(tg.zeros(shape), a=0.2, mode=mode).numpy()
    np.testing.assert_allclose(values.mean(), 0.0, atol=0.02 * std)
    np.testing.assert_allclose(values.std(), std, rtol=0.03)
    theirs = torch.nn.init.kaiming_normal_(torch.empty(shape), a=0.2, mode=mode)
    np.testing.assert_allclose(values.std(), theirs.std().item(), rtol=0.05)


def test_kaiming_defaults_equal_torch_defaults():
    """Defaults a=0, mode="fan_in", nonlinearity="leaky_relu": bound sqrt(6 / fan_in)."""
    shape = (400, 600)
    bound = math.sqrt(6.0 / 600)
    values = init.kaiming_uniform_(tg.zeros(shape)).numpy()
    assert bound * 0.995 < _uniform_bound(values) <= bound * (1 + 1e-6)
    np.testing.assert_allclose(
        init.kaiming_normal_(tg.zeros(shape)).numpy().std(), math.sqrt(2.0 / 600), rtol=0.03
    )


@pytest.mark.parametrize(
    "name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
)
def test_fans_of_a_vector_are_a_value_error(name):
    with pytest.raises(ValueError):
        getattr(init, name)(tg.zeros(5))


def test_kaiming_bad_mode_is_a_value_error():
    with pytest.raises(ValueError):
        init.kaiming_uniform_(tg.zeros(3, 3), mode="fan_avg")


# --------------------------------------------------------------------------- seeding


@pytest.mark.parametrize(("name", "kwargs"), FILLERS[:2] + FILLERS[4:], ids=str)
def test_reproducible_with_manual_seed(name, kwargs):
    fill = getattr(init, name)
    tg.manual_seed(42)
    first = fill(tg.zeros(20, 10), **kwargs).numpy()
    tg.manual_seed(42)
    second = fill(tg.zeros(20, 10), **kwargs).numpy()
    third = fill(tg.zeros(20, 10), **kwargs).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


def test_seed_gives_the_same_values_in_float32_and_float64():
    tg.manual_seed(3)
    single = init.normal_(tg.zeros(50, dtype="float32")).numpy()
    tg.manual_seed(3)
    double = init.normal_(tg.zeros(50, dtype="float64")).numpy()
    np.testing.assert_allclose(single, double, rtol=1e-6)


# --------------------------------------------------------------------------- bad input

RANDOM_FILLERS = [name for name, _ in FILLERS if name not in ("zeros_", "ones_")]


@pytest.mark.parametrize("name", [f[0] for f in FILLERS])
def test_a_non_tensor_is_a_type_error_naming_the_function(name):
    with pytest.raises(TypeError, match=f"^{name}: expected a Tensor, got NoneType"):
        getattr(init, name)(None)


@pytest.mark.parametrize("name", RANDOM_FILLERS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_random_fills_of_non_floating_tensors_are_type_errors(name, dtype):
    # Values were truncated silently; torch refuses too (NotImplementedError for 'Long').
    t = tg.ones(4, 3, dtype=dtype)
    with pytest.raises(TypeError, match=f"^{name}: fills floating tensors only"):
        getattr(init, name)(t)
    np.testing.assert_array_equal(t.numpy(), np.ones((4, 3), dtype=dtype))


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_zeros_and_ones_fill_any_dtype_as_torch(dtype):
    torch = _torch()
    theirs = torch.empty(3, dtype=getattr(torch, dtype))
    t = tg.ones(3, dtype=dtype)
    np.testing.assert_array_equal(init.zeros_(t).numpy(), torch.nn.init.zeros_(theirs).numpy())
    np.testing.assert_array_equal(init.ones_(t).numpy(), torch.nn.init.ones_(theirs).numpy())
    assert t.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("shape", [(4, 0), (0, 3), (0,), (2, 0, 3)], ids=str)
def test_kaiming_of_a_zero_element_tensor_is_a_no_op_with_torchs_warning(name, shape):
    # A fan of 0 divided by zero; torch warns and returns the tensor untouched.
    t = tg.zeros(shape)
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        assert getattr(init, name)(t) is t
    assert t.shape == shape


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_"])
@pytest.mark.parametrize("shape", [(4, 0), (0, 0), (0, 0, 3)], ids=str)
def test_xavier_of_a_zero_element_tensor_is_a_no_op(name, shape):
    # (0, 0) has fan_in + fan_out = 0: torch divides by zero; there is nothing to fill.
    t = tg.zeros(shape)
    assert getattr(init, name)(t) is t and t.shape == shape


NAN, INF = float("nan"), float("inf")
BAD_VALUES = [
    (lambda t: init.uniform_(t, a=NAN), ValueError, "uniform_: a"),
    (lambda t: init.uniform_(t, b=INF), ValueError, "uniform_: b"),
    (lambda t: init.uniform_(t, 1, 0), ValueError, "uniform_: expects a <= b, got a=1, b=0"),
    (lambda t: init.uniform_(t, "0", 1), TypeError, "uniform_: a must be a real number"),
    (lambda t: init.normal_(t, std=-1), ValueError, "normal_: std .* >= 0.0, got -1"),
    (lambda t: init.normal_(t, std=NAN), ValueError, "normal_: std"),
    (lambda t: init.normal_(t, mean=INF), ValueError, "normal_: mean"),
    (lambda t: init.normal_(t, mean=None), TypeError, "normal_: mean"),
    (lambda t: init.xavier_uniform_(t, gain=NAN), ValueError, "xavier_uniform_: gain"),
    (lambda t: init.xavier_uniform_(t, gain=-1), ValueError, "xavier_uniform_: gain"),
    (lambda t: init.xavier_normal_(t, gain=INF), ValueError, "xavier_normal_: gain"),
    (lambda t: init.xavier_normal_(t, gain="2"), TypeError, "xavier_normal_: gain"),
    (lambda t: init.kaiming_uniform_(t, nonlinearity=5), TypeError, "kaiming_uniform_: nonlin"),
    (lambda t: init.kaiming_normal_(t, nonlinearity=None), TypeError, "kaiming_normal_: nonlin"),
    (lambda t: init.kaiming_uniform_(t, mode=5), TypeError, "kaiming_uniform_: mode"),
    (lambda t: init.kaiming_normal_(t, a="x"), TypeError, "kaiming_normal_: a must be"),
    (lambda t: init.kaiming_uniform_(t, a=NAN), ValueError, "kaiming_uniform_: a must be"),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="swish"), ValueError, "kaiming_uniform_"),
]


@pytest.mark.parametrize("fill, error, message", BAD_VALUES)
def test_bad_arguments_raise_naming_the_function_and_change_nothing(fill, error, message):
    # These gave OverflowError, AttributeError or NumPy's message without the function.
    t = tg.full((3, 4), 7.0)
    with pytest.raises(error, match=message):
        fill(t)
    np.testing.assert_array_equal(t.numpy(), np.full((3, 4), 7.0))


def test_calculate_gain_checks_its_argument_types():
    with pytest.raises(TypeError, match="calculate_gain: nonlinearity must be a string"):
        init.calculate_gain(5)
    with pytest.raises(TypeError, match="calculate_gain: negative slope"):
        init.calculate_gain("leaky_relu", "x")


def test_uniform_with_equal_bounds_fills_that_value():
    np.testing.assert_array_equal(init.uniform_(tg.zeros(3), 2.0, 2.0).numpy(), [2.0] * 3)
