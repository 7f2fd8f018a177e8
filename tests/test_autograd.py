"""Autograd semantics: graph reuse, accumulation, hooks, no_grad, tg.grad, memory.

Where PyTorch defines the behaviour, the same expression runs in both engines
and values and gradients are compared (float64, tight tolerances).
"""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor, nn, ops

RNG = np.random.default_rng(0)


def _leaf(values, dtype="float64"):
    return Tensor(values, dtype=dtype, requires_grad=True)


def _check_like_torch(fn, *arrays):
    """Run scalar-valued ``fn`` on tinygrad_dlcv and torch leaves; compare values and grads."""
    torch = pytest.importorskip("torch")
    ours = [Tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, out_t = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12)
    out.backward()
    out_t.backward()
    for mine, ref in zip(ours, theirs, strict=True):
        assert mine.grad is not None
        assert mine.grad.shape == tuple(ref.shape)
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- reused non-leaves and diamond graphs ---------------------------------------------


def test_reused_nonleaf_by_hand():
    a = _leaf(3.0)
    b = a + a
    c = b * b  # c = 4 a^2, dc/da = 8 a
    c.backward()
    assert c.item() == 36.0
    assert a.grad.item() == 24.0


def _diamond(a):
    b = a + a
    return (b * b).sum()


def _shared_used_five_times(a):
    s = a * 2 + 1
    return (s * s + s.exp() + s / (s * s + 1)).sum()


def _multi_level_diamond(a):
    b = a * a
    c = b + a
    d = b * c
    e = d + c * b + a
    return (e * d).sum()


def _two_input_diamond(x, y):
    s = x * y
    t = s + x
    u = t * s * y
    return (u + t.tanh() * s).sum()


def _diamond_through_reduction(a):
    m = a.sum()
    b = a * m
    c = b - m
    return (c * c).mean()


def _same_tensor_thrice(a):
    return (a * a * a + a).sum()


@pytest.mark.parametrize(
    "fn, n_inputs",
    [
        (_diamond, 1),
        (_shared_used_five_times, 1),
        (_multi_level_diamond, 1),
        (_two_input_diamond, 2),
        (_diamond_through_reduction, 1),
        (_same_tensor_thrice, 1),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_diamond_graphs_match_torch(fn, n_inputs):
    arrays = [RNG.uniform(-1.0, 1.0, size=(3, 4)) for _ in range(n_inputs)]
    _check_like_torch(fn, *arrays)


def test_deep_diamond_ladder_matches_torch():
    def ladder(a):
        x = a
        for _ in range(20):  # each rung uses x twice: 2^20 paths, linear work
            x = (x * 0.5 + x.tanh()) * 0.9
        return x.sum()

    _check_like_torch(ladder, RNG.normal(size=(5,)))


# --- accumulation and graph lifetime --------------------------------------------------


def test_backward_twice_accumulates_and_reset_clears():
    x = _leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    y.backward()  # the graph survives the first backward
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])
    x.grad = None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_leaf_grads_accumulate_across_graphs():
    x = _leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0 + 2.0, 3.0 - 4.0])


def test_graph_survives_backward():
    x = _leaf([0.5, 1.5])
    b = x.exp()
    c = (b * x).sum()
    c.backward()
    first = x.grad.numpy().copy()
    assert c.grad_fn is not None
    assert b.grad_fn is not None
    assert b.grad is None  # intermediate grads are freed, the graph is not
    c.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_backward_on_leaf_itself():
    x = _leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_input_without_requires_grad_gets_no_grad():
    x = _leaf([1.0, 2.0])
    c = Tensor([3.0, 4.0], dtype="float64")
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_leaf_grads_are_independent_writable_arrays(device):
    # As in PyTorch, each leaf owns its .grad: in-place updates (an optimizer's
    # weight decay, a manual zeroing) must neither fail nor touch another tensor.
    x, y, w = (
        Tensor(values, dtype="float64", requires_grad=True, device=device)
        for values in ([1.0, 2.0], [3.0, 4.0], [[1.0, 2.0, 3.0]])
    )
    ((x + y).sum() + w.sum()).backward()
    assert x.grad is not y.grad
    xp = tg.backend.array_module_of(x.grad.data)
    assert not xp.shares_memory(x.grad.data, y.grad.data)
    for t in (x, y, w):
        # NumPy flags a broadcast view read-only; CuPy has only the zero stride to show it.
        assert getattr(t.grad.data.flags, "writeable", True), "leaf .grad is a read-only view"
        assert 0 not in t.grad.data.strides, "leaf .grad is a broadcast view"
    x.grad.data += 10.0
    w.grad.data *= 3.0
    np.testing.assert_allclose(x.grad.numpy(), [11.0, 11.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(w.grad.numpy(), [[3.0, 3.0, 3.0]])


def test_leaf_grad_does_not_alias_the_grad_passed_to_backward():
    x = _leaf([1.0, 2.0])
    g = Tensor([0.5, 0.25], dtype="float64")
    (x + 0.0).backward(g)
    assert not np.shares_memory(x.grad.data, g.data)
    g.data[0] = 99.0
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])


# --- backward's arguments and errors --------------------------------------------------


def test_non_scalar_backward_without_grad_raises():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError):
        (x * 2).backward()


def test_single_element_non_scalar_backward_without_grad():
    x = _leaf([[2.0]])
    (x * 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0]])


def test_backward_with_explicit_grad():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(Tensor([1.0, 10.0, 100.0], dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0, 600.0])


def test_backward_with_wrong_grad_shape_raises():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(ValueError):
        y.backward(Tensor([1.0, 1.0], dtype="float64"))


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError):
        Tensor([1.0]).backward()
    with pytest.raises(RuntimeError):
        (Tensor([1.0, 2.0]) * 2).sum().backward()


# --- retain_grad ----------------------------------------------------------------------


def test_retain_grad_on_one_nonleaf():
    x = _leaf([1.0, 2.0])
    b = x * 3
    b.retain_grad()
    c = b * b
    d = c.sum()
    d.backward()
    np.testing.assert_allclose(b.grad.numpy(), [6.0, 12.0])
    assert c.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_backward_retain_grad_keeps_every_nonleaf_grad():
    x = _leaf([1.0, 2.0])
    b = x * 3
    c = b * b
    d = c.sum()
    d.backward(retain_grad=True)
    np.testing.assert_allclose(b.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(c.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(d.grad.numpy(), 1.0)
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_nonleaf_grads_are_none_by_default():
    x = _leaf([1.0, 2.0])
    b = x * 3
    c = (b * b).sum()
    c.backward()
    assert b.grad is None
    assert c.grad is None
    assert x.grad is not None


# --- hooks ----------------------------------------------------------------------------


def test_hook_runs_once_on_total_gradient():
    x = _leaf([1.0, 2.0])
    y = x * 2
    calls = []
    y.register_hook(lambda g: calls.append(g.numpy().copy()))
    z = (y * y + y).sum()  # y used three times
    z.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * y.numpy() + 1)
    z.backward()
    assert len(calls) == 2  # once per backward


def test_hook_replacement_matches_torch():
    torch = pytest.importorskip("torch")
    values = [0.5, -1.0, 2.0]

    def run(make):
        x = make(values)
        y = x * 2
        y.register_hook(lambda g: g * 3)
        y.retain_grad()
        z = (y * y + y.exp()).sum()
        z.backward()
        return x.grad, y.grad

    xg, yg = run(_leaf)
    xg_t, yg_t = run(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    np.testing.assert_allclose(xg.numpy(), xg_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(yg.numpy(), yg_t.numpy(), rtol=1e-12)


def test_hook_handle_remove():
    x = _leaf([1.0, 2.0])
    y = x * 2
    calls = []
    handle = y.register_hook(lambda g: calls.append(1) or g * 10)
    (y * y).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0])
    handle.remove()
    x.grad = None
    (y * y).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_hook_on_leaf_modifies_stored_grad_like_torch():
    torch = pytest.importorskip("torch")
    x = _leaf([1.0, 2.0])
    x_t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    for t in (x, x_t):
        t.register_hook(lambda g: g * 2)
        (t * 3).sum().backward()
        (t * 3).sum().backward()  # the hook sees each backward's gradient
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 12.0])


def test_hook_returning_none_keeps_gradient():
    x = _leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("where", ["leaf", "intermediate"])
def test_hook_replacement_of_wrong_shape_raises(where):
    # PyTorch: "hook has changed the size of value"; never a silently mis-shaped .grad.
    x = _leaf([1.0, 2.0])
    y = x * 2
    (x if where == "leaf" else y).register_hook(lambda g: Tensor([7.0], dtype="float64"))
    with pytest.raises((ValueError, RuntimeError)):
        (y * y).sum().backward()
        assert x.grad.shape == (2,), f"hook result of shape (1,) stored as .grad: {x.grad!r}"


def test_hook_changing_the_dtype_raises_like_torch():
    """torch: RuntimeError "hook has changed the type of value"; never a float64 .grad on a
    float32 tensor."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.astype("float64"))
    with pytest.raises(RuntimeError, match="float64"):
        (x * 2).sum().backward()
    assert x.grad is None
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    t.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError):
        (t * 2).sum().backward()


@pytest.mark.parametrize("where", ["leaf", "intermediate"])
@pytest.mark.parametrize("returned", [np.ones(2), [1.0, 1.0], 1.0])
def test_hook_returning_a_non_tensor_is_a_type_error(where, returned):
    """torch: TypeError; the message says what a hook may return."""
    x = _leaf([1.0, 2.0])
    y = x * 2
    (x if where == "leaf" else y).register_hook(lambda g: returned)
    with pytest.raises(TypeError, match="Tensor or None"):
        (y * y).sum().backward()
    assert x.grad is None


# --- a failed backward changes nothing ------------------------------------------------


def _hook_of_wrong_shape(g):
    return Tensor(np.ones(3))


def test_failed_backward_leaves_every_grad_as_it_was():
    """DESIGN: never a half-applied change. ``a`` comes first in the walk and its gradient
    is complete before ``b``'s hook fails; it must not be stored."""
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    b.register_hook(_hook_of_wrong_shape)
    with pytest.raises(RuntimeError):
        (a * 2 + b * 3).sum().backward()
    assert a.grad is None and b.grad is None


def test_failed_backward_does_not_accumulate_into_existing_grads():
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    (a * 2 + b * 3).sum().backward()
    handle = b.register_hook(_hook_of_wrong_shape)
    y = _leaf([1.0, 1.0])
    z = a * 5 + y
    z.retain_grad()
    with pytest.raises(RuntimeError):
        (z * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0])
    assert y.grad is None and z.grad is None
    handle.remove()  # the same backward, now without the failing hook: accumulated once
    (z * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0 + 15.0, 2.0 + 20.0])
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(z.grad.numpy(), [3.0, 4.0])


def test_a_grad_of_another_shape_dtype_or_type_cannot_be_assigned():
    """As torch: a wrong .grad set by hand would broadcast into the next accumulation
    (a (3, 1) grad made a (2,) leaf's .grad (3, 2)) or outlive every step."""
    a = _leaf([1.0, 2.0], dtype="float32")
    a.grad = Tensor(np.ones(2))  # float64 data takes the default float32: fits
    with pytest.raises(RuntimeError, match=r"grad: assigned grad has shape \(3, 1\)"):
        a.grad = Tensor(np.ones((3, 1)))
    with pytest.raises(RuntimeError, match="dtype float64"):
        a.grad = Tensor(np.ones(2), dtype="float64")
    with pytest.raises(TypeError, match="must be a Tensor or None"):
        a.grad = np.ones(2)
    with pytest.raises(RuntimeError, match="its own grad"):  # as torch
        a.grad = a
    assert a.grad.tolist() == [1.0, 1.0]  # a refused assignment changes nothing
    (a * a).sum().backward()
    assert a.grad.tolist() == [3.0, 5.0]
    a.grad = None
    assert a.grad is None


def test_op_with_a_wrong_gradient_shape_leaves_grads_alone():
    class Broken(ops.Function):
        """d broken(a)/da = (a wrong shape, on purpose)"""

        def forward(self, a):
            return a * 1.0

        def backward(self, grad):
            return (grad.data[:1],)

    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match="BrokenBackward"):
        ((a * 1.0).sum() + Tensor._apply(Broken, b).sum()).backward()
    assert a.grad is None and b.grad is None


def test_accumulation_and_retained_grads_unchanged_by_deferred_store():
    """The stores happen after the walk: sums, retain_grad, hooks and the no-alias copies
    behave as before (compared with torch)."""
    torch = pytest.importorskip("torch")

    def run(make, **keep):
        x, w = make([1.0, -2.0, 0.5]), make([0.3, 0.7, -1.1])
        h = x * w
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        (h * h + x).sum().backward(**keep)
        (h.exp() * w).sum().backward()
        return x.grad, w.grad, h.grad

    ours = run(_leaf)
    theirs = run(
        lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), retain_graph=True
    )
    for mine, ref in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12)
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    (x + y).sum().backward()  # one buffer reaches both leaves: each owns a copy
    assert not np.shares_memory(x.grad.data, y.grad.data)


def test_leaf_grads_accumulate_in_place_as_torch():
    # torch adds into the existing .grad: a reference to it (or the tensor a user
    # assigned) sees the sum; a .grad in a graph (create_graph) is replaced instead.
    torch = pytest.importorskip("torch")

    def run(make, assign):
        x = make([1.0, 2.0])
        given = assign([10.0, 10.0])
        x.grad = given
        (x * 2).sum().backward()
        first = x.grad
        (x * x).sum().backward()
        return x, given, first

    ours = run(_leaf, lambda v: Tensor(v, dtype="float64"))
    theirs = run(
        lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True),
        lambda v: torch.tensor(v, dtype=torch.float64),
    )
    (x, given, first), (their_x, their_given, their_first) = ours, theirs
    assert (x.grad is given) == (their_x.grad is their_given) == True  # noqa: E712
    assert (first is x.grad) == (their_first is their_x.grad) == True  # noqa: E712
    np.testing.assert_array_equal(given.numpy(), their_given.numpy())  # [14, 16]
    w = _leaf([1.0, 2.0])
    (w * w).sum().backward(create_graph=True)
    recorded = w.grad
    (w * w).sum().backward()
    assert w.grad is not recorded  # a recorded .grad is not written in place
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(recorded.numpy(), [2.0, 4.0])


def test_a_gradient_a_hook_kept_is_never_written_later():
    # The hook may keep what it is handed; the .grad made of it is a copy, so neither
    # the next backward's in-place sum nor zero_grad(set_to_none=False) reaches it.
    from tinygrad_dlcv.tensor import clear_grad

    for passes_through in (False, True):
        kept = []
        x = _leaf([1.0, 2.0])
        watched = x + 0.0 if passes_through else x  # + passes the same gradient on
        watched.register_hook(kept.append)
        for _ in range(2):
            (watched * 3).sum().backward()
        clear_grad(x, set_to_none=False)
        np.testing.assert_array_equal(kept[0].numpy(), [3.0, 3.0])
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_a_retained_gradient_is_replaced_not_added_into_as_torch():
    torch = pytest.importorskip("torch")

    def run(make):
        x = make([1.0, 2.0])
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(**({"retain_graph": True} if not isinstance(x, Tensor) else {}))
        held = y.grad
        (y * y).sum().backward()
        return held, y.grad

    ours = run(_leaf)
    theirs = run(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine.numpy(), reference.detach().numpy())
    assert ours[0] is not ours[1]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_a_gradient_through_relu_alone_can_be_differentiated_again(activation):
    # The recorded backward multiplied by a constant mask: the gradient did not require
    # grad, and differentiating it raised where torch gives zeros.
    torch = pytest.importorskip("torch")
    values = [1.0, -2.0, 3.0]
    x = _leaf(values)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    ours_out = x.relu() if activation == "relu" else x.leaky_relu(0.1)
    their_out = (
        theirs.relu() if activation == "relu" else torch.nn.functional.leaky_relu(theirs, 0.1)
    )
    (first,) = tg.grad(ours_out.sum(), x, create_graph=True)
    (their_first,) = torch.autograd.grad(their_out.sum(), theirs, create_graph=True)
    assert first.requires_grad and their_first.requires_grad
    np.testing.assert_array_equal(first.numpy(), their_first.detach().numpy())
    (second,) = tg.grad((first * first).sum(), x)
    (their_second,) = torch.autograd.grad((their_first * their_first).sum(), theirs)
    np.testing.assert_array_equal(second.numpy(), their_second.numpy())  # zeros
    if activation == "relu":  # torch's leaky_relu has no third derivative at all
        (second,) = tg.grad(first.sum(), x, create_graph=True)
        assert second.requires_grad  # zeros, still linked: a third derivative is zeros
        (third,) = tg.grad(second.sum(), x)
        np.testing.assert_array_equal(third.numpy(), [0.0, 0.0, 0.0])


# --- no_grad, enable_grad, detach -----------------------------------------------------


def test_no_grad_context_manager():
    x = _leaf([1.0, 2.0])
    assert tg.is_grad_enabled() is True
    with tg.no_grad():
        assert tg.is_grad_enabled() is False
        y = x * 2
    assert tg.is_grad_enabled() is True
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert x.requires_grad is True
    np.testing.assert_allclose(y.numpy(), [2.0, 4.0])


def test_no_grad_restores_state_after_exception():
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError("boom")
    assert tg.is_grad_enabled() is True


def test_no_grad_decorator():
    @tg.no_grad()
    def double(t):
        assert tg.is_grad_enabled() is False
        return t * 2

    x = _leaf([1.0])
    y = double(x)
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert tg.is_grad_enabled() is True


@pytest.mark.parametrize("mode", [tg.no_grad, tg.enable_grad])
def test_grad_mode_decorators_refuse_what_is_not_a_function(mode):
    with pytest.raises(TypeError, match="function to decorate; got 5"):
        mode(5)
    with pytest.raises(TypeError, match="function to decorate; got 'x'"):
        mode()("x")


def test_grad_mode_is_per_thread_as_torch():
    # A no_grad block in one thread switched recording off in every thread.
    import threading

    started, checked = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        started.wait()
        seen["enabled"] = tg.is_grad_enabled()
        x = _leaf([1.0, 2.0])
        seen["recorded"] = (x * x).grad_fn is not None
        with tg.no_grad():  # and its own no_grad leaves the main thread alone
            checked.set()
            seen["main_after"] = main_done.wait(5)

    main_done = threading.Event()
    thread = threading.Thread(target=other_thread)
    thread.start()
    with tg.no_grad():
        started.set()
        checked.wait(5)
    assert tg.is_grad_enabled() is True
    main_done.set()
    thread.join(5)
    assert seen == {"enabled": True, "recorded": True, "main_after": True}


def test_enable_grad_inside_no_grad():
    x = _leaf([1.0, 2.0])
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled() is True
            y = x * x
        assert tg.is_grad_enabled() is False
        z = x * x
    assert y.requires_grad is True
    assert y.grad_fn is not None
    assert z.grad_fn is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_detach_shares_data_and_cuts_graph():
    x = _leaf([1.0, 2.0])
    d = (x * 1).detach()
    assert d.requires_grad is False
    assert d.grad_fn is None
    assert d.is_leaf
    d2 = x.detach()
    assert np.shares_memory(d2.data, x.data)
    d2.data[0] = 5.0
    assert x.numpy()[0] == 5.0
    (x * d2).sum().backward()  # d2 is a constant: d/dx (x * d2) = d2
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 2.0])


# --- tg.grad --------------------------------------------------------------------------


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = _leaf([1.0, 2.0])
    w = _leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = result = tg.grad(y, [x, w])
    assert isinstance(result, tuple)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert gx.requires_grad is False


def test_grad_does_not_change_existing_grad():
    x = _leaf([1.0, 2.0])
    (x * 5).sum().backward()
    (g,) = tg.grad((x * x).sum(), [x])
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_grad_with_respect_to_intermediate_and_single_tensors():
    x = _leaf([1.0, 2.0])
    y = x * 3
    z = (y * y).sum()
    gy, gx = tg.grad(z, [y, x])
    np.testing.assert_allclose(gy.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(gx.numpy(), [18.0, 36.0])
    assert y.grad is None and x.grad is None
    (g,) = tg.grad(z, x)  # a single Tensor as inputs, as torch.autograd.grad allows
    np.testing.assert_allclose(g.numpy(), [18.0, 36.0])


def test_grad_with_grad_outputs():
    x = _leaf([1.0, 2.0, 3.0])
    y = x * x
    (g,) = tg.grad([y], [x], grad_outputs=[Tensor([1.0, 0.5, 2.0], dtype="float64")])
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, 12.0])


def test_grad_of_unused_input_raises():
    x = _leaf([1.0, 2.0])
    unused = _leaf([3.0])
    with pytest.raises(RuntimeError):
        tg.grad((x * 2).sum(), [x, unused])


def test_grad_create_graph_hessian_vector_product_matches_torch():
    torch = pytest.importorskip("torch")
    xv = np.array([0.3, -0.7, 1.1])
    vv = np.array([1.0, 2.0, -0.5])

    def f(x):
        return (x**3).sum() * x.sum() + x.tanh().sum() + (x * x).exp().sum()

    x = _leaf(xv)
    (g,) = tg.grad(f(x), [x], create_graph=True)
    assert g.requires_grad is True
    (hvp,) = tg.grad((g * Tensor(vv, dtype="float64")).sum(), [x])

    x_t = torch.tensor(xv, requires_grad=True)
    (g_t,) = torch.autograd.grad(f(x_t), [x_t], create_graph=True)
    (hvp_t,) = torch.autograd.grad((g_t * torch.tensor(vv)).sum(), [x_t])

    np.testing.assert_allclose(g.numpy(), g_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hvp.numpy(), hvp_t.numpy(), rtol=1e-10)
    assert x.grad is None


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_then_differentiate_grad():
    torch = pytest.importorskip("torch")
    xv = [0.5, -1.5, 2.0]
    results = []
    for x in (_leaf(xv), torch.tensor(xv, dtype=torch.float64, requires_grad=True)):
        (x**3 * x.sigmoid()).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        first = g.detach().numpy().copy()
        x.grad = None
        (g * g).sum().backward()
        results.append((first, x.grad.detach().numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


def test_second_derivative_by_hand():
    x = _leaf(2.0)
    (dy,) = tg.grad(x**4, [x], create_graph=True)  # 4 x^3 = 32
    (d2y,) = tg.grad(dy, [x], create_graph=True)  # 12 x^2 = 48
    (d3y,) = tg.grad(d2y, [x])  # 24 x = 48
    assert dy.item() == pytest.approx(32.0)
    assert d2y.item() == pytest.approx(48.0)
    assert d3y.item() == pytest.approx(48.0)


# --- deep graphs and memory -----------------------------------------------------------


def test_chain_of_100k_ops_backpropagates():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.numpy().tolist() == [1.0]
    del y  # freeing a 100k-deep graph must not overflow the C stack
    gc.collect()
    assert x.grad is not None


def test_chain_of_100k_ops_deleted_without_backward():
    x = Tensor([2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    assert y.item() == 2.0
    del y
    gc.collect()


def test_intermediate_grads_released_after_backward():
    x = _leaf([1.0, 2.0, 3.0])
    a = x * 2
    b = a * a
    refs = []

    def keep_weakrefs(g):
        refs.append(weakref.ref(g))
        refs.append(weakref.ref(g.data))

    a.register_hook(keep_weakrefs)
    b.sum().backward()
    assert len(refs) == 2
    # No gc.collect(): reference counting alone must free intermediate buffers.
    assert refs[0]() is None, "intermediate gradient Tensor still alive after backward"
    assert refs[1]() is None, "intermediate gradient array still alive after backward"
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_intermediate_grads_released_during_walk():
    x = _leaf([1.0, 2.0])
    a = x * 2
    b = a * 3
    c = b * 4
    d = c.sum()
    refs = {}
    alive_when_leaf_reached = []

    b.register_hook(lambda g: refs.update(tensor=weakref.ref(g), array=weakref.ref(g.data)))
    x.register_hook(
        lambda g: alive_when_leaf_reached.append(
            (refs["tensor"]() is not None, refs["array"]() is not None)
        )
    )
    d.backward()
    assert alive_when_leaf_reached == [(False, False)], (
        "b's gradient still held when the walk reached x, two steps further"
    )
    np.testing.assert_allclose(x.grad.numpy(), [24.0, 24.0])


def test_leaf_and_retained_grads_stay_alive():
    x = _leaf([1.0, 2.0])
    a = x * 2
    a.retain_grad()
    (a * a).sum().backward()
    assert a.grad is not None
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])
    leaf_ref = weakref.ref(x.grad)
    gc.collect()
    assert leaf_ref() is x.grad


# --- what cannot have a gradient ------------------------------------------------------


@pytest.mark.parametrize("data", [[1, 2, 3], [True, False]], ids=["int", "bool"])
def test_int_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(TypeError):
        Tensor(data, requires_grad=True)
    t = Tensor(data)
    with pytest.raises(TypeError):
        t.requires_grad_(True)
    assert t.requires_grad is False


def test_int_factory_cannot_require_grad():
    with pytest.raises(TypeError):
        tg.arange(3, requires_grad=True)


def test_comparisons_and_argmax_have_no_grad_fn():
    x = _leaf([[1.0, -2.0], [3.0, 0.5]])
    for r in (x > 0, x < 0, x >= 1.0, x <= x, x == x, x != 0.5):
        assert r.dtype == np.bool_
        assert r.grad_fn is None
        assert r.requires_grad is False
    for r in (x.argmax(), x.argmin(axis=1), x.argmax(axis=0, keepdims=True)):
        assert r.dtype == np.int64
        assert r.grad_fn is None
        assert r.requires_grad is False
    assert x.argmax().item() == 2
    assert x.argmin(axis=1).tolist() == [1, 1]
    assert x.argmax(axis=0, keepdims=True).tolist() == [[1, 1]]


def test_no_grad_and_enable_grad_work_as_bare_decorators():
    x = tg.tensor([1.0], requires_grad=True)

    @tg.no_grad
    def doubled():
        return x * 2

    @tg.enable_grad
    def tripled():
        return x * 3

    assert doubled.__name__ == "doubled"
    assert not doubled().requires_grad
    with tg.no_grad():
        assert tripled().requires_grad
    assert tg.is_grad_enabled()


# --------------------------------------------------------------------------- in-place writes


def test_backward_refuses_an_input_changed_in_place_after_the_forward_pass():
    # As PyTorch ("modified by an inplace operation"): the gradient would be silently wrong.
    torch = pytest.importorskip("torch")
    weight = tg.randn(2, 3, requires_grad=True)
    x = tg.randn(4, 3)
    loss = (x @ weight.T).sum()
    x += 1
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    assert weight.grad is None  # nothing half-stored
    theirs_x = torch.randn(4, 3)
    theirs_w = torch.randn(2, 3, requires_grad=True)
    theirs_loss = (theirs_x @ theirs_w.T).sum()
    theirs_x += 1
    with pytest.raises(RuntimeError, match="inplace"):
        theirs_loss.backward()


def test_backward_refuses_an_output_its_gradient_reads_changed_in_place():
    w = tg.tensor([0.5, -1.0], requires_grad=True)
    s = w.sigmoid()  # sigmoid's gradient is s (1 - s), read from its output
    total = s.sum()
    with tg.no_grad():
        s *= 0
    with pytest.raises(RuntimeError, match="SigmoidBackward"):
        total.backward()


@pytest.mark.parametrize("reduction", ["max", "min"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_backward_refuses_a_max_or_min_output_changed_in_place(reduction, keepdims):
    # max/min's gradient compares the input with the output's own array: a changed
    # output gave NaN gradients silently (torch: "modified by an inplace operation").
    a = tg.tensor([[1.0, 3.0], [2.0, 0.5]], requires_grad=True)
    extreme = getattr(a, reduction)(axis=1, keepdims=keepdims)
    centered = a - extreme  # subtraction reads no values: only max/min can tell
    with tg.no_grad():
        extreme += 10.0
    with pytest.raises(RuntimeError, match=f"{reduction.capitalize()}Backward"):
        centered.sum().backward()


def test_create_graph_grads_are_copies_in_the_graph():
    # Add passes one gradient on to both inputs, and the seed is the caller's: with
    # create_graph the .grads were the same Tensor as each other and as the seed.
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    seed = tg.tensor([1.0, 1.0], dtype="float64")
    (x + y).backward(seed, create_graph=True)
    assert not np.shares_memory(x.grad.data, y.grad.data)
    assert not np.shares_memory(x.grad.data, seed.data)
    with tg.no_grad():
        x.grad += 10.0
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0])
    z = _leaf([1.0, 2.0])
    z.sum().backward(create_graph=True)  # a broadcast view of the seed arrives here
    with tg.no_grad():
        z.grad *= 0.5  # torch allows it; a read-only view refused
    np.testing.assert_array_equal(z.grad.numpy(), [0.5, 0.5])
    # ... and still differentiable: d/dw sum(d(w^3)/dw) = 6 w.
    w = _leaf([1.0, 2.0])
    (w**3).sum().backward(create_graph=True)
    first, w.grad = w.grad, None
    first.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0, 12.0])


def test_a_grad_a_hook_returned_is_a_copy():
    kept = tg.tensor([5.0, 5.0], dtype="float64")  # the caller still holds it
    x = _leaf([1.0, 2.0])
    x.register_hook(lambda grad: kept)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    assert not np.shares_memory(x.grad.data, kept.data)


def test_in_place_writes_that_no_gradient_reads_are_fine():
    x = tg.ones(3, requires_grad=True)
    shift = tg.ones(3)
    y = (x + shift).sum()  # the gradient of + does not read shift's values
    shift += 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):  # forward, backward, then the update: each graph is new
        (w * w).sum().backward()
        with tg.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.numpy(), [0.125, 0.25])


def test_a_factor_is_checked_only_when_the_other_factor_needs_its_gradient():
    # As torch saves a factor only for the other factor's gradient: updating a weight
    # whose input needs no gradient leaves every gradient right, so a second backward
    # is allowed; with an input that needs one, it is still refused.
    from tinygrad_dlcv import nn, optim

    layer = nn.Linear(3, 2)
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(tg.ones(4, 3)).sum()
    loss.backward()
    first = layer.weight.grad.numpy().copy()
    optimizer.step()
    nn.init.zeros_(layer.bias)  # the bias's gradient reads nothing
    loss.backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), 2 * first)
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [8.0, 8.0])
    for product in (lambda w: (w * 2.0).sum(), lambda w: (tg.ones(2, 3) @ w).sum()):
        w = tg.ones(3, requires_grad=True)
        total = product(w)
        total.backward()
        with tg.no_grad():
            w += 1
        total.backward()  # the gradient reads the constant factor only
        np.testing.assert_array_equal(w.grad.numpy(), 2 * np.full(3, 2.0))
    inputs = tg.ones(4, 3, requires_grad=True)
    loss = layer(inputs).sum()
    optimizer.step()
    with pytest.raises(RuntimeError, match="LinearBackward"):
        loss.backward()  # the input's gradient reads the changed weight
    numerator, denominator = tg.ones(2), tg.full((2,), 2.0, requires_grad=True)
    quotient = (numerator / denominator).sum()
    with tg.no_grad():
        numerator += 1  # d/d(denominator) reads the numerator
    with pytest.raises(RuntimeError, match="DivBackward"):
        quotient.backward()


@pytest.mark.parametrize(
    "use",
    [
        lambda w: w[0],
        lambda w: w.T,
        lambda w: w.expand(3, 2, 2),
        lambda w: tg.cat([w, w]),
        lambda w: tg.stack([w, w]),
        lambda w: w.exp(),
        lambda w: w.sigmoid(),
        lambda w: w.softmax(axis=1),
        lambda w: w.astype("float64"),
        lambda w: tg.where(tg.tensor([True, False]), w, 0.0),
    ],
)
def test_ops_that_read_only_shapes_or_their_output_allow_changes_to_the_input(use):
    # Their gradients read the input's shape, or the output's values: torch saves no
    # input for them either, and back-propagates after the input changed.
    w = tg.ones(2, 2, requires_grad=True)
    total = use(w).sum()
    with tg.no_grad():
        w += 1
    total.backward()
    expected = tg.ones(2, 2, requires_grad=True)
    use(expected).sum().backward()  # the gradient of the graph as it was recorded
    np.testing.assert_allclose(w.grad.numpy(), expected.grad.numpy(), rtol=1e-6)


def test_writes_through_views_and_detach_count_as_changes():
    # PyTorch's views share one version counter; here the written memory itself is marked.
    x = Tensor([[1.0, 2.0]])
    weight = Tensor([[1.0, 1.0]], requires_grad=True)
    loss = (weight * x).sum()
    view = x.reshape(2)
    view += 1
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    detached = w.detach()
    with tg.no_grad():
        detached += 1
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_an_optimizer_step_between_forward_and_backward_is_refused():
    from tinygrad_dlcv import optim

    w = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()  # the graph would read the updated w
    for _ in range(2):  # the usual loop records a new graph after each step: fine
        optimizer.zero_grad()
        (w * w).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w.numpy(), [0.512, 1.024], rtol=1e-6)


def test_in_place_on_a_broadcast_view_is_refused():
    expanded = tg.ones(3).expand(2, 3)
    with pytest.raises(ValueError, match="broadcast view"):
        expanded += 1


@pytest.mark.parametrize("mode, inside", [(tg.no_grad, False), (tg.enable_grad, True)])
def test_a_decorated_generator_runs_every_step_in_the_mode(mode, inside):
    @mode()
    def steps():
        sent = yield tg.is_grad_enabled()
        try:
            yield sent, tg.is_grad_enabled()
        except KeyError:
            yield "caught", tg.is_grad_enabled()
        return "done"

    with tg.enable_grad() if not inside else tg.no_grad():
        outside = tg.is_grad_enabled()
        generator = steps()
        assert next(generator) is inside and tg.is_grad_enabled() is outside
        assert generator.send(7) == (7, inside) and tg.is_grad_enabled() is outside
        assert generator.throw(KeyError("x")) == ("caught", inside)
        with pytest.raises(StopIteration) as stop:
            next(generator)
        assert stop.value.value == "done"


def test_tg_grad_walks_only_the_part_of_the_graph_that_leads_to_its_inputs():
    w, x = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    seen = []
    w.register_hook(lambda g: seen.append("w"))  # torch runs no hook off the path to x
    (gx,) = tg.grad((x * w).sum() + (w * w).sum(), [x])
    assert gx.tolist() == [1.0, 2.0] and seen == [] and w.grad is None


def test_tg_grad_wants_one_grad_output_per_output():
    x = _leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        tg.grad([x * 2, x * 3], [x], grad_outputs=tg.tensor([1.0, 1.0], dtype="float64"))


def test_setting_requires_grad_is_checked_as_requires_grad_is():
    i = tg.tensor([1, 2])
    with pytest.raises(TypeError, match="requires_grad: only floating tensors"):
        i.requires_grad = True  # its gradient would be truncated to ints
    assert not i.requires_grad
    x = _leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="cannot switch off gradients of a non-leaf"):
        y.requires_grad = False  # would silently cut the graph
    w = tg.tensor([1.0, 2.0])
    w.requires_grad = True
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_requires_grad_takes_only_bools_and_pickles_keep_it():
    import pickle

    t = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="must be True or False"):
        t.requires_grad = "no"  # truthy: it would have switched gradients on
    t.requires_grad = np.True_
    again = pickle.loads(pickle.dumps(t))
    assert again.requires_grad and again.tolist() == [1.0, 2.0]
    # A pickle made before the attributes were checked names the plain slots.
    old = Tensor.__new__(Tensor)
    slots = {"data": np.ones(2, np.float32), "grad": None, "requires_grad": False}
    old.__setstate__((None, {**slots, "grad_fn": None, "name": None, "_hooks": None}))
    assert old.requires_grad is False and old.grad is None and old.tolist() == [1.0, 1.0]
    linear = pickle.loads(pickle.dumps(nn.Linear(2, 2)))
    linear(tg.ones(1, 2)).sum().backward()
    assert linear.weight.grad is not None


def test_retain_graph_is_taken_for_torch_code_and_the_graph_survives_anyway():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=False)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    (again,) = tg.grad(y, x, retain_graph=True)
    np.testing.assert_array_equal(again.numpy(), [2.0, 4.0])
    with pytest.raises(TypeError, match="retain_graph"):
        y.backward(retain_graph="yes")


def test_a_leaf_switched_to_requires_grad_after_the_forward_gets_no_gradient_from_it():
    """torch's graph has no edge to a tensor that did not require grad when the op ran."""
    x, w = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    x.requires_grad_(True)
    y.backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad(y, x)
    (x * w).sum().backward()  # a graph recorded after the switch reaches it
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    # Unfreezing a layer between its forward and backward, as torch.
    layer = tg.nn.Linear(2, 1)
    layer.weight.requires_grad_(False)
    out = layer(tg.ones(1, 2)).sum()
    layer.weight.requires_grad = True
    out.backward()
    assert layer.weight.grad is None and layer.bias.grad is not None


def test_relu_reads_its_output_so_its_input_may_change_before_backward():
    """torch's relu saves its result: changing the input in place is no error."""
    x = tg.tensor([[0.5, 1.5], [-2.5, 0.7]], requires_grad=True)
    y = x.relu()
    with tg.no_grad():
        x *= 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0], [0.0, 1.0]])


def test_torch_keywords_gradient_and_allow_unused():
    x, unused = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    (x * 3).backward(gradient=tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])
    with pytest.raises(TypeError, match="both"):
        (x * 3).backward(tg.tensor([1.0, 1.0]), gradient=tg.tensor([1.0, 1.0]))
    first, second = tg.grad((x * x).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(first.numpy(), [2.0, 4.0])
    assert second is None
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad((x * x).sum(), [x, unused])


def test_set_grad_enabled_switches_at_once_in_a_block_and_as_a_decorator():
    x = tg.tensor([1.0], requires_grad=True)
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def frozen():
        return (x * 2).requires_grad

    assert tg.is_grad_enabled() and frozen() is False and tg.is_grad_enabled()
    with pytest.raises(TypeError):
        tg.set_grad_enabled("no")


def test_a_leaf_switched_off_and_on_again_keeps_its_gradient_from_earlier_ops():
    layer = tg.nn.Linear(2, 1)
    loss = layer(tg.ones(1, 2)).sum()
    layer.requires_grad_(False)
    layer.requires_grad_(True)
    loss.backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[1.0, 1.0]])


def test_set_grad_enabled_objects_can_be_entered_twice_as_torchs():
    switch = tg.set_grad_enabled(False)
    tg.set_grad_enabled(True)
    for _ in range(2):
        with switch:
            assert not tg.is_grad_enabled()
        assert tg.is_grad_enabled()


def test_grad_refuses_an_input_that_does_not_require_grad_even_if_unused_is_allowed():
    x, constant = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0])
    with pytest.raises(RuntimeError, match="input 1 .* does not require grad"):
        tg.grad((x * constant).sum(), [x, constant], allow_unused=True)
    assert tg.grad((x * constant).sum(), [x], allow_unused=None)[0].tolist() == [2.0]


def test_grad_outputs_given_as_one_array_is_the_one_outputs_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (result,) = tg.grad(x * 3, x, grad_outputs=np.ones(2))
    np.testing.assert_array_equal(result.numpy(), [3.0, 3.0])


def test_a_freeze_unfreeze_loop_keeps_a_bounded_record_and_every_gradient():
    """Each op records which inputs required grad; a leaf keeps only its first switch:
    memory stays flat however often it is switched, and every graph gets its answer."""
    from tinygrad_dlcv.tensor import _switched

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    early = (w * w).sum()
    total = 0
    for step in range(10):  # a side computation on frozen weights in every micro-batch
        w.requires_grad_(False)
        (w * 3).sum()
        w.requires_grad_(True)
        total = total + (w * (step + 1)).sum()
    total.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [55.0, 55.0])  # torch's
    w.grad = None
    early.backward()  # recorded before every switch, while w required grad
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    assert len(_switched[id(w)]) == 3  # (weak ref, first switch, state before it)
