"""Optimizers and lr schedulers against torch.optim, step for step.

The same random parameters go into both engines; each step both compute the
gradient of the same small loss (so errors would compound along the
trajectory), then step. After 10 steps the parameters must agree to 1e-10
(float64) or 1e-5 (float32). Parameters are plain Tensors, not nn modules.
"""

import math

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim
from tinygrad_dlcv.optim import lr_scheduler

SHAPES = [(4, 3), (3,)]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


def _data(seed=0, dtype=np.float64):
    """Initial parameters (w, b) and a fixed batch (x, y) for the loss."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    x = rng.standard_normal((5, 4)).astype(dtype)
    y = rng.standard_normal((5, 3)).astype(dtype)
    return params, x, y


def _tg_loss(params, x, y):
    w, b = params
    x, y = tg.Tensor(x, dtype=x.dtype), tg.Tensor(y, dtype=y.dtype)
    return (((x @ w + b).tanh() - y) ** 2).mean()


def _torch_loss(torch, params, x, y):
    w, b = params
    return ((torch.from_numpy(x) @ w + b).tanh() - torch.from_numpy(y)).pow(2).mean()


def _tg_params(arrays):
    return [tg.Tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]


def _run_tg(params, make_opt, x, y, steps=10):
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        _tg_loss(params, x, y).backward()
        opt.step()
    return opt


def _run_torch(torch, params, make_opt, x, y, steps=10):
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        _torch_loss(torch, params, x, y).backward()
        opt.step()
    return opt


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.05),
    dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.1),
]
ADAM_CASES = [
    ("Adam", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, weight_decay=0.0)),
]


def _compare_with_torch(name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    arrays, x, y = _data(dtype=dtype)
    ours = _tg_params(arrays)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = _run_tg(ours, lambda p: getattr(optim, name)(p, **kwargs), x, y)
    ref = _run_torch(torch, theirs, lambda p: getattr(torch.optim, name)(p, **kwargs), x, y)
    tolerance = TOLERANCE[dtype]
    for mine, reference, start in zip(ours, theirs, arrays, strict=True):
        assert mine.dtype == dtype
        assert not np.allclose(mine.numpy(), start)  # the parameters did move
        np.testing.assert_allclose(
            mine.numpy(), reference.detach().numpy(), rtol=tolerance, atol=tolerance
        )
    # The optimizer state (momentum buffers, moment estimates) equals torch's too.
    ours_state, torch_state = opt.state_dict()["state"], ref.state_dict()["state"]
    for index, entry in ours_state.items():
        for key, value in entry.items():
            expected = torch_state[index][key]
            if key == "step":
                assert value == int(expected)
            else:
                np.testing.assert_allclose(
                    value, expected.numpy(), rtol=tolerance * 10, atol=tolerance
                )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "kwargs", SGD_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items())
)
def test_sgd_matches_torch(kwargs, dtype):
    _compare_with_torch("SGD", kwargs, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, kwargs", ADAM_CASES, ids=lambda c: str(c))
def test_adam_and_adamw_match_torch(name, kwargs, dtype):
    _compare_with_torch(name, kwargs, dtype)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("beta1", [0.0, 0.3, 0.5])
def test_adam_first_moment_is_rounded_as_torch_lerp_for_small_beta1(name, beta1):
    # torch's lerp(m, g, w) switches to g - (1 - w)(g - m) at w >= 0.5, exact at beta1 = 0:
    # m + w (g - m) lost the 1e-4 after a 1e4 gradient (m came out 0 in float32, and the
    # parameter moved by -0.1 where torch's moved by -0.2).
    torch = pytest.importorskip("torch")
    ours = tg.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    theirs = torch.zeros(3, requires_grad=True)
    opt = getattr(optim, name)([ours], lr=0.1, betas=(beta1, 0.5))
    ref = getattr(torch.optim, name)([theirs], lr=0.1, betas=(beta1, 0.5))
    for g in ([1e4, -3.0, 7e-3], [1e-4, 2.5, -1e4], [0.3, 1e-6, 5.0]):
        ours.grad = tg.Tensor(np.array(g, dtype=np.float32))
        theirs.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        ref.step()
        # Not bit for bit: torch's vectorised lerp rounds once (a fused multiply-add).
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(
            opt.state_dict()["state"][0]["exp_avg"],
            ref.state_dict()["state"][0]["exp_avg"],
            rtol=1e-6,
        )
    if beta1 == 0:  # the first moment is the last gradient itself
        np.testing.assert_array_equal(
            opt.state_dict()["state"][0]["exp_avg"], np.array([0.3, 1e-6, 5.0], dtype=np.float32)
        )


def test_adam_lerp_branch_follows_the_weight_in_float32_as_torch():
    # 1 - 0.50000001 is below 0.5 in float64 but rounds to 0.5 in float32, where torch's
    # kernel compares it: the exact branch (g - (1 - w)(g - m)) must be taken.
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(3).normal(size=(2, 1000)).astype(np.float32)
    ours = tg.Tensor(np.zeros(1000, dtype=np.float32), requires_grad=True)
    theirs = torch.zeros(1000, requires_grad=True)
    opt = optim.Adam([ours], lr=0.1, betas=(0.50000001, 0.9))
    ref = torch.optim.Adam([theirs], lr=0.1, betas=(0.50000001, 0.9))
    for g in values:
        ours.grad, theirs.grad = tg.Tensor(g), torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    np.testing.assert_allclose(
        opt.state_dict()["state"][0]["exp_avg"],
        ref.state_dict()["state"][0]["exp_avg"].numpy(),
        rtol=1e-6,
        atol=1e-7,
    )


def test_sgd_by_hand():
    # Momentum 0.5, dampening 0, gradient of sum(w^2)/2 is w: buf_1 = w0, buf_2 = 0.5 buf_1 + w1.
    w = tg.Tensor([2.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        ((w * w).sum() / 2).backward()
        opt.step()
    w1 = 2.0 - 0.1 * 2.0
    expected = w1 - 0.1 * (0.5 * 2.0 + w1)
    assert w.item() == pytest.approx(expected, rel=1e-15)


def test_adam_first_step_is_lr_times_sign():
    # After one step m_hat / sqrt(v_hat) = g / |g|: every weight moves by lr (eps aside).
    w = tg.Tensor([3.0, -0.001, 50.0], dtype="float64", requires_grad=True)
    opt = optim.Adam([w], lr=0.01, eps=0.0)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), [2.99, 0.009, 49.99], rtol=1e-12)


def test_adamw_decay_is_decoupled():
    # A zero gradient: Adam (L2) moves by lr * sign(w); AdamW only shrinks w by (1 - lr * wd).
    for name, expected in [("Adam", [1.0 - 0.1, -2.0 + 0.1]), ("AdamW", [0.95, -1.9])]:
        w = tg.Tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        opt = getattr(optim, name)([w], lr=0.1, weight_decay=0.5)
        w.grad = tg.zeros(2, dtype="float64")
        opt.step()
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-7)


# --- 0-d and tiny parameters: every in-place update really happens in place -----------

SMALL_SHAPES = [(), (1,), (3, 2)]
SMALL_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.2)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
]


@pytest.mark.parametrize("shape", SMALL_SHAPES, ids=str)
@pytest.mark.parametrize("name, kwargs", SMALL_CASES, ids=str)
def test_small_and_zero_dim_parameters_match_torch(name, kwargs, shape):
    # NumPy returns scalars from 0-d arithmetic: a momentum buffer built from one was
    # rebound instead of updated, so SGD forgot its history for 0-d parameters.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    start = rng.standard_normal(shape)
    target = rng.standard_normal(shape)
    ours = tg.Tensor(start, dtype="float64", requires_grad=True)
    theirs = torch.tensor(start, requires_grad=True)
    opt = getattr(optim, name)([ours], **kwargs)
    ref = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(6):
        opt.zero_grad()
        ref.zero_grad()
        (((ours - tg.Tensor(target, dtype="float64")) ** 2) * ours).sum().backward()
        (((theirs - torch.from_numpy(target)) ** 2) * theirs).sum().backward()
        opt.step()
        ref.step()
    assert ours.shape == shape
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    ours_state, their_state = opt.state_dict()["state"], ref.state_dict()["state"]
    assert ours_state.keys() == their_state.keys()  # plain SGD keeps none, as torch
    for key, value in ours_state.get(0, {}).items():
        expected = their_state[0][key]
        if key == "step":
            assert value == int(expected)
        else:
            assert np.shape(value) == shape
            np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12, atol=1e-14)


def test_zero_dim_sgd_with_momentum_and_weight_decay_by_hand():
    # The reviewer's case: three steps of gradient 1 from w = 1 (torch gives 0.388169).
    w = tg.Tensor(1.0, dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        w.grad = tg.Tensor(1.0, dtype="float64")
        opt.step()
    assert w.item() == pytest.approx(0.388169, abs=1e-12)
    assert isinstance(opt.state[w]["momentum_buffer"], np.ndarray)


# --- zero_grad, skipped parameters, gradients left alone -------------------------------


def test_zero_grad_sets_none_or_zeros_in_place_as_torch():
    torch = pytest.importorskip("torch")
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    theirs = torch.tensor([1.0, 2.0], requires_grad=True)
    opt, their_opt = optim.SGD([w], lr=0.1), torch.optim.SGD([theirs], lr=0.1)
    (w * w).sum().backward()
    assert w.grad is not None
    opt.zero_grad()
    assert w.grad is None
    (w * w).sum().backward()
    (theirs * theirs).sum().backward()
    old, their_old = w.grad, theirs.grad
    opt.zero_grad(set_to_none=False)
    their_opt.zero_grad(set_to_none=False)
    # torch's zero_(): the same tensor, now zeros; the next backward adds into it.
    assert (w.grad is old) == (theirs.grad is their_old) == True  # noqa: E712
    np.testing.assert_array_equal(old.numpy(), their_old.numpy())
    (w * w).sum().backward()
    (theirs * theirs).sum().backward()
    assert w.grad is old
    np.testing.assert_array_equal(old.numpy(), their_old.numpy())


def test_params_without_grad_are_skipped():
    used = tg.Tensor([1.0, 2.0], requires_grad=True)
    unused = tg.Tensor([3.0, 4.0], requires_grad=True)
    frozen = tg.Tensor([5.0], requires_grad=False)
    for opt in [
        optim.SGD([used, unused, frozen], lr=0.1, momentum=0.9, weight_decay=0.1),
        optim.Adam([used, unused, frozen], weight_decay=0.1),
        optim.AdamW([used, unused, frozen]),
    ]:
        (used * 2.0).sum().backward()
        before = used.numpy()
        opt.step()
        opt.zero_grad()
        assert not np.array_equal(used.numpy(), before)
        np.testing.assert_array_equal(unused.numpy(), [3.0, 4.0])
        np.testing.assert_array_equal(frozen.numpy(), [5.0])
        assert set(opt.state) == {used}
        assert set(opt.state_dict()["state"]) == {0}


def test_step_never_writes_into_the_gradient():
    # Gradients may be shared between tensors: the update must compute into fresh buffers.
    for make in [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda p: optim.Adam(p, weight_decay=0.1),
        lambda p: optim.AdamW(p),
    ]:
        a = tg.Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
        b = tg.Tensor([-1.0, 0.5], dtype="float64", requires_grad=True)
        shared = tg.Tensor([0.25, -0.75], dtype="float64")
        a.grad = b.grad = shared
        opt = make([a, b])
        for _ in range(3):
            opt.step()
        np.testing.assert_array_equal(shared.numpy(), [0.25, -0.75])


def test_step_updates_in_place_and_keeps_dtype():
    w = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    data = w.data
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.data is data and w.dtype == np.float32
    assert opt.state[w]["exp_avg"].dtype == np.float32


def test_step_with_closure_returns_loss():
    w = tg.Tensor([2.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 4.0 and w.item() == 1.0


def test_wrong_gradient_shape_is_an_error():
    w = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.grad = tg.Tensor([1.0, 2.0, 3.0])
    w.data = w.data[:2]  # the parameter changed under its gradient: the step must notice
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        optim.SGD([w], lr=0.1).step()
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


# --- parameter groups -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_param_groups_with_different_lr_match_torch(name):
    torch = pytest.importorskip("torch")
    arrays, x, y = _data(seed=1)
    ours = _tg_params(arrays)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def make(module):
        def build(p):
            groups = [{"params": [p[0]], "lr": 0.2}, {"params": [p[1]]}]
            return getattr(module, name)(groups, lr=0.01, weight_decay=0.1)

        return build

    opt = _run_tg(ours, make(optim), x, y)
    _run_torch(torch, theirs, make(torch.optim), x, y)
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.01]
    assert opt.param_groups[1]["weight_decay"] == 0.1
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-10)


def test_changing_group_lr_changes_the_next_step():
    w = tg.Tensor([1.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.Tensor([1.0], dtype="float64")
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    assert w.item() == 0.5


def test_param_group_layout():
    a = tg.Tensor([1.0], requires_grad=True)
    b = tg.Tensor([2.0], requires_grad=True)
    opt = optim.SGD((p for p in [a, b]), lr=0.1, momentum=0.9)  # a generator is fine
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["params"][0] is a and group["params"][1] is b
    assert group == {
        "params": [a, b],
        "lr": 0.1,
        "momentum": 0.9,
        "dampening": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
    }
    c = tg.Tensor([3.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[1]["lr"] == 1.0 and opt.param_groups[1]["momentum"] == 0.9


# --- state_dict -----------------------------------------------------------------------

OPTIMIZERS = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: optim.Adam(p, lr=0.05, weight_decay=0.01),
    lambda p: optim.AdamW(p, lr=0.05),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "AdamW"])
def test_state_dict_round_trip_continues_the_run(make):
    arrays, x, y = _data(seed=2)
    straight = _tg_params(arrays)
    _run_tg(straight, make, x, y, steps=10)

    first = _tg_params(arrays)
    saved = _run_tg(first, make, x, y, steps=5).state_dict()
    resumed = [tg.Tensor(p.numpy(), dtype=p.dtype, requires_grad=True) for p in first]
    opt = make(resumed)
    opt.load_state_dict(saved)
    for _ in range(5):
        opt.zero_grad()
        _tg_loss(resumed, x, y).backward()
        opt.step()
    for mine, reference in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


def test_state_dict_layout_and_copies():
    a = tg.Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = tg.Tensor([3.0], dtype="float64", requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 1
    assert isinstance(sd["state"][0]["exp_avg"], np.ndarray)

    # Mutating the returned dict leaves the optimizer alone.
    sd["state"][0]["exp_avg"][...] = 123.0
    sd["param_groups"][1]["lr"] = 9.0
    assert not np.any(opt.state[a]["exp_avg"] == 123.0)
    assert opt.param_groups[1]["lr"] == 0.5

    # And loading copies in: mutating the dict afterwards changes nothing either.
    fresh = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == 9.0 and fresh.param_groups[1]["params"] == [b]
    sd["state"][0]["exp_avg"][...] = -1.0
    sd["param_groups"][1]["lr"] = 0.125
    np.testing.assert_array_equal(fresh.state[a]["exp_avg"], [123.0, 123.0])
    assert fresh.param_groups[1]["lr"] == 9.0


def test_state_dict_loads_into_torch_layout():
    # Same structure as torch's: state by position, groups listing positions.
    torch = pytest.importorskip("torch")
    w = torch.zeros(2, requires_grad=True)
    ref = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = torch.ones(2)
    ref.step()
    ours = tg.Tensor([0.0, 0.0], requires_grad=True)
    opt = optim.SGD([ours], lr=0.1, momentum=0.9)
    ours.grad = tg.ones(2)
    opt.step()
    theirs, mine = ref.state_dict(), opt.state_dict()
    assert set(theirs["state"]) == set(mine["state"]) == {0}
    assert set(mine["state"][0]) == set(theirs["state"][0]) == {"momentum_buffer"}
    assert mine["param_groups"][0]["params"] == theirs["param_groups"][0]["params"] == [0]


# --- a failed step changes nothing ------------------------------------------------------


def _bad_grad_cases():
    return [
        (tg.Tensor([1.0, 2.0, 3.0], dtype="float64"), ValueError, r"\(3,\).*\(2,\)"),
        (tg.Tensor([1, 2]), TypeError, "int64"),
        (np.array([1.0, 2.0]), TypeError, "Tensor"),
    ]


@pytest.mark.parametrize("case", range(3), ids=["shape", "int-dtype", "not-a-tensor"])
@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "AdamW"])
def test_step_checks_every_gradient_before_changing_anything(make, case):
    bad_grad, error, message = _bad_grad_cases()[case]
    a = tg.Tensor([1.0, -1.0], dtype="float64", requires_grad=True)
    b = tg.Tensor([2.0, 3.0], dtype="float64", requires_grad=True)
    opt = make([a, b])
    a.grad = tg.Tensor([0.5, 0.5], dtype="float64")
    opt.step()  # a first, good step: there is state to keep intact
    before_a, before_state = a.numpy(), opt.state_dict()
    # The .grad setter refuses these; step checks again, since a .grad can still go
    # stale (the parameter's data replaced under it), so this one goes past the setter.
    b._grad = bad_grad
    with pytest.raises(error, match=message):
        opt.step()
    np.testing.assert_array_equal(a.numpy(), before_a)  # `a` comes first and stayed put
    np.testing.assert_array_equal(b.numpy(), [2.0, 3.0])
    after_state = opt.state_dict()
    assert after_state["state"].keys() == before_state["state"].keys() == {0}
    for key, value in before_state["state"][0].items():
        np.testing.assert_array_equal(after_state["state"][0][key], value)


def _stepped_sgd():
    a = tg.Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = tg.Tensor([[3.0]], dtype="float64", requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    (a.sum() + b.sum()).backward()
    opt.step()
    return opt, a, b


@pytest.mark.parametrize(
    "spoil",
    [
        lambda sd: sd["param_groups"].append({"params": [], "lr": 0.1}),
        lambda sd: sd["param_groups"][0]["params"].pop(),
        lambda sd: sd["state"][1].update(momentum_buffer=np.zeros((2, 2))),
        lambda sd: sd["state"].update({7: {"momentum_buffer": np.zeros(2)}}),
        lambda sd: sd["param_groups"][0].update(lr=-1.0),
    ],
    ids=["group-count", "param-count", "state-shape", "unknown-index", "bad-lr"],
)
def test_unfitting_state_dict_raises_and_changes_nothing(spoil):
    opt, a, b = _stepped_sgd()
    sd = opt.state_dict()
    before = opt.state_dict()
    spoil(sd)
    sd["param_groups"][0]["momentum"] = 0.5  # would change the group if loading went ahead
    with pytest.raises((ValueError, RuntimeError)) as info:
        opt.load_state_dict(sd)
    # torch raises ValueError; the contract says RuntimeError for an unfitting state_dict.
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index in before["state"]:
        np.testing.assert_array_equal(
            after["state"][index]["momentum_buffer"], before["state"][index]["momentum_buffer"]
        )
    assert opt.param_groups[0]["params"][0] is a


def test_load_state_dict_takes_tensors_as_state(device):
    """State given as Tensors loads on any device (NumPy cannot convert a CUDA tensor)."""
    w = tg.Tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    for state in sd["state"].values():
        for key in ("exp_avg", "exp_avg_sq"):
            state[key] = tg.tensor(state[key], dtype="float64", device=device)
    fresh = optim.Adam([w], lr=0.1)
    fresh.load_state_dict(sd)
    for key in ("exp_avg", "exp_avg_sq"):
        loaded = fresh.state[w][key]
        assert tg.backend.device_of(loaded) == w.device
        np.testing.assert_array_equal(tg.backend.to_host(loaded), opt.state_dict()["state"][0][key])


@pytest.mark.parametrize(
    "bad", [np.array(["a", "b"]), np.array([1 + 2j, 3.0])], ids=["strings", "complex"]
)
def test_load_state_dict_rejects_state_that_is_not_real_numbers(bad):
    opt, a, b = _stepped_sgd()
    sd, before = opt.state_dict(), opt.state_dict()
    sd["state"][0]["momentum_buffer"] = bad
    with pytest.raises(TypeError, match=r"SGD\.load_state_dict.*'momentum_buffer'.*parameter 0"):
        opt.load_state_dict(sd)
    np.testing.assert_array_equal(
        opt.state_dict()["state"][0]["momentum_buffer"], before["state"][0]["momentum_buffer"]
    )


def test_load_state_dict_rejects_non_dicts():
    opt, _, _ = _stepped_sgd()
    with pytest.raises(TypeError):
        opt.load_state_dict({"state": {}})


# --- bad arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, value",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "-0.1"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "-0.5"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-0.01), "-0.01"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
        (lambda p: optim.SGD(p, lr=float("nan")), "nan"),
        (lambda p: optim.Adam(p, lr=-1e-3), "-0.001"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "index 1: -0.1"),
        (lambda p: optim.Adam(p, eps=-1e-8), "-1e-08"),
        (lambda p: optim.Adam(p, weight_decay=-1.0), "-1.0"),
        (lambda p: optim.AdamW(p, betas=(0.9, 1.5)), "index 1: 1.5"),
        (lambda p: optim.AdamW(p, weight_decay=-0.2), "-0.2"),
        (lambda p: optim.SGD([{"params": p, "lr": -2.0}], lr=0.1), "-2.0"),
    ],
)
def test_bad_hyper_parameters_raise_value_error(build, value):
    w = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=value.replace("(", r"\(").replace(".", r"\.")):
        build([w])


def test_bad_params_argument():
    w = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(w, lr=0.1)  # a single tensor, not an iterable of them
    with pytest.raises(TypeError):
        optim.Adam([w, np.ones(2)])
    with pytest.raises(ValueError, match="same parameter twice"):  # one group: said so
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2.0], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD([w], lr="fast")


# --- the lecture's weight decay -------------------------------------------------------


def _least_squares(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 12))  # more weights than samples: many exact fits
    y = rng.standard_normal(8)
    return x, y


def _fit(alpha, steps=300, penalty_in_loss=False):
    x, y = _least_squares()
    w = tg.Tensor(np.full(12, 0.5), dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.05, weight_decay=0.0 if penalty_in_loss else alpha)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((tg.Tensor(x, dtype="float64") @ w - tg.Tensor(y, dtype="float64")) ** 2).mean()
        if penalty_in_loss:
            loss = loss + alpha * 0.5 * (w * w).sum()  # E(w) = 1/2 sum w^2
        loss.backward()
        opt.step()
    return w.numpy()


def test_weight_decay_gives_smaller_weights():
    plain, decayed = _fit(0.0), _fit(0.1)
    assert np.linalg.norm(decayed) < 0.9 * np.linalg.norm(plain)


def test_weight_decay_equals_the_l2_penalty_gradient():
    # SGD's weight_decay alpha is gradient descent on loss + alpha * 1/2 sum w^2.
    np.testing.assert_allclose(_fit(0.1, steps=50), _fit(0.1, steps=50, penalty_in_loss=True))


# --- lr schedulers --------------------------------------------------------------------


def _sequences(scheduler_name, kwargs, steps, base_lrs=(0.1, 0.03)):
    """lr of every group for ``steps`` epochs, from this engine and from torch."""
    torch = pytest.importorskip("torch")
    results = []
    for module, tensor in [(optim, tg.zeros), (torch.optim, torch.zeros)]:
        groups = [{"params": [tensor(1, requires_grad=True)], "lr": lr} for lr in base_lrs]
        opt = module.SGD(groups, lr=1.0, momentum=0.9)
        scheduler = getattr(module.lr_scheduler, scheduler_name)(opt, **kwargs)
        rates = []
        for _ in range(steps):
            rates.append([g["lr"] for g in opt.param_groups])
            assert list(scheduler.get_last_lr()) == rates[-1]
            opt.step()
            scheduler.step()
        results.append(np.array(rates))
    return results


@pytest.mark.parametrize("kwargs", [dict(step_size=3), dict(step_size=4, gamma=0.5)])
def test_step_lr_matches_torch(kwargs):
    ours, theirs = _sequences("StepLR", kwargs, steps=30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert ours[0].tolist() == [0.1, 0.03]


@pytest.mark.parametrize("kwargs", [dict(T_max=10), dict(T_max=7, eta_min=0.01)])
def test_cosine_annealing_matches_torch_for_three_periods(kwargs):
    ours, theirs = _sequences("CosineAnnealingLR", kwargs, steps=3 * kwargs["T_max"] + 1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)
    eta_min, t_max = kwargs.get("eta_min", 0.0), kwargs["T_max"]
    np.testing.assert_allclose(ours[t_max], [eta_min, eta_min], atol=1e-15)  # bottom at T_max
    np.testing.assert_allclose(ours[2 * t_max], [0.1, 0.03], rtol=1e-12)  # back up at 2 T_max


def _chained(build, steps=30, edits=None, base_lrs=(0.1, 0.03)):
    """lr of every group for ``steps`` epochs, from this engine and from torch.

    ``build(lr_scheduler_module, opt)`` returns the schedulers, stepped in order
    each epoch; ``edits`` maps an epoch to the lrs set by hand before it is read.
    """
    torch = pytest.importorskip("torch")
    results = []
    for module, tensor in [(optim, tg.zeros), (torch.optim, torch.zeros)]:
        groups = [{"params": [tensor(1, requires_grad=True)], "lr": lr} for lr in base_lrs]
        opt = module.SGD(groups, lr=1.0)
        schedulers = build(module.lr_scheduler, opt)
        rates = []
        for epoch in range(steps):
            for group, lr in zip(opt.param_groups, (edits or {}).get(epoch, ()), strict=False):
                group["lr"] = lr
            rates.append([g["lr"] for g in opt.param_groups])
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
        results.append(np.array(rates))
    return results


CHAINED_CASES = {
    "step-edited": (lambda L, o: [L.StepLR(o, step_size=3, gamma=0.5)], {7: (0.2, 0.01)}),
    "cosine-edited": (
        lambda L, o: [L.CosineAnnealingLR(o, T_max=6, eta_min=0.01)],
        {4: (0.5, 0.02), 13: (0.05, 0.3)},
    ),
    "step+cosine": (
        lambda L, o: [L.StepLR(o, step_size=4, gamma=0.5), L.CosineAnnealingLR(o, T_max=5)],
        None,
    ),
    "cosine+step-edited": (
        lambda L, o: [
            L.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
            L.StepLR(o, step_size=3, gamma=0.7),
        ],
        {10: (0.3, 0.004)},
    ),
}


@pytest.mark.parametrize("case", list(CHAINED_CASES))
def test_schedulers_chain_like_torch(case):
    # torch's rules are recursive: each step starts from the group's current lr, so a
    # hand-set lr carries on and two schedulers on one optimizer compose.
    build, edits = CHAINED_CASES[case]
    ours, theirs = _chained(build, edits=edits)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_step_lr_continues_from_a_hand_set_lr():
    w = tg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    scheduler = lr_scheduler.StepLR(opt, 2, 0.5)
    opt.param_groups[0]["lr"] = 0.1
    scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.1
    scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-15)  # torch: 0.05
    assert scheduler.base_lrs == [1.0] and scheduler.last_epoch == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda L, o, e: L.StepLR(o, step_size=3, gamma=0.5, last_epoch=e),
        lambda L, o, e: L.CosineAnnealingLR(o, T_max=5, eta_min=0.01, last_epoch=e),
    ],
    ids=["StepLR", "CosineAnnealingLR"],
)
def test_resumed_scheduler_matches_torch(build):
    torch = pytest.importorskip("torch")
    results = []
    for module, tensor in [(optim, tg.zeros), (torch.optim, torch.zeros)]:
        groups = [{"params": [tensor(1, requires_grad=True)], "lr": lr} for lr in (0.2, 0.05)]
        opt = module.SGD(groups, lr=1.0)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"] * 2
        scheduler = build(module.lr_scheduler, opt, 5)
        rates = []
        for _ in range(15):
            rates.append(list(scheduler.get_last_lr()))
            opt.step()
            scheduler.step()
        results.append(np.array(rates))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-15)


def test_step_lr_by_hand():
    w = tg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=2.0)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == [2.0]
    assert opt.param_groups[0]["initial_lr"] == 2.0
    seen = []
    for _ in range(7):
        seen.append(opt.param_groups[0]["lr"])
        scheduler.step()
    assert seen == [2.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_scheduler_sets_the_epoch_zero_value():
    w = tg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.3)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    assert scheduler.get_last_lr() == [0.3] and opt.param_groups[0]["lr"] == 0.3
    scheduler.step()
    expected = 0.1 + 0.2 * (1 + math.cos(math.pi / 4)) / 2
    assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.001),
    ],
    ids=["StepLR", "CosineAnnealingLR"],
)
def test_scheduler_state_dict_round_trip(make):
    def fresh():
        params = [tg.zeros(1, requires_grad=True), tg.zeros(1, requires_grad=True)]
        opt = optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}], lr=0.1)
        return opt, make(opt)

    opt, scheduler = fresh()
    straight = []
    for _ in range(12):
        straight.append(scheduler.get_last_lr())
        scheduler.step()

    opt, scheduler = fresh()
    for _ in range(7):
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 7
    saved_copy = scheduler.state_dict()
    saved_copy["base_lrs"][0] = 99.0  # a copy: the scheduler is unaffected
    assert scheduler.base_lrs[0] == 0.1

    opt, scheduler = fresh()
    opt.load_state_dict(saved_opt)
    scheduler.load_state_dict(saved)
    resumed = straight[:7]
    for _ in range(5):
        resumed.append([g["lr"] for g in opt.param_groups])
        assert scheduler.get_last_lr() == resumed[-1]
        scheduler.step()
    assert resumed == straight


def test_scheduler_bad_arguments():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=2)
    fresh = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(fresh, step_size=2, last_epoch=3)
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.raises(ValueError):
        scheduler.load_state_dict({"base_lrs": [0.1, 0.2], "last_epoch": 1})


# --- devices --------------------------------------------------------------------------


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "AdamW"])
def test_optimizers_run_on_every_device(make, device):
    arrays, x, y = _data(seed=4)
    on_cpu = _tg_params(arrays)
    _run_tg(on_cpu, make, x, y, steps=3)
    on_device = [tg.Tensor(a, dtype=a.dtype, device=device, requires_grad=True) for a in arrays]
    opt = make(on_device)
    xd = tg.Tensor(x, dtype=x.dtype, device=device)
    yd = tg.Tensor(y, dtype=y.dtype, device=device)
    for _ in range(3):
        opt.zero_grad()
        w, b = on_device
        (((xd @ w + b).tanh() - yd) ** 2).mean().backward()
        opt.step()
    for mine, reference in zip(on_device, on_cpu, strict=True):
        assert mine.device.split(":")[0] == device
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)
    # The state round-trips through host arrays and comes back on the device.
    restored = make(on_device)
    restored.load_state_dict(opt.state_dict())
    for state in restored.state.values():
        for value in state.values():
            if hasattr(value, "shape"):
                assert tg.Tensor(value).device == on_device[0].device


# --- malformed optimizer state: refused up front, nothing changes ----------------------


def _stepped(kind):
    """An optimizer over two float64 parameters; only the first has stepped (has state)."""
    a = tg.Tensor([1.0, -1.0], dtype="float64", requires_grad=True)
    b = tg.Tensor([2.0, 3.0], dtype="float64", requires_grad=True)
    extra = {"momentum": 0.9} if kind == "SGD" else {}
    opt = getattr(optim, kind)([a, b], lr=0.1, **extra)
    a.grad = tg.Tensor([0.5, 0.5], dtype="float64")
    opt.step()
    return opt, a, b


def _set(path, value):
    """A spoiler that sets ``sd[path[0]][path[1]]... = value``."""

    def spoil(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return spoil


UNFITTING = (ValueError, RuntimeError)
MALFORMED_STATE = {
    "adam-step-without-moments": ("Adam", _set(("state", 1), {"step": 1}), UNFITTING, "entries"),
    "adam-step-string": ("Adam", _set(("state", 0, "step"), "x"), TypeError, "'step'"),
    "adam-step-negative": ("Adam", _set(("state", 0, "step"), -1), UNFITTING, ">= 0"),
    "adam-step-fraction": ("Adam", _set(("state", 0, "step"), 1.5), UNFITTING, "whole"),
    "adam-step-nan": ("Adam", _set(("state", 0, "step"), float("nan")), UNFITTING, "whole"),
    "adam-step-vector": ("Adam", _set(("state", 0, "step"), np.ones(2)), UNFITTING, "one number"),
    "adam-exp-avg-string": ("Adam", _set(("state", 0, "exp_avg"), "abc"), TypeError, "array"),
    "adam-exp-avg-float": ("Adam", _set(("state", 0, "exp_avg"), 5.0), TypeError, "array"),
    "adamw-list": ("AdamW", _set(("state", 0, "exp_avg_sq"), [1, 2]), TypeError, "array"),
    "sgd-buffer-float": ("SGD", _set(("state", 0, "momentum_buffer"), 5.0), TypeError, "array"),
    "sgd-adam-state": ("SGD", _set(("state", 0, "exp_avg"), np.zeros(2)), UNFITTING, "keeps"),
    "adam-sgd-state": ("Adam", _set(("state", 1), {"momentum_buffer": [0]}), UNFITTING, "keeps"),
    "entry-not-dict": ("SGD", _set(("state", 0), 5), TypeError, "must be a dict"),
    "state-not-dict": ("Adam", _set(("state",), 5), TypeError, "'state'"),
    "groups-list-of-int": ("SGD", _set(("param_groups",), [5]), TypeError, "list of dicts"),
    "groups-int": ("Adam", _set(("param_groups",), 5), TypeError, "list of dicts"),
    "params-not-list": ("SGD", _set(("param_groups", 0, "params"), 5), TypeError, "indices"),
    "params-strings": ("Adam", _set(("param_groups", 0, "params"), ["a", "b"]), TypeError, "ints"),
    "params-repeated": ("Adam", _set(("param_groups", 0, "params"), [0, 0]), UNFITTING, "twice"),
    "betas-float": ("Adam", _set(("param_groups", 0, "betas"), 0.9), TypeError, "betas"),
    "lr-string": ("SGD", _set(("param_groups", 0, "lr"), "x"), TypeError, "learning rate"),
    "maximize": ("Adam", _set(("param_groups", 0, "maximize"), True), UNFITTING, "maximize"),
    "amsgrad": ("AdamW", _set(("param_groups", 0, "amsgrad"), True), UNFITTING, "amsgrad"),
    "coupled-into-adamw": (
        "AdamW",
        _set(("param_groups", 0, "decoupled_weight_decay"), False),
        UNFITTING,
        "decoupled_weight_decay",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED_STATE))
def test_malformed_state_dict_raises_and_changes_nothing(case):
    kind, spoil, error, message = MALFORMED_STATE[case]
    opt, a, b = _stepped(kind)
    before, sd = opt.state_dict(), opt.state_dict()
    spoil(sd)
    with pytest.raises(error, match=message) as info:
        opt.load_state_dict(sd)
    assert f"{kind}.load_state_dict" in str(info.value)
    if error is UNFITTING:  # the contract's RuntimeError, and torch's ValueError
        assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"].keys() == before["state"].keys() == {0}
    for key, value in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][key], value)
    np.testing.assert_array_equal(b.numpy(), [2.0, 3.0])
    # The state the optimizer kept is whole: the next step runs, as before the load.
    a.grad = b.grad = tg.Tensor([0.5, 0.5], dtype="float64")
    reference, ref_a, ref_b = _stepped(kind)
    ref_a.grad = ref_b.grad = tg.Tensor([0.5, 0.5], dtype="float64")
    opt.step()
    reference.step()
    np.testing.assert_array_equal(a.numpy(), ref_a.numpy())
    np.testing.assert_array_equal(b.numpy(), ref_b.numpy())


def test_a_saved_momentum_buffer_of_none_means_no_buffer():
    # torch's SGD once saved momentum_buffer=None for a parameter without one.
    opt, a, b = _stepped("SGD")
    sd = opt.state_dict()
    sd["state"][1] = {"momentum_buffer": None}
    opt.load_state_dict(sd)
    assert opt.state[b] == {}


def test_a_step_count_saved_as_a_number_array_loads_as_an_int():
    opt, a, _ = _stepped("Adam")
    sd = opt.state_dict()
    sd["state"][0]["step"] = np.array(4.0)  # torch saves a float tensor
    opt.load_state_dict(sd)
    assert opt.state[a]["step"] == 4 and isinstance(opt.state[a]["step"], int)


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.05, weight_decay=0.1)),
        ("AdamW", dict(lr=0.05, weight_decay=0.2)),
    ],
)
def test_a_torch_state_dict_loads_and_continues_like_torch(kind, kwargs):
    torch = pytest.importorskip("torch")
    arrays, x, y = _data(seed=5)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    reference = _run_torch(torch, theirs, lambda p: getattr(torch.optim, kind)(p, **kwargs), x, y)
    ours = _tg_params([p.detach().numpy() for p in theirs])
    opt = getattr(optim, kind)(ours, **kwargs)
    opt.load_state_dict(reference.state_dict())  # torch tensors, torch's extra group keys
    for _ in range(3):
        opt.zero_grad()
        _tg_loss(ours, x, y).backward()
        opt.step()
        reference.zero_grad()
        _torch_loss(torch, theirs, x, y).backward()
        reference.step()
    for mine, reference_param in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), reference_param.detach().numpy(), rtol=1e-10)


def test_optimizer_arguments_of_the_wrong_type_are_type_errors():
    w = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"SGD.*model\.parameters\(\)"):
        optim.SGD(nn.Linear(2, 3), lr=0.1)
    with pytest.raises(TypeError, match="SGD: params must be an iterable"):
        optim.SGD(5, lr=0.1)
    with pytest.raises(TypeError, match="SGD: params must be an iterable"):
        optim.SGD([{"params": 5}], lr=0.1)
    with pytest.raises(TypeError, match="Adam: betas must be a pair"):
        optim.Adam([w], betas=0.9)
    with pytest.raises(TypeError, match="AdamW: betas must be a pair"):
        optim.AdamW([w], betas="ab")
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.ones(1)
    with pytest.raises(TypeError, match="SGD.step: closure must be callable"):
        opt.step(closure=5)
    np.testing.assert_array_equal(w.numpy(), [1.0])  # nothing moved


# --- lr schedulers: arguments and state checked before anything changes --------------


def _sgd():
    return optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda o: lr_scheduler.StepLR(o, 2, gamma=float("nan")), ValueError, "gamma.*nan"),
        (lambda o: lr_scheduler.StepLR(o, 2, gamma=-1), ValueError, "gamma.*-1"),
        (lambda o: lr_scheduler.StepLR(o, 2, gamma=float("inf")), ValueError, "gamma.*inf"),
        (lambda o: lr_scheduler.StepLR(o, 2, gamma="x"), TypeError, "StepLR: gamma"),
        (lambda o: lr_scheduler.StepLR(o, step_size="3"), TypeError, "StepLR: step_size"),
        (lambda o: lr_scheduler.StepLR(o, step_size=2.0), TypeError, "StepLR: step_size"),
        (lambda o: lr_scheduler.StepLR(o, 3, last_epoch="x"), TypeError, "StepLR: last_epoch"),
        (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=-2), ValueError, "last_epoch.*-2"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 3, eta_min=math.nan), ValueError, "eta_min"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 3, eta_min=-1), ValueError, "eta_min.*-1"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 3, eta_min="0"), TypeError, "eta_min"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max="5"), TypeError, "T_max"),
    ],
)
def test_scheduler_constructor_checks_its_arguments(build, error, message):
    opt = _sgd()
    with pytest.raises(error, match=message):
        build(opt)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]


SCHEDULER_STATES = {
    "optimizer": ({"optimizer": None}, UNFITTING, "unknown entry 'optimizer'"),
    "unknown": ({"warmup": 3}, UNFITTING, "unknown entry"),
    "step-size-zero": ({"step_size": 0}, UNFITTING, "step_size"),
    "step-size-string": ({"step_size": "3"}, TypeError, "step_size"),
    "gamma-nan": ({"gamma": float("nan")}, UNFITTING, "gamma"),
    "last-epoch-string": ({"last_epoch": "x"}, TypeError, "last_epoch"),
    "last-epoch-negative": ({"last_epoch": -3}, UNFITTING, "last_epoch"),
    "base-lrs-negative": ({"base_lrs": [-0.1]}, UNFITTING, r"base_lrs\[0\]"),
    "base-lrs-count": ({"base_lrs": [0.1, 0.2]}, UNFITTING, "base_lrs"),
    "last-lr-string": ({"_last_lr": "x"}, TypeError, "_last_lr"),
    "step-count-float": ({"_step_count": 1.5}, TypeError, "_step_count"),
    "not-a-dict": (5, TypeError, "expected a dict"),
}


@pytest.mark.parametrize("case", list(SCHEDULER_STATES))
def test_scheduler_load_state_dict_checks_before_loading(case):
    state, error, message = SCHEDULER_STATES[case]
    opt = _sgd()
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    scheduler.step()
    before = scheduler.state_dict()
    bad = dict(before, **state) if isinstance(state, dict) else state  # one bad entry among good
    with pytest.raises(error, match=message):
        scheduler.load_state_dict(bad)
    assert scheduler.state_dict() == before and scheduler.optimizer is opt
    scheduler.step()  # still works: epoch 2 halves the lr
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_cosine_load_state_dict_checks_its_own_entries():
    scheduler = lr_scheduler.CosineAnnealingLR(_sgd(), T_max=4)
    with pytest.raises(UNFITTING, match="T_max"):
        scheduler.load_state_dict({"T_max": 0})
    with pytest.raises(UNFITTING, match="eta_min"):
        scheduler.load_state_dict({"eta_min": -0.5})
    with pytest.raises(UNFITTING, match="unknown entry 'gamma'"):
        scheduler.load_state_dict({"gamma": 0.5})
    assert scheduler.T_max == 4 and scheduler.eta_min == 0.0


@pytest.mark.parametrize(
    "build",
    [
        lambda L, o: L.StepLR(o, step_size=3, gamma=0.5),
        lambda L, o: L.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    ],
    ids=["StepLR", "CosineAnnealingLR"],
)
def test_a_torch_scheduler_state_dict_loads(build):
    torch = pytest.importorskip("torch")
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    theirs = build(torch.optim.lr_scheduler, theirs_opt)
    for _ in range(4):
        theirs_opt.step()
        theirs.step()
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.2)
    ours = build(lr_scheduler, opt)
    ours.load_state_dict(theirs.state_dict())  # torch's bookkeeping entries are skipped
    opt.param_groups[0]["lr"] = theirs_opt.param_groups[0]["lr"]
    for _ in range(8):
        theirs_opt.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def test_plain_sgd_keeps_no_state_and_state_of_a_new_parameter_is_empty():
    torch = pytest.importorskip("torch")
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    opt, ref = optim.SGD([w], lr=0.1), torch.optim.SGD([wt], lr=0.1)
    (w * w).sum().backward()
    (wt * wt).sum().backward()
    opt.step()
    ref.step()
    assert opt.state_dict()["state"] == ref.state_dict()["state"] == {}
    assert opt.state[w] == {}  # a defaultdict(dict), as torch's
    momentum = optim.SGD([w], lr=0.1, momentum=0.9)
    momentum.step()
    assert set(momentum.state_dict()["state"][0]) == {"momentum_buffer"}


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, opt: lib.StepLR(opt, step_size=3, gamma=0.5),
        lambda lib, opt: lib.StepLR(opt, step_size=2, gamma=0.0),
        lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    ],
)
def test_scheduler_step_with_an_epoch_uses_the_closed_form_as_torch(make):
    torch = pytest.importorskip("torch")
    from tinygrad_dlcv.optim import lr_scheduler

    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.3)
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    ours, theirs = make(lr_scheduler, opt), make(torch.optim.lr_scheduler, ref_opt)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for epoch in [1, 2, 5, 4, 11, 0, 3]:
        with pytest.warns(UserWarning):
            ours.step(epoch)
        with pytest.warns(UserWarning):
            theirs.step(epoch)
        assert ours.last_epoch == theirs.last_epoch == epoch
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert opt.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12)
    for _ in range(5):  # and on from there, chainable again
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
    with pytest.raises(TypeError, match="step: epoch must be an int"):
        ours.step(2.5)


def test_named_parameters_as_torch_keeps_the_names_in_the_group(tmp_path):
    torch = pytest.importorskip("torch")
    model, reference = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    ours = optim.Adam(model.named_parameters(), lr=0.1)
    theirs = torch.optim.Adam(reference.named_parameters(), lr=0.1)
    assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"]
    assert ours.param_groups[0]["params"] == list(model.parameters())
    (model(tg.ones(1, 2)).sum()).backward()
    ours.step()
    tg.save(ours.state_dict(), tmp_path / "adam.npz")
    again = optim.Adam(model.named_parameters(), lr=0.5)
    again.load_state_dict(tg.load(tmp_path / "adam.npz"))
    assert again.param_groups[0]["param_names"] == ["weight", "bias"]
    assert again.param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="with its name"):
        optim.SGD([("weight", model.weight), model.bias], lr=0.1)


def test_step_with_an_epoch_on_a_scheduler_without_a_closed_form_uses_get_lr():
    from tinygrad_dlcv.optim.lr_scheduler import LRScheduler, StepLR

    class Halving(LRScheduler):
        def get_lr(self):
            return [base * 0.5**self.last_epoch for base in self.base_lrs]

    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = Halving(opt)
    with pytest.warns(UserWarning):
        scheduler.step(3)
    assert scheduler.get_last_lr() == [0.125] and scheduler.last_epoch == 3

    class Broken(LRScheduler):
        def get_lr(self):
            if self.last_epoch > 0:
                raise ArithmeticError("no")
            return [group["lr"] for group in self.optimizer.param_groups]

    broken = Broken(opt)
    before = broken.state_dict()
    with pytest.raises(ArithmeticError):
        broken.step()
    assert broken.state_dict() == before  # a failed step changes nothing
    old = StepLR(opt, 2).state_dict()
    old["_initial"] = False  # saved before the entry took torch's name
    StepLR(opt, 2).load_state_dict(old)


def test_repr_of_several_parameter_groups_is_torchs_layout():
    torch = pytest.importorskip("torch")
    ours = optim.SGD(
        [
            {"params": [tg.ones(1, requires_grad=True)]},
            {"params": [tg.ones(1, requires_grad=True)]},
        ],
        lr=0.1,
    )
    theirs = torch.optim.SGD(
        [
            {"params": [torch.ones(1, requires_grad=True)]},
            {"params": [torch.ones(1, requires_grad=True)]},
        ],
        lr=0.1,
    )

    # torch also lists its own options (foreach, fused, ...): compare the layout.
    def layout(text):
        return [line for line in text.splitlines() if not line.startswith("    ")]

    assert layout(repr(ours)) == layout(repr(theirs))


def test_a_set_of_parameters_and_a_tensor_as_data_are_refused_before_any_change():
    layer = nn.Linear(1, 2)
    with pytest.raises(TypeError, match="set"):
        optim.SGD(set(layer.parameters()), lr=0.1)  # no order: state goes by position
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    layer(tg.ones(3, 1)).sum().backward()
    bias = layer.bias.numpy().copy()
    layer.weight.data = tg.Tensor([[1.0], [2.0]])  # torch's idiom, with our Tensor
    with pytest.raises(TypeError, match=r"\.data must be an array"):
        optimizer.step()
    np.testing.assert_array_equal(layer.bias.numpy(), bias)  # nothing half-stepped


class _MomentumByHand(optim.Optimizer):
    """A user's optimizer: its state entries are its own."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self):
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                state["velocity"] = 0.9 * state.get("velocity", 0) + param.grad.data
                state["count"] = state.get("count", 0) + 1
                param.data -= group["lr"] * state["velocity"]


def test_a_users_optimizer_subclass_saves_and_loads_its_own_state():
    """torch loads whatever entries an Optimizer subclass keeps."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    first = _MomentumByHand([w])
    (w * w).sum().backward()
    first.step()
    second = _MomentumByHand([w])
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(second.state[w]["velocity"], [2.0, 4.0])
    assert second.state[w]["velocity"].dtype == np.float32
    assert second.state[w]["count"] == 1
    saved = first.state_dict()["state"][0]["velocity"]
    saved += 1  # a copy was loaded
    np.testing.assert_array_equal(second.state[w]["velocity"], [2.0, 4.0])


def test_a_users_optimizer_state_survives_tg_save_and_load(tmp_path):
    """tg.load gives numbers and text back as 0-d arrays: text is loaded as the string,
    numbers as 0-d arrays (torch keeps 0-d tensors), a step count as the number."""
    w = tg.tensor([1.0, 2.0], dtype="float16", requires_grad=True)
    first = _MomentumByHand([w])
    (w * w).sum().backward()
    first.step()
    first.state[w]["note"] = "warm"
    first.state[w]["step"] = 1.5
    tg.save(first.state_dict(), tmp_path / "state.npz")
    second = _MomentumByHand([w])
    second.load_state_dict(tg.load(tmp_path / "state.npz"))
    state = second.state[w]
    assert state["count"] == 1 and state["note"] == "warm"
    assert state["step"] == 1.5 and isinstance(state["step"], float)  # a count: not float16
    assert state["velocity"].dtype == np.float16
    # Without a file a 0-d array stays one, cast to the parameter's dtype.
    first.state[w]["scale"] = np.ones((), np.float32)
    third = _MomentumByHand([w])
    third.load_state_dict(first.state_dict())
    assert third.state[w]["scale"].dtype == np.float16 and third.state[w]["scale"].ndim == 0


def test_a_users_scheduler_subclass_loads_its_own_attributes():
    class Halving(lr_scheduler.LRScheduler):
        def __init__(self, optimizer, factor=0.5):
            self.factor = factor
            super().__init__(optimizer)

        def get_lr(self):
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]

    w = tg.tensor([1.0], requires_grad=True)
    scheduler = Halving(optim.SGD([w], lr=1.0), factor=0.25)
    other = Halving(optim.SGD([w], lr=1.0))
    other.load_state_dict(scheduler.state_dict())
    assert other.factor == 0.25
    with pytest.raises(RuntimeError, match="unknown entry"):
        other.load_state_dict({**scheduler.state_dict(), "not_an_attribute": 1})


def test_a_scheduler_step_that_cannot_set_every_group_changes_nothing():
    w, v = tg.tensor([1.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    optimizer = optim.SGD([w], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, 2, gamma=0.5)
    optimizer.add_param_group({"params": [v], "lr": 0.3})
    before = (scheduler.state_dict(), [group["lr"] for group in optimizer.param_groups])
    # The closed form of step(epoch) knows the first group's base_lr only.
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="1 learning rates for 2"):
        scheduler.step(4)
    assert (scheduler.state_dict(), [g["lr"] for g in optimizer.param_groups]) == before
    scheduler.step()  # the chained form scales every group's lr as it is (at epoch 2)
    scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == [0.5, 0.15]


def test_a_parameter_that_cannot_be_written_fails_the_step_before_any_moves():
    first = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    expanded = tg.zeros(1).expand(3).requires_grad_()
    first.grad = expanded.grad = tg.ones(3)
    with pytest.raises(ValueError, match="SGD.step: .*broadcast view"):
        optim.SGD([first, expanded], lr=0.1).step()
    np.testing.assert_array_equal(first.numpy(), [1.0, 2.0, 3.0])


def test_an_optimizer_that_loaded_a_torch_checkpoint_saves_again(tmp_path):
    torch = pytest.importorskip("torch")
    weight = torch.nn.Parameter(torch.ones(2))
    torch_adam = torch.optim.Adam([weight], lr=0.01)
    weight.sum().backward()
    torch_adam.step()
    w = tg.tensor([1.0, 1.0], requires_grad=True)
    adam = optim.Adam([w], lr=0.01)
    adam.load_state_dict(torch_adam.state_dict())  # foreach=None, fused=None, ...
    tg.save(adam.state_dict(), tmp_path / "adam.npz")
    again = optim.Adam([w], lr=0.01)
    again.load_state_dict(tg.load(tmp_path / "adam.npz"))
    np.testing.assert_allclose(again.state[w]["exp_avg"], torch_adam.state[weight]["exp_avg"])
