"""nn.functional and the loss modules against torch.nn.functional.

Values and gradients are compared in float64 with tight tolerances; the
stability tests use logits of +-1e4 in float32 and float64; the lecture's
single neuron is checked against its "prediction error x feature" gradient.
"""

import warnings

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor, nn
from tinygrad_dlcv.gradcheck import gradcheck
from tinygrad_dlcv.nn import functional as F

RNG = np.random.default_rng(2)
REDUCTIONS = ["mean", "sum", "none"]


def _torch():
    return pytest.importorskip("torch")


def _leaf(values, dtype="float64"):
    return Tensor(values, dtype=dtype, requires_grad=True)


def _compare(ours_fn, theirs_fn, x, *, dtype="float64", rtol=1e-12, atol=1e-14):
    """Run both functions on leaves holding ``x``; compare outputs and input gradients.

    A non-scalar output is back-propagated with one fixed random upstream gradient.
    """
    torch = _torch()
    x_ours = _leaf(x, dtype)
    x_theirs = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    out_ours, out_theirs = ours_fn(x_ours), theirs_fn(x_theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    assert out_ours.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(9).uniform(0.5, 1.5, size=out_ours.shape).astype(dtype)
    out_ours.backward(Tensor(upstream, dtype=dtype))
    out_theirs.backward(torch.from_numpy(upstream))
    assert x_ours.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=rtol, atol=atol)
    return out_ours, x_ours.grad


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_elementwise_activations_equal_torch(name):
    torch = _torch()
    x = RNG.normal(size=(4, 5)) * 3
    x[0, 0] = 0.0
    _compare(getattr(F, name), getattr(torch.nn.functional, name), x)


def test_leaky_relu_equals_torch():
    torch = _torch()
    x = RNG.normal(size=(4, 5))
    _compare(lambda t: F.leaky_relu(t, 0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_equal_torch(name, axis):
    torch = _torch()
    x = RNG.normal(size=(3, 4, 5)) * 4
    _compare(
        lambda t: getattr(F, name)(t, axis=axis),
        lambda t: getattr(torch.nn.functional, name)(t, dim=axis),
        x,
        rtol=1e-10,
        atol=1e-12,
    )


def test_softmax_default_axis_is_last_and_rows_sum_to_one():
    x = Tensor(RNG.normal(size=(3, 4)), dtype="float64")
    probabilities = F.softmax(x).numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(3), rtol=1e-12)
    np.testing.assert_allclose(np.log(probabilities), F.log_softmax(x).numpy(), rtol=1e-12)


def test_softmax_of_huge_logits_is_finite():
    x = Tensor([[1e4, -1e4, 0.0], [1e30, 1e30, -1e30]], dtype="float32")
    out = F.softmax(x).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    assert np.all(np.isfinite(F.log_softmax(x).numpy()[:, :2]))


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)], ids=["2d", "3d", "1d"])
def test_linear_equals_torch(shape, bias):
    torch = _torch()
    w, b = RNG.normal(size=(4, 3)), RNG.normal(size=(4,))
    x = RNG.normal(size=shape)
    upstream = RNG.normal(size=shape[:-1] + (4,))
    ours = [_leaf(x), _leaf(w)] + ([_leaf(b)] if bias else [])
    theirs = [torch.tensor(a, requires_grad=True) for a in [x, w] + ([b] if bias else [])]
    out_ours, out_theirs = F.linear(*ours), torch.nn.functional.linear(*theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    out_ours.backward(Tensor(upstream, dtype="float64"))
    out_theirs.backward(torch.from_numpy(upstream))
    for mine, ref in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_linear_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError):
        F.linear(tg.zeros(2, 3), tg.zeros(4, 5))
    with pytest.raises(ValueError):
        F.linear(tg.zeros(2, 3), tg.zeros(4, 3), tg.zeros(3))


# --------------------------------------------------------------------------- one_hot


@pytest.mark.parametrize("num_classes", [-1, 5])
@pytest.mark.parametrize("labels", [[0, 2, 1, 2], [[0, 3], [1, 1]]], ids=["1d", "2d"])
def test_one_hot_equals_torch(labels, num_classes):
    torch = _torch()
    ours = F.one_hot(Tensor(np.array(labels)), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes)
    assert ours.dtype == np.int64
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_on_a_device(device):
    """Built without put_along_axis, which CuPy has only from version 14."""
    labels = Tensor(np.array([[0, 3], [1, 1]]), device=device)
    encoded = F.one_hot(labels, 4)
    assert encoded.device == labels.device and encoded.dtype == np.int64
    np.testing.assert_array_equal(encoded.numpy(), np.eye(4, dtype=np.int64)[[[0, 3], [1, 1]]])


def test_one_hot_accepts_a_numpy_array():
    np.testing.assert_array_equal(F.one_hot(np.array([1, 0]), 2).numpy(), [[0, 1], [1, 0]])


@pytest.mark.parametrize(("labels", "num_classes"), [([0, 3], 3), ([-1, 0], 3)])
def test_one_hot_out_of_range_is_an_index_error(labels, num_classes):
    with pytest.raises(IndexError):
        F.one_hot(Tensor(np.array(labels)), num_classes)


def test_one_hot_of_an_empty_tensor_needs_num_classes():
    empty = Tensor(np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"one_hot.*\(0,\).*num_classes"):
        F.one_hot(empty)  # torch: "Can not infer total number of classes from empty tensor"
    assert F.one_hot(empty, 3).shape == (0, 3)  # with the count given, torch gives (0, 3) too


def test_one_hot_of_floats_is_a_type_error():
    with pytest.raises(TypeError):
        F.one_hot(Tensor([0.0, 1.0]), 2)


# --------------------------------------------------------------------------- cross_entropy


def _class_problem(n=6, c=4, scale=3.0):
    return RNG.normal(size=(n, c)) * scale, RNG.integers(0, c, size=n)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_equals_torch(reduction):
    torch = _torch()
    logits, target = _class_problem()
    _compare(
        lambda z: F.cross_entropy(z, target, reduction=reduction),
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.from_numpy(target), reduction=reduction
        ),
        logits,
        rtol=1e-12,
        atol=1e-14,
    )


def test_cross_entropy_float32_equals_torch():
    torch = _torch()
    logits, target = _class_problem(n=32, c=10)
    _compare(
        lambda z: F.cross_entropy(z, target),
        lambda z: torch.nn.functional.cross_entropy(z, torch.from_numpy(target)),
        logits.astype(np.float32),
        dtype="float32",
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize("kind", ["numpy", "list", "tensor"])
def test_cross_entropy_accepts_targets_as_arrays_lists_and_tensors(kind):
    logits, target = _class_problem()
    z = Tensor(logits, dtype="float64")
    want = -np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))[range(6), target].mean()
    given = {"numpy": target, "list": target.tolist(), "tensor": Tensor(target)}[kind]
    np.testing.assert_allclose(F.cross_entropy(z, given).item(), want, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probability_targets_equals_torch(reduction):
    torch = _torch()
    logits = RNG.normal(size=(5, 3)) * 2
    probabilities = RNG.dirichlet(np.ones(3), size=5)
    _compare(
        lambda z: F.cross_entropy(z, probabilities, reduction=reduction),
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.from_numpy(probabilities), reduction=reduction
        ),
        logits,
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_of_unbatched_logits_equals_torch(reduction):
    torch = _torch()
    logits = RNG.normal(size=4)
    out, _ = _compare(
        lambda z: F.cross_entropy(z, 2, reduction=reduction),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(2), reduction=reduction),
        logits,
    )
    assert out.shape == ()
    tensor_target = F.cross_entropy(Tensor(logits, dtype="float64"), Tensor(2), reduction)
    np.testing.assert_allclose(tensor_target.numpy(), out.numpy(), rtol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_of_unbatched_logits_with_probabilities_equals_torch(reduction):
    torch = _torch()
    probabilities = RNG.dirichlet(np.ones(4))
    out, _ = _compare(
        lambda z: F.cross_entropy(z, probabilities, reduction=reduction),
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.from_numpy(probabilities), reduction=reduction
        ),
        RNG.normal(size=4),
    )
    assert out.shape == ()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_unbatched_input_with_a_one_element_target_equals_torch(loss, reduction):
    # torch's forward takes a (1,) target for (C,) input (its backward then fails), and
    # gives the loss of the 0-d target; ours gives that loss and its gradient.
    torch = _torch()
    logits = RNG.normal(size=4)
    theirs = getattr(torch.nn.functional, loss)(
        torch.from_numpy(logits), torch.tensor([1]), reduction=reduction
    )
    z_one, z_scalar = _leaf(logits), _leaf(logits)
    ours = getattr(F, loss)(z_one, np.array([1]), reduction=reduction)
    assert ours.shape == tuple(theirs.shape) == ()
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours.backward()
    getattr(F, loss)(z_scalar, 1, reduction=reduction).backward()
    np.testing.assert_array_equal(z_one.grad.numpy(), z_scalar.grad.numpy())


@pytest.mark.parametrize(
    "target, shape",
    [([1, 2], r"\(2,\)"), (np.full(4, 0.25), r"\(4,\)"), (np.zeros((1, 3)), r"\(1, 3\)")],
    ids=["two-indices", "probabilities-of-4", "probabilities-2d"],
)
def test_cross_entropy_of_unbatched_logits_with_a_wrong_target_names_the_op(target, shape):
    with pytest.raises(ValueError, match=rf"cross_entropy.*{shape}.*\(3,\)"):
        F.cross_entropy(tg.randn(3), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", [2, np.array(2), Tensor(2)], ids=["int", "array", "tensor"])
def test_nll_loss_of_unbatched_input_equals_torch(reduction, target):
    torch = _torch()
    out, _ = _compare(
        lambda z: F.nll_loss(z.log_softmax(), target, reduction=reduction),
        lambda z: torch.nn.functional.nll_loss(
            z.log_softmax(dim=0), torch.tensor(2), reduction=reduction
        ),
        RNG.normal(size=5),
    )
    assert out.shape == ()


def test_nll_loss_of_unbatched_input_with_a_wrong_target_is_a_value_error():
    with pytest.raises(ValueError, match=r"nll_loss.*\(2,\).*\(5,\)"):
        F.nll_loss(tg.randn(5), [1, 2])
    with pytest.raises(IndexError):
        F.nll_loss(tg.randn(5), 5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (3,)], ids=["batched", "unbatched"])
def test_cross_entropy_probability_target_gets_torch_gradient(shape, reduction):
    torch = _torch()
    logits, target = RNG.normal(size=shape) * 2, RNG.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    upstream = RNG.uniform(0.5, 1.5, size=shape[:-1] if reduction == "none" else ())
    z, t = _leaf(logits), _leaf(target)
    zt, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target, requires_grad=True)
    F.cross_entropy(z, t, reduction=reduction).backward(Tensor(upstream, dtype="float64"))
    torch.nn.functional.cross_entropy(zt, tt, reduction=reduction).backward(
        torch.from_numpy(np.asarray(upstream))
    )
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_cross_entropy_probability_target_without_grad_stays_a_constant():
    z, t = _leaf(RNG.normal(size=(2, 3))), Tensor(RNG.dirichlet(np.ones(3), size=2))
    F.cross_entropy(z, t).backward()
    assert t.grad is None and z.grad is not None


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_equals_torch(reduction):
    torch = _torch()
    logits, target = _class_problem()
    _compare(
        lambda z: F.nll_loss(z.log_softmax(axis=1), target, reduction=reduction),
        lambda z: torch.nn.functional.nll_loss(
            z.log_softmax(dim=1), torch.from_numpy(target), reduction=reduction
        ),
        logits,
        rtol=1e-12,
        atol=1e-14,
    )


def test_nll_loss_after_log_softmax_equals_cross_entropy():
    logits, target = _class_problem()
    z = Tensor(logits, dtype="float64")
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(z, axis=1), target).item(),
        F.cross_entropy(z, target).item(),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- binary losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_equals_torch(reduction):
    torch = _torch()
    p = RNG.uniform(0.02, 0.98, size=(4, 3))
    t = RNG.uniform(0, 1, size=(4, 3))  # soft targets too
    t[0] = [0, 1, 1]
    _compare(
        lambda x: F.binary_cross_entropy(x, t, reduction=reduction),
        lambda x: torch.nn.functional.binary_cross_entropy(
            x, torch.from_numpy(t), reduction=reduction
        ),
        p,
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_at_exactly_zero_and_one_equals_torch(reduction):
    """torch clamps each log at -100 and divides the gradient by max(p (1 - p), 1e-12).

    (torch's 1e-12 is a float32 constant, 4e-9 away from the float64 one: hence rtol.)
    """
    torch = _torch()
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.0, 1.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.5])
    out, grad = _compare(
        lambda x: F.binary_cross_entropy(x, t, reduction=reduction),
        lambda x: torch.nn.functional.binary_cross_entropy(
            x, torch.from_numpy(t), reduction=reduction
        ),
        p,
        rtol=1e-8,
        atol=1e-14,
    )
    if reduction == "sum":  # the gradient at p = 0, t = 1 is (0 - 1) / 1e-12, times upstream
        assert grad.numpy()[2] < -1e11
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(grad.numpy()))
    if reduction == "none":
        np.testing.assert_allclose(out.numpy()[:4], [0.0, 0.0, 100.0, 100.0], atol=1e-12)


def test_binary_cross_entropy_outside_zero_one_is_a_value_error():
    with pytest.raises(ValueError):
        F.binary_cross_entropy(Tensor([0.5, 1.2]), Tensor([0.0, 1.0]))
    with pytest.raises(ValueError):
        F.binary_cross_entropy(Tensor([-0.1, 0.5]), Tensor([0.0, 1.0]))


@pytest.mark.parametrize("target", [[2.0, 1.0], [-1.0, 0.0], [np.nan, 1.0]])
def test_binary_cross_entropy_of_targets_outside_zero_one_is_a_value_error(target):
    # torch: "all elements of target should be between 0 and 1"; t = 2 gave a loss of
    # 2.05 and t = -1 a negative one. The target as an input (with a gradient) too.
    with pytest.raises(ValueError, match="binary_cross_entropy: targets"):
        F.binary_cross_entropy(Tensor([0.3, 0.6]), Tensor(target))
    with pytest.raises(ValueError, match="binary_cross_entropy: targets"):
        F.binary_cross_entropy(Tensor([0.3, 0.6]), Tensor(target, requires_grad=True))
    with pytest.raises(ValueError, match="binary_cross_entropy: targets"):
        nn.BCELoss()(Tensor([0.3, 0.6]), np.array(target))


@pytest.mark.parametrize(
    "values", [[np.nan, 0.5], [0.5, np.nan], [np.nan, np.nan]], ids=["first", "last", "all"]
)
def test_binary_cross_entropy_of_nan_is_a_value_error(values):
    # torch: "all elements of input should be between 0 and 1"; NaN passes min/max checks.
    with pytest.raises(ValueError, match="binary_cross_entropy.*nan"):
        F.binary_cross_entropy(Tensor(values), Tensor([0.0, 1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_equals_torch(reduction):
    torch = _torch()
    z = RNG.normal(size=(4, 3)) * 5
    t = RNG.uniform(0, 1, size=(4, 3))
    t[0] = [0, 1, 1]
    _compare(
        lambda x: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(
            x, torch.from_numpy(t), reduction=reduction
        ),
        z,
        rtol=1e-12,
        atol=1e-14,
    )


def test_binary_cross_entropy_with_logits_equals_bce_of_sigmoid():
    z = RNG.normal(size=8)
    t = RNG.integers(0, 2, size=8).astype(np.float64)
    x = Tensor(z, dtype="float64")
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, t).item(),
        F.binary_cross_entropy(F.sigmoid(x), t).item(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_equals_torch(reduction):
    torch = _torch()
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    _compare(
        lambda a: F.mse_loss(a, Tensor(y, dtype="float64"), reduction=reduction),
        lambda a: torch.nn.functional.mse_loss(a, torch.from_numpy(y), reduction=reduction),
        x,
    )


def test_mse_loss_accepts_a_numpy_target():
    x, y = RNG.normal(size=5), RNG.normal(size=5).astype(np.float32)
    out = F.mse_loss(Tensor(x, dtype="float64"), y)
    np.testing.assert_allclose(out.item(), ((x - y) ** 2).mean(), rtol=1e-12)


def test_mse_loss_keeps_a_float64_numpy_target_exact():
    """A float64 array target must not be rounded to float32 (the BCE losses keep it)."""
    x, y = RNG.normal(size=5), RNG.normal(size=5)
    out = F.mse_loss(Tensor(x, dtype="float64"), y)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.item(), ((x - y) ** 2).mean(), rtol=1e-12)


@pytest.mark.parametrize("input_values", [[1, 2], [True, False]])
@pytest.mark.parametrize("target", [[0.5, 1.5], np.array([0.5, 1.5])])
def test_mse_loss_of_an_integer_input_is_a_float_loss(input_values, target):
    """The input was cast into the target's place as int: [0.5, 1.5] became [0, 1]."""
    torch = _torch()
    out = F.mse_loss(Tensor(input_values), target)
    want = torch.nn.functional.mse_loss(
        torch.tensor(input_values, dtype=torch.float32), torch.tensor([0.5, 1.5])
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), want.item(), rtol=1e-7)


@pytest.mark.parametrize("target", [[0, 1], [False, True]])
def test_mse_loss_with_an_integer_target_keeps_the_inputs_dtype(target):
    torch = _torch()
    out = F.mse_loss(Tensor([0.5, 2.0]), Tensor(target))
    want = torch.nn.functional.mse_loss(torch.tensor([0.5, 2.0]), torch.tensor(target))
    assert out.dtype == np.float32 and str(want.dtype) == "torch.float32"
    np.testing.assert_allclose(out.item(), want.item(), rtol=1e-7)


# --------------------------------------------------------------------------- loss modules


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_equal_the_functions_and_torch(reduction):
    torch = _torch()
    logits, classes = _class_problem()
    z = RNG.normal(size=(6,)) * 2
    p = RNG.uniform(0.05, 0.95, size=6)
    t = RNG.integers(0, 2, size=6).astype(np.float64)
    y = RNG.normal(size=6)
    cases = [
        (nn.CrossEntropyLoss, F.cross_entropy, "CrossEntropyLoss", logits, classes),
        (nn.BCELoss, F.binary_cross_entropy, "BCELoss", p, t),
        (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, "BCEWithLogitsLoss", z, t),
        (nn.MSELoss, F.mse_loss, "MSELoss", z, y),
    ]
    for module, function, torch_name, x, target in cases:
        target_tensor = Tensor(target, dtype=target.dtype)  # keep float64 targets float64
        ours = module(reduction=reduction)(Tensor(x, dtype="float64"), target_tensor)
        direct = function(Tensor(x, dtype="float64"), target_tensor, reduction=reduction)
        theirs = getattr(torch.nn, torch_name)(reduction=reduction)(
            torch.from_numpy(x), torch.from_numpy(target)
        )
        np.testing.assert_array_equal(ours.numpy(), direct.numpy(), err_msg=torch_name)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=torch_name)


def test_loss_modules_default_to_mean():
    logits, classes = _class_problem()
    z = Tensor(logits, dtype="float64")
    assert nn.CrossEntropyLoss()(z, classes).item() == F.cross_entropy(z, classes).item()


# --------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_huge_logits_is_finite_and_equals_torch(dtype, reduction):
    torch = _torch()
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
    target = np.array([1, 1, 0, 2])
    out, grad = _compare(
        lambda x: F.cross_entropy(x, target, reduction=reduction),
        lambda x: torch.nn.functional.cross_entropy(
            x, torch.from_numpy(target), reduction=reduction
        ),
        logits.astype(dtype),
        dtype=dtype,
        rtol=1e-6 if dtype == "float32" else 1e-12,
        atol=1e-6 if dtype == "float32" else 1e-12,
    )
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(grad.numpy()))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_with_huge_logits_is_finite_and_equals_torch(dtype, reduction):
    torch = _torch()
    logits = np.array([1e4, -1e4, 1e4, -1e4, 1e4, 0.0])
    target = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 1.0])
    out, grad = _compare(
        lambda x: F.binary_cross_entropy_with_logits(x, target, reduction=reduction),
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(
            x, torch.from_numpy(target).to(getattr(torch, dtype)), reduction=reduction
        ),
        logits.astype(dtype),
        dtype=dtype,
        rtol=1e-6 if dtype == "float32" else 1e-12,
        atol=1e-6 if dtype == "float32" else 1e-12,
    )
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(grad.numpy()))
    if reduction == "none":
        np.testing.assert_allclose(out.numpy()[:4], [1e4, 1e4, 0.0, 0.0], rtol=1e-6)


# --------------------------------------------------------------------------- errors


def test_cross_entropy_target_shape_mismatch_is_a_value_error():
    logits = tg.zeros(4, 3)
    with pytest.raises(ValueError):
        F.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError):
        F.cross_entropy(logits, np.zeros((4, 1), dtype=np.int64))


@pytest.mark.parametrize("bad", [3, -1])
def test_class_out_of_range_is_an_index_error(bad):
    target = np.array([0, 1, bad])
    with pytest.raises(IndexError):
        F.cross_entropy(tg.zeros(3, 3), target)
    with pytest.raises(IndexError):
        F.nll_loss(tg.zeros(3, 3), target)


def test_float_class_target_of_wrong_shape_is_a_value_error():
    with pytest.raises(ValueError):
        F.cross_entropy(tg.zeros(4, 3), np.array([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError):
        F.cross_entropy(tg.zeros(4, 3), np.full((4, 2), 0.5))


def test_binary_and_mse_target_shape_mismatch_is_a_value_error():
    x = tg.full((4,), 0.5)
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss):
        with pytest.raises(ValueError):
            loss(x, np.zeros(3))
        with pytest.raises(ValueError):
            loss(x, np.zeros((4, 1)))


def test_nll_loss_target_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError):
        F.nll_loss(tg.zeros(4, 3), np.array([0, 1]))


@pytest.mark.parametrize(
    "call",
    [
        lambda r: F.cross_entropy(tg.zeros(2, 3), np.array([0, 1]), reduction=r),
        lambda r: F.nll_loss(tg.zeros(2, 3), np.array([0, 1]), reduction=r),
        lambda r: F.binary_cross_entropy(tg.full((2,), 0.5), np.zeros(2), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(tg.zeros(2), np.zeros(2), reduction=r),
        lambda r: F.mse_loss(tg.zeros(2), np.zeros(2), reduction=r),
        lambda r: nn.CrossEntropyLoss(reduction=r)(tg.zeros(2, 3), np.array([0, 1])),
    ],
    ids=["cross_entropy", "nll_loss", "bce", "bce_logits", "mse", "module"],
)
def test_bad_reduction_is_a_value_error(call):
    with pytest.raises(ValueError, match="elementwise"):
        call("elementwise")


# --------------------------------------------------------------------------- l2_penalty


def test_l2_penalty_is_half_the_sum_of_squares_and_its_gradient_is_w():
    w1, w2 = RNG.normal(size=(3, 4)), RNG.normal(size=5)
    a, b = _leaf(w1), _leaf(w2)
    penalty = F.l2_penalty([a, b])
    np.testing.assert_allclose(penalty.item(), 0.5 * ((w1**2).sum() + (w2**2).sum()), rtol=1e-12)
    penalty.backward()
    np.testing.assert_allclose(a.grad.numpy(), w1, rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), w2, rtol=1e-15)


def test_l2_penalty_of_a_module_covers_every_parameter():
    model = nn.MLP(3, [4], 2, dtype="float64")
    want = 0.5 * sum((p.numpy() ** 2).sum() for p in model.parameters())
    penalty = F.l2_penalty(model)
    np.testing.assert_allclose(penalty.item(), want, rtol=1e-12)
    penalty.backward()
    for p in model.parameters():
        np.testing.assert_allclose(p.grad.numpy(), p.numpy(), rtol=1e-15)


def test_l2_penalty_of_nothing_is_a_value_error():
    with pytest.raises(ValueError):
        F.l2_penalty([])


# --------------------------------------------------------------------------- gradcheck


def test_gradcheck_cross_entropy():
    logits, target = _class_problem(n=4, c=3, scale=1.0)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda z, r=reduction: F.cross_entropy(z, target, r), _leaf(logits))
    probabilities = RNG.dirichlet(np.ones(3), size=4)
    assert gradcheck(lambda z: F.cross_entropy(z, probabilities), _leaf(logits))


def test_gradcheck_binary_cross_entropy_with_logits():
    z, t = RNG.normal(size=(3, 2)), RNG.uniform(size=(3, 2))
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t), _leaf(z))


def test_gradcheck_binary_cross_entropy():
    p, t = RNG.uniform(0.1, 0.9, size=(3, 2)), RNG.uniform(size=(3, 2))
    assert gradcheck(lambda x: F.binary_cross_entropy(x, t, reduction="sum"), _leaf(p))


def test_gradcheck_linear():
    x, w, b = RNG.normal(size=(3, 4)), RNG.normal(size=(2, 4)), RNG.normal(size=2)
    assert gradcheck(F.linear, _leaf(x), _leaf(w), _leaf(b))
    assert gradcheck(F.linear, _leaf(RNG.normal(size=(2, 2, 4))), _leaf(w))


def test_gradcheck_nll_loss_and_mse_loss():
    logits, target = _class_problem(n=4, c=3, scale=1.0)
    assert gradcheck(lambda z: F.nll_loss(z.log_softmax(axis=1), target), _leaf(logits))
    y = RNG.normal(size=(4, 3))
    assert gradcheck(lambda z: F.mse_loss(z, Tensor(y, dtype="float64")), _leaf(logits))


# --------------------------------------------------------------------------- second order


def _torch_hvp(torch, loss_fn, x, v):
    z = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(loss_fn(z), z, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.from_numpy(v)).sum(), z)
    return g.detach().numpy(), hv.numpy()


def _our_hvp(loss_fn, x, v):
    z = _leaf(x)
    (g,) = tg.grad(loss_fn(z), z, create_graph=True)
    (hv,) = tg.grad((g * Tensor(v, dtype="float64")).sum(), z)
    return g.numpy(), hv.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_hessian_vector_product_equals_torch(reduction):
    torch = _torch()
    logits, target = _class_problem(n=5, c=4, scale=1.5)
    v = RNG.normal(size=logits.shape)
    g, hv = _our_hvp(lambda z: F.cross_entropy(z, target, reduction), logits, v)
    g_t, hv_t = _torch_hvp(
        torch,
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.from_numpy(target), reduction=reduction
        ),
        logits,
        v,
    )
    np.testing.assert_allclose(g, g_t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hv, hv_t, rtol=1e-10, atol=1e-13)


def test_bce_with_logits_hessian_vector_product_equals_torch():
    torch = _torch()
    z, t = RNG.normal(size=6), RNG.uniform(size=6)
    v = RNG.normal(size=6)
    g, hv = _our_hvp(lambda x: F.binary_cross_entropy_with_logits(x, t), z, v)
    g_t, hv_t = _torch_hvp(
        torch,
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(x, torch.from_numpy(t)),
        z,
        v,
    )
    np.testing.assert_allclose(g, g_t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hv, hv_t, rtol=1e-10, atol=1e-13)


def test_binary_cross_entropy_hessian_vector_product_equals_torch():
    torch = _torch()
    p, t = RNG.uniform(0.1, 0.9, size=6), RNG.uniform(size=6)
    v = RNG.normal(size=6)
    g, hv = _our_hvp(lambda x: F.binary_cross_entropy(x, t, reduction="sum"), p, v)
    g_t, hv_t = _torch_hvp(
        torch,
        lambda x: torch.nn.functional.binary_cross_entropy(x, torch.from_numpy(t), reduction="sum"),
        p,
        v,
    )
    np.testing.assert_allclose(g, g_t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hv, hv_t, rtol=1e-10, atol=1e-13)


def test_hessian_vector_product_through_linear_layers_equals_torch():
    """Second derivatives of a tanh MLP's cross-entropy w.r.t. its first weight."""
    torch = _torch()
    x, target = RNG.normal(size=(5, 3)), RNG.integers(0, 4, size=5)
    w1, b1, w2 = RNG.normal(size=(6, 3)), RNG.normal(size=6), RNG.normal(size=(4, 6))
    v = RNG.normal(size=w1.shape)

    def ours(w):
        hidden = F.tanh(F.linear(Tensor(x, dtype="float64"), w, Tensor(b1, dtype="float64")))
        return F.cross_entropy(F.linear(hidden, Tensor(w2, dtype="float64")), target)

    def theirs(w):
        functional = torch.nn.functional
        hidden = torch.tanh(functional.linear(torch.from_numpy(x), w, torch.from_numpy(b1)))
        logits = functional.linear(hidden, torch.from_numpy(w2))
        return functional.cross_entropy(logits, torch.from_numpy(target))

    g, hv = _our_hvp(ours, w1, v)
    g_t, hv_t = _torch_hvp(torch, theirs, w1, v)
    np.testing.assert_allclose(g, g_t, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hv, hv_t, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- the lecture


def _separable_data(n=40):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(n, 2))
    t = (z @ np.array([1.5, -2.0]) + 0.3 > 0).astype(np.float64)
    z += np.where(t[:, None] == 1, 1, -1) * np.array([1.5, -2.0]) / 2.5 * 0.5  # a margin
    return z, t


def test_single_neuron_bce_gradient_is_prediction_error_times_feature():
    """d/dw sum_n BCE(x_n, t_n) = -sum_n (t_n - x_n) z_n, with x_n = sigmoid(w . z_n + b)."""
    z, t = _separable_data()
    neuron = nn.Neuron(2, dtype="float64")
    y = neuron(Tensor(z, dtype="float64"))
    F.binary_cross_entropy(y, t, reduction="sum").backward()
    error = t - y.numpy()
    np.testing.assert_allclose(neuron.w.grad.numpy(), -error @ z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(neuron.b.grad.item(), -error.sum(), rtol=1e-10, atol=1e-12)


def test_single_neuron_with_logits_loss_has_the_same_gradient():
    z, t = _separable_data()
    neuron = nn.Neuron(2, activation=None, dtype="float64")
    logits = neuron(Tensor(z, dtype="float64"))
    F.binary_cross_entropy_with_logits(logits, t, reduction="sum").backward()
    error = t - 1 / (1 + np.exp(-logits.numpy()))
    np.testing.assert_allclose(neuron.w.grad.numpy(), -error @ z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(neuron.b.grad.item(), -error.sum(), rtol=1e-10, atol=1e-12)


def test_single_neuron_trained_by_prediction_error_times_feature_separates_the_data():
    tg.manual_seed(0)
    z, t = _separable_data()
    neuron = nn.Neuron(2, dtype="float64")
    inputs = Tensor(z, dtype="float64")
    for _ in range(300):
        neuron.zero_grad()
        F.binary_cross_entropy(neuron(inputs), t, reduction="mean").backward()
        for p in neuron.parameters():
            p.data -= 1.0 * p.grad.data
    accuracy = ((neuron(inputs).numpy() > 0.5) == (t == 1)).mean()
    assert accuracy == 1.0


# --------------------------------------------------------------------------- both backward modes


@pytest.mark.parametrize(
    "name",
    ["linear", "linear-batched", "cross_entropy", "bce_with_logits", "bce", "mse_loss"],
)
def test_fused_backward_on_arrays_equals_recorded_backward(name):
    """Unrecorded, the fused ops' backward formulas run on raw arrays; with create_graph
    the same formulas run on Tensors. Both must give the same gradients."""
    x, w, b = (
        _leaf(RNG.normal(size=(4, 3))),
        _leaf(RNG.normal(size=(2, 3))),
        _leaf(RNG.normal(size=2)),
    )
    logits, target = _class_problem(n=4, c=3, scale=1.0)
    z, t = _leaf(logits), RNG.uniform(size=(4, 3))
    p = _leaf(RNG.uniform(0.1, 0.9, size=(4, 3)))
    cases = {
        "linear": ([x, w, b], lambda: (F.linear(x, w, b) ** 2).sum()),
        "linear-batched": (
            [x, w],
            lambda: (F.linear(x.reshape(2, 2, 3), w) ** 2).sum(),
        ),
        "cross_entropy": ([z], lambda: F.cross_entropy(z, target)),
        "bce_with_logits": ([z], lambda: F.binary_cross_entropy_with_logits(z, t)),
        "bce": ([p], lambda: F.binary_cross_entropy(p, t)),
        "mse_loss": ([z], lambda: F.mse_loss(z, Tensor(t, dtype="float64"))),
    }
    inputs, loss = cases[name]
    plain = tg.grad(loss(), inputs)
    recorded = tg.grad(loss(), inputs, create_graph=True)
    for a, r in zip(plain, recorded, strict=True):
        assert r.requires_grad and not a.requires_grad
        np.testing.assert_allclose(r.numpy(), a.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["cross_entropy", "bce_with_logits", "bce"])
def test_mean_loss_of_an_empty_batch_is_nan_with_an_empty_gradient(name):
    """As torch: the mean of no losses is nan, the gradient is empty, and nothing warns."""
    torch = _torch()
    empty = np.zeros((0, 3))
    calls = {
        "cross_entropy": (F.cross_entropy, torch.nn.functional.cross_entropy, np.zeros(0, int)),
        "bce_with_logits": (
            F.binary_cross_entropy_with_logits,
            torch.nn.functional.binary_cross_entropy_with_logits,
            empty,
        ),
        "bce": (F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, empty),
    }
    ours, theirs, target = calls[name]
    x = _leaf(empty)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = ours(x, target)
        loss.backward()
    x_t = torch.tensor(empty, requires_grad=True)
    loss_t = theirs(x_t, torch.from_numpy(target))
    loss_t.backward()
    assert np.isnan(loss.item()) and bool(torch.isnan(loss_t))
    assert x.grad.shape == tuple(x_t.grad.shape) == (0, 3)


# --------------------------------------------------------------------------- gradients of targets


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_loss_target_gradient_equals_torch(name, reduction):
    torch = _torch()
    rng = np.random.default_rng(3)
    if name == "binary_cross_entropy":
        x = rng.uniform(0.05, 0.95, size=(4, 3))
    else:
        x = rng.normal(size=(4, 3)) * 3
    t = rng.uniform(size=(4, 3))
    upstream = rng.uniform(0.5, 1.5, size=(4, 3) if reduction == "none" else ())
    ours_x = Tensor(x, dtype="float64", requires_grad=True)
    ours_t = Tensor(t, dtype="float64", requires_grad=True)
    theirs_x, theirs_t = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    getattr(F, name)(ours_x, ours_t, reduction).backward(Tensor(upstream, dtype="float64"))
    getattr(torch.nn.functional, name)(theirs_x, theirs_t, reduction=reduction).backward(
        torch.from_numpy(np.asarray(upstream))
    )
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_t.grad.numpy(), theirs_t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_loss_mixed_second_derivative_equals_torch(name):
    torch = _torch()
    rng = np.random.default_rng(4)
    if name == "binary_cross_entropy":
        x = rng.uniform(0.05, 0.95, size=5)
    else:
        x = rng.normal(size=5)
    t, v = rng.uniform(size=5), rng.normal(size=5)
    ours_x = Tensor(x, dtype="float64", requires_grad=True)
    ours_t = Tensor(t, dtype="float64", requires_grad=True)
    (g,) = tg.grad(getattr(F, name)(ours_x, ours_t), ours_x, create_graph=True)
    mixed = tg.grad((g * Tensor(v, dtype="float64")).sum(), [ours_x, ours_t])
    theirs_x, theirs_t = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    loss = getattr(torch.nn.functional, name)(theirs_x, theirs_t)
    (g_torch,) = torch.autograd.grad(loss, theirs_x, create_graph=True)
    expected = torch.autograd.grad((g_torch * torch.from_numpy(v)).sum(), [theirs_x, theirs_t])
    for ours, theirs in zip(mixed, expected, strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_bce_target_gradient_at_the_edges_equals_torch():
    torch = _torch()
    p, t = np.array([0.0, 1.0, 0.5]), np.array([0.3, 0.3, 0.3])
    ours = Tensor(t, dtype="float64", requires_grad=True)
    theirs = torch.tensor(t, requires_grad=True)
    F.binary_cross_entropy(Tensor(p, dtype="float64"), ours, "sum").backward()
    torch_bce = torch.nn.functional.binary_cross_entropy
    expected = torch_bce(torch.from_numpy(p), theirs, reduction="sum")
    expected.backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    "name, target",
    [
        ("cross_entropy", [0, 2]),
        ("nll_loss", [0, 2]),
        ("binary_cross_entropy", [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]),
        ("binary_cross_entropy_with_logits", [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]),
    ],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_losses_keep_the_users_target_for_pictures_only(name, target, reduction):
    x = _leaf([[0.2, -0.4, 0.9], [0.1, 0.5, -0.3]])
    scores = x.sigmoid() if name == "binary_cross_entropy" else x
    dtype = "int64" if name in ("cross_entropy", "nll_loss") else "float64"
    y = Tensor(target, dtype=dtype, name="target")
    loss = getattr(F, name)(scores, y, reduction=reduction)
    # nll_loss is an index then a reduction: the index op is the one given the target
    function = loss.grad_fn if name != "nll_loss" else _op_given(loss, y)
    assert function.constants == (y,)  # the Tensor as given, drawn by viz
    assert all(parent is not y for parent in function.inputs)  # not walked by backward
    loss.sum().backward()
    assert y.grad is None and x.grad is not None
    plain = _leaf(x.numpy())
    plain_scores = plain.sigmoid() if name == "binary_cross_entropy" else plain
    getattr(F, name)(plain_scores, np.asarray(target), reduction=reduction).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain.grad.numpy())  # same gradient


def _op_given(loss, target):
    """The recorded op under ``loss`` that keeps ``target`` among its constants."""
    stack = [loss]
    while stack:
        function = stack.pop().grad_fn
        if function is None:
            continue
        if any(constant is target for constant in function.constants):
            return function
        stack.extend(function.inputs)
    raise AssertionError("no op keeps the target")


# --------------------------------------------------------------------------- bad targets

BINARY_LOSSES = [  # (loss, the op its errors name)
    pytest.param(F.binary_cross_entropy, "binary_cross_entropy", id="bce"),
    pytest.param(F.binary_cross_entropy_with_logits, "with_logits", id="bce_logits"),
    pytest.param(nn.BCELoss(), "binary_cross_entropy", id="BCELoss"),
    pytest.param(nn.BCEWithLogitsLoss(), "with_logits", id="BCEWithLogitsLoss"),
]


@pytest.mark.parametrize(
    "target",
    [None, "1", "x", ["1", "0"], np.array([None, 1.0]), np.array(["1", "0"])],
    ids=["none", "string-1", "string-x", "list-of-strings", "objects", "string-array"],
)
@pytest.mark.parametrize("loss, op", BINARY_LOSSES)
def test_binary_losses_refuse_targets_that_are_not_numbers(loss, op, target):
    # None was read as NaN, "1" as 1.0; "x" gave NumPy's message without the op.
    with pytest.raises(TypeError, match=rf"{op}: target must hold numbers"):
        loss(tg.tensor([0.2, 0.7]), target)


@pytest.mark.parametrize(
    "target",
    [[True, False], [1, 0], np.array([1.0, 0.0]), tg.tensor([1, 0])],
    ids=["bools", "ints", "float-array", "int-tensor"],
)
def test_binary_losses_take_bool_int_and_float_targets(target):
    p = tg.tensor([0.2, 0.7], dtype="float64")
    want = -(np.log(0.2) + np.log(0.3)) / 2
    np.testing.assert_allclose(F.binary_cross_entropy(p, target).item(), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_losses_refuse_targets_that_are_not_numbers(name):
    with pytest.raises(TypeError, match=f"{name}.*target must hold numbers"):
        getattr(F, name)(tg.zeros(2, 3), None)
    with pytest.raises(TypeError, match=f"{name}.*target must hold numbers"):
        getattr(F, name)(tg.zeros(2, 3), ["1", "0"])


needs_cuda = pytest.mark.skipif(not tg.cuda_available(), reason="CUDA not available")


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize(
    "name, scores, target",
    [
        ("cross_entropy", [[0.1, 0.2, 0.3]], [2]),
        ("cross_entropy", [[0.1, 0.2, 0.3]], [[0.2, 0.3, 0.5]]),
        ("nll_loss", [[-1.0, -2.0, -0.5]], [2]),
        ("binary_cross_entropy", [0.2, 0.7], [1.0, 0.0]),
        ("binary_cross_entropy_with_logits", [0.2, -0.7], [1.0, 0.0]),
        ("mse_loss", [0.2, -0.7], [1.0, 0.0]),
    ],
)
def test_losses_refuse_a_target_tensor_on_another_device(name, scores, target, requires_grad):
    # The fused losses used to move a CPU target silently; mse_loss's error named "sub".
    floating = isinstance(target[0], list) or name in ("binary_cross_entropy", "mse_loss")
    floating = floating or name.endswith("logits")
    if requires_grad and not floating:
        pytest.skip("class indices cannot require grad")
    for input_device, target_device in (("cuda", "cpu"), ("cpu", "cuda")):
        x = tg.tensor(scores, dtype="float64", device=input_device, requires_grad=True)
        y = tg.tensor(target, device=target_device, requires_grad=requires_grad)
        with pytest.raises(RuntimeError, match=rf"^{name}: .*same device.*(cpu|cuda)"):
            getattr(F, name)(x, y)


def test_losses_still_take_host_targets_for_device_inputs(device):
    # A list or NumPy array is not a Tensor on another device: it moves to the input's.
    x = tg.tensor([0.2, 0.7], dtype="float64", device=device)
    loss = F.binary_cross_entropy(x, np.array([1.0, 0.0]))
    np.testing.assert_allclose(loss.item(), -(np.log(0.2) + np.log(0.3)) / 2, rtol=1e-12)
    logits = tg.tensor([[0.1, 0.2, 0.3]], dtype="float64", device=device)
    assert F.cross_entropy(logits, [2]).item() == pytest.approx(
        -np.log(np.exp(0.3) / np.exp([0.1, 0.2, 0.3]).sum()), rel=1e-12
    )


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "num_classes, error",
    [(2.5, TypeError), ("3", TypeError), (True, TypeError), (None, TypeError), (-2, ValueError)],
    ids=str,
)
def test_one_hot_checks_num_classes(num_classes, error):
    with pytest.raises(error, match="one_hot: num_classes"):
        F.one_hot(tg.tensor([0, 1]), num_classes)


def test_one_hot_with_num_classes_zero_of_an_empty_target():
    assert F.one_hot(tg.zeros(0, dtype="int64"), 0).shape == (0, 0)


@pytest.mark.parametrize(
    "parameters, message",
    [
        (5, "iterable of Tensors"),
        (None, "iterable of Tensors"),
        ([None], "must be Tensors, got NoneType"),
        ([np.ones(3)], "must be Tensors, got ndarray"),
        ([tg.ones(2), 2.0], "must be Tensors, got float"),
    ],
    ids=["int", "none", "list-of-none", "ndarray", "float"],
)
def test_l2_penalty_refuses_what_is_not_tensors(parameters, message):
    # An ndarray gave a NumPy float (no graph); 5 and [None] gave raw errors.
    with pytest.raises(TypeError, match=f"l2_penalty: .*{message}"):
        F.l2_penalty(parameters)


def test_l2_penalty_of_one_tensor_is_its_penalty():
    w = _leaf([[1.0, -2.0], [3.0, 0.5]])
    penalty = F.l2_penalty(w)
    assert isinstance(penalty, Tensor) and penalty.item() == pytest.approx(0.5 * 14.25)
    penalty.backward()
    np.testing.assert_array_equal(w.grad.numpy(), w.numpy())
    assert F.l2_penalty(_leaf(3.0)).item() == 4.5  # 0-d: no rows to iterate over


def test_bce_gradient_floor_is_torchs_float32_epsilon_in_float64():
    torch = pytest.importorskip("torch")
    values, targets = [0.0, 0.0, 1.0, 1e-7, 0.4], [0.3, 1.0, 0.2, 0.5, 0.9]
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(
        theirs, torch.tensor(targets, dtype=torch.float64), reduction="sum"
    ).backward()
    ours = tg.Tensor(values, dtype="float64", requires_grad=True)
    F.binary_cross_entropy(ours, tg.Tensor(targets, dtype="float64"), reduction="sum").backward()
    # At p = 0 or 1 the floor decides the gradient: 1/float32(1e-12), not 1/1e-12.
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14)


def test_float_class_indices_are_a_type_error_that_says_so():
    with pytest.raises(TypeError, match="class indices must be integers, got dtype float32"):
        F.cross_entropy(tg.zeros(5, 3), tg.tensor([0.0, 1.0, 2.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="probability target of shape"):
        F.cross_entropy(tg.zeros(5, 3), tg.zeros(5, 4))


def test_loss_argument_names_are_the_contracts():
    # DESIGN.md: F.binary_cross_entropy(prob, target), F.cross_entropy(logits, target, ...).
    probabilities, targets = Tensor([0.5, 0.25]), Tensor([1.0, 0.0])
    value = F.binary_cross_entropy(prob=probabilities, target=targets, reduction="sum")
    np.testing.assert_allclose(value.item(), -np.log(0.5) - np.log(0.75), rtol=1e-6)
    logits = Tensor([[2.0, 0.5]])
    F.cross_entropy(logits=logits, target=np.array([0]), reduction="mean")
    F.binary_cross_entropy_with_logits(logits=Tensor([0.0]), target=Tensor([1.0]))
