"""The Tensor API: construction, dtype rules, attributes, conversions, factories,
repr, NumPy/DLPack interop and the errors bad input gets."""

import importlib
import inspect

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor
from tinygrad_dlcv.gradcheck import gradcheck

cuda = pytest.mark.cuda
needs_cuda = pytest.mark.skipif(not tg.cuda_available(), reason="CUDA not available")


@pytest.fixture
def float64_default():
    """Switch the default dtype to float64 for one test, then restore float32."""
    tg.set_default_dtype(tg.float64)
    try:
        yield
    finally:
        tg.set_default_dtype(tg.float32)


# --- construction ---------------------------------------------------------------------


def test_from_python_scalars():
    f = Tensor(3.5)
    assert f.shape == () and f.dtype == np.float32 and f.item() == 3.5
    i = Tensor(3)
    assert i.shape == () and i.dtype == np.int64 and i.item() == 3
    b = Tensor(True)
    assert b.dtype == np.bool_ and b.item() is True


def test_from_nested_list():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert Tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert Tensor([True, False]).dtype == np.bool_
    assert Tensor([1, 2.5]).dtype == np.float32  # mixed list: float data


def test_from_numpy_array():
    assert Tensor(np.array([1.0, 2.0], dtype=np.float64)).dtype == np.float32
    assert Tensor(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32
    assert Tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert Tensor(np.array([1, 2], dtype=np.int64)).dtype == np.int64
    assert Tensor(np.array([True])).dtype == np.bool_
    np.testing.assert_array_equal(
        Tensor(np.arange(6).reshape(2, 3)).numpy(), [[0, 1, 2], [3, 4, 5]]
    )


def test_from_tensor_keeps_dtype():
    src = Tensor([1.0, 2.0], dtype="float64")
    assert Tensor(src).dtype == np.float64
    assert Tensor(Tensor([1, 2])).dtype == np.int64


def test_construction_copies_numpy_source():
    src = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = Tensor(src)
    src[0] = 100.0
    assert t.numpy().tolist() == [1.0, 2.0, 3.0]
    t.data[1] = -1.0
    assert src[1] == 2.0


def test_construction_copies_tensor_source():
    src = Tensor([1.0, 2.0])
    t = Tensor(src)
    src.data[0] = 100.0
    assert t.numpy().tolist() == [1.0, 2.0]
    assert not np.shares_memory(t.data, src.data)


def test_construction_copies_list_source():
    src = [1.0, 2.0]
    t = Tensor(src)
    src[0] = 9.0
    assert t.numpy().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64"), tg.float64])
def test_dtype_keyword_forms(dtype):
    t = Tensor([1.5, 2.5], dtype=dtype)
    assert t.dtype == np.float64
    assert isinstance(t.dtype, np.dtype)


def test_dtype_constants_are_numpy_dtypes():
    assert np.dtype(tg.float32) == np.float32
    assert np.dtype(tg.float64) == np.float64
    assert np.dtype(tg.int64) == np.int64
    assert np.dtype(tg.bool_) == np.bool_


def test_dtype_keyword_converts_ints_to_float():
    t = Tensor([1, 2], dtype=tg.float32)
    assert t.dtype == np.float32
    assert t.numpy().tolist() == [1.0, 2.0]


# --- dtype rules ----------------------------------------------------------------------


def test_python_scalar_never_widens_float32():
    x = Tensor([1.0, 2.0])
    for r in (x + 2.5, 2.5 + x, x * 3, x - 1.0, x / 2.0, 1.0 / x, x**2.0, 2.0**x):
        assert r.dtype == np.float32


def test_int_tensor_with_scalars():
    i = Tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64
    assert (i * 2).dtype == np.int64
    r = i + 0.5
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.numpy(), [1.5, 2.5, 3.5])
    assert (0.5 * i).dtype == np.float32


@pytest.mark.parametrize(
    "name, fn, torch_name",
    [
        ("clip", lambda t: t.clip(0.5, 2.5), "clamp"),
        ("clip-low", lambda t: t.clip(0.5), "clamp"),
        ("clip-high", lambda t: t.clip(None, 2.5), "clamp"),
        ("leaky_relu", lambda t: t.leaky_relu(0.1), None),
        ("leaky_relu-default", lambda t: t.leaky_relu(), None),
    ],
)
def test_int_tensor_with_float_scalar_parameter_gives_default_float(name, fn, torch_name):
    """As with ``int_tensor + 0.5``: the default float dtype (torch.clamp gives float32)."""
    i = Tensor([1, -2, 3])
    out = fn(i)
    assert out.dtype == np.float32, name
    np.testing.assert_allclose(out.numpy(), fn(Tensor([1.0, -2.0, 3.0])).numpy())
    assert i.clip(0, 2).dtype == np.int64  # int bounds keep an int tensor int
    if torch_name is not None:
        torch = pytest.importorskip("torch")
        want = fn(torch.tensor([1, -2, 3]))
        assert want.dtype == torch.float32
        np.testing.assert_allclose(out.numpy(), want.numpy())


def test_int_division_gives_default_float():
    i = Tensor([1, 2, 3])
    j = Tensor([2, 2, 2])
    r = i / j
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.numpy(), [0.5, 1.0, 1.5])
    assert (i / 2).dtype == np.float32


@pytest.mark.parametrize("method", ["exp", "log", "sqrt", "sigmoid", "tanh", "mean", "softmax"])
def test_float_valued_ops_on_ints_give_default_float(method):
    i = Tensor([1, 2, 3])
    r = getattr(i, method)()
    assert r.dtype == np.float32
    ref = {
        "exp": np.exp([1, 2, 3]),
        "log": np.log([1, 2, 3]),
        "sqrt": np.sqrt([1, 2, 3]),
        "sigmoid": 1 / (1 + np.exp(-np.array([1, 2, 3]))),
        "tanh": np.tanh([1, 2, 3]),
        "mean": 2.0,
        "softmax": np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(),
    }[method]
    np.testing.assert_allclose(r.numpy(), ref, rtol=1e-6)


def test_int_sum_stays_int():
    r = Tensor([1, 2, 3]).sum()
    assert r.dtype == np.int64 and r.item() == 6


@pytest.mark.parametrize(
    "data, axis, expected",
    [
        (np.array([True, True, False]), None, 2),  # a count of matches, as accuracy needs
        (np.array([[True, True], [True, False]]), 1, [2, 1]),
        (np.array([200, 200], np.uint8), None, 400),  # no wrap-around of small ints
        (np.array([2**31 - 1, 1], np.int32), 0, 2**31),
        (np.array([-3, 1], np.int8), None, -2),
    ],
)
def test_bool_and_integer_sums_are_int64_as_torch(data, axis, expected):
    result = Tensor(data).sum(axis=axis)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result.numpy(), expected)
    torch = pytest.importorskip("torch")
    want = torch.from_numpy(data).sum() if axis is None else torch.from_numpy(data).sum(axis)
    assert str(want.dtype) == "torch.int64"
    np.testing.assert_array_equal(result.numpy(), want.numpy())


def test_mixed_float_tensors_promote():
    a = Tensor([1.0], dtype="float32")
    b = Tensor([1.0], dtype="float64")
    assert (a + b).dtype == np.float64
    assert (b * a).dtype == np.float64
    assert (Tensor([1, 2]) + Tensor([0.5, 0.5], dtype="float64")).dtype == np.float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_has_tensor_dtype(dtype):
    x = Tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    (x * 2.5).exp().sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


def test_gradient_dtypes_with_mixed_inputs():
    x = Tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    y = Tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.dtype == np.float32
    assert y.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 2.0])


def test_set_default_dtype_float64(float64_default):
    assert Tensor([1.5]).dtype == np.float64
    assert Tensor(np.array([1.5], dtype=np.float32)).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64
    assert (Tensor([1, 2]) + 0.5).dtype == np.float64
    assert (Tensor([1, 2]) / Tensor([2, 2])).dtype == np.float64
    assert Tensor([1, 2]).mean().dtype == np.float64
    assert tg.zeros(2).dtype == np.float64
    assert tg.ones(2).dtype == np.float64
    assert (Tensor([1.0]) + 2.5).dtype == np.float64


def test_default_dtype_restored():
    assert Tensor([1.5]).dtype == np.float32
    assert tg.zeros(1).dtype == np.float32


# --- attributes -----------------------------------------------------------------------


def test_attributes():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size == 24 and isinstance(t.size, int)
    assert isinstance(t.dtype, np.dtype)
    assert t.device == "cpu"
    assert t.name is None
    assert Tensor([1.0], name="w").name == "w"
    assert isinstance(t.data, np.ndarray)
    assert t.grad is None
    assert t.requires_grad is False


def test_is_leaf():
    x = Tensor([1.0], requires_grad=True)
    assert x.is_leaf
    assert not (x * 2).is_leaf
    c = Tensor([1.0])
    assert c.is_leaf
    assert (c * 2).is_leaf  # no grad needed: a leaf, as in PyTorch


def test_T():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(a)
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.numpy(), a.T)
    assert Tensor(np.zeros((2, 3, 4))).T.shape == (4, 3, 2)


# --- conversions ----------------------------------------------------------------------


def test_numpy_returns_copy():
    t = Tensor([1.0, 2.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    a[0] = 50.0
    assert t.numpy()[0] == 1.0


def test_numpy_with_requires_grad_returns_copy():
    t = Tensor([1.0, 2.0], requires_grad=True)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[1] = 50.0
    assert t.numpy()[1] == 2.0


def test_item_and_tolist():
    assert Tensor(2.5).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    assert isinstance(Tensor(7).item(), int)
    assert Tensor([[4.0]]).item() == 4.0
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert Tensor([1.5, -0.5]).tolist() == [1.5, -0.5]


def test_to_cpu_and_cpu():
    t = Tensor([1.0, 2.0])
    for r in (t.to("cpu"), t.cpu()):
        assert isinstance(r, Tensor)
        assert r.device == "cpu"
        assert r.numpy().tolist() == [1.0, 2.0]


def test_astype():
    t = Tensor([1.7, -2.2])
    d = t.astype("float64")
    assert d.dtype == np.float64
    np.testing.assert_allclose(d.numpy(), [1.7, -2.2], rtol=1e-6)
    i = t.astype(tg.int64)
    assert i.dtype == np.int64
    assert i.tolist() == [1, -2]


def test_astype_is_differentiable():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.astype(tg.float64)
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_requires_grad_():
    t = Tensor([1.0])
    r = t.requires_grad_()
    assert r is t and t.requires_grad is True
    t.requires_grad_(False)
    assert t.requires_grad is False


# --- factories ------------------------------------------------------------------------


def test_tensor_factory():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(t, Tensor) and t.requires_grad and t.dtype == np.float32
    assert tg.tensor([1, 2], dtype="float64").dtype == np.float64


@pytest.mark.parametrize("name, fill", [("zeros", 0.0), ("ones", 1.0)])
def test_zeros_ones(name, fill):
    factory = getattr(tg, name)
    for t in (factory(2, 3), factory((2, 3))):
        assert t.shape == (2, 3) and t.dtype == np.float32
        assert (t.numpy() == fill).all()
    assert factory(4).shape == (4,)
    assert factory(()).shape == ()


def test_full():
    t = tg.full((2, 2), 7.5)
    assert t.shape == (2, 2) and t.dtype == np.float32
    assert (t.numpy() == 7.5).all()
    assert tg.full((3,), 2.0, dtype="float64").dtype == np.float64


def test_like_factories():
    src = Tensor(np.ones((2, 3)), dtype="float64")
    for factory, fill in ((tg.zeros_like, 0.0), (tg.ones_like, 1.0)):
        t = factory(src)
        assert t.shape == (2, 3) and t.dtype == np.float64
        assert (t.numpy() == fill).all()
    assert tg.zeros_like(Tensor([1, 2])).dtype == np.int64
    assert tg.ones_like(src, dtype="float32").dtype == np.float32


def test_arange():
    a = tg.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert tg.arange(1, 4).tolist() == [1, 2, 3]
    f = tg.arange(0, 1, 0.25)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.numpy(), [0.0, 0.25, 0.5, 0.75])
    assert tg.arange(3, dtype="float64").dtype == np.float64


def test_eye():
    e = tg.eye(3)
    assert e.dtype == np.float32
    np.testing.assert_array_equal(e.numpy(), np.eye(3))


def test_rand_and_randn():
    r = tg.rand(200, 50)
    assert r.shape == (200, 50) and r.dtype == np.float32
    assert r.numpy().min() >= 0.0 and r.numpy().max() < 1.0
    assert tg.rand((2, 3)).shape == (2, 3)
    n = tg.randn((200, 50))
    assert n.shape == (200, 50) and n.dtype == np.float32
    assert abs(n.numpy().mean()) < 0.05
    assert abs(n.numpy().std() - 1.0) < 0.05
    assert tg.randn(4, 5).shape == (4, 5)
    assert tg.randn(3, dtype="float64").dtype == np.float64


def test_rand_of_float16_stays_below_one():
    # A float32 draw rounded to float16 gave exactly 1.0 about once in 4,000 samples.
    tg.manual_seed(0)
    values = tg.rand(200_000, dtype="float16").numpy()
    assert values.dtype == np.float16
    assert values.min() >= 0 and values.max() < 1.0
    assert len(np.unique(values)) == 2048  # every step of float16's grid below 1 is drawn
    assert abs(float(values.astype(np.float64).mean()) - 0.5) < 0.01


@pytest.mark.parametrize("factory", ["rand", "randn"])
def test_manual_seed_reproducible(factory):
    tg.manual_seed(123)
    a = getattr(tg, factory)(4, 3).numpy()
    b = getattr(tg, factory)(4, 3).numpy()
    tg.manual_seed(123)
    c = getattr(tg, factory)(4, 3).numpy()
    tg.manual_seed(124)
    d = getattr(tg, factory)(4, 3).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, d)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: tg.zeros(2, 3, **kw),
        lambda **kw: tg.ones((2, 3), **kw),
        lambda **kw: tg.full((2, 3), 1.5, **kw),
        lambda **kw: tg.rand(2, 3, **kw),
        lambda **kw: tg.randn(2, 3, **kw),
        lambda **kw: tg.eye(3, **kw),
        lambda **kw: tg.arange(0.0, 3.0, 1.0, **kw),
        lambda **kw: tg.tensor([1.0, 2.0], **kw),
        lambda **kw: tg.zeros_like(Tensor([1.0, 2.0]), **kw),
        lambda **kw: tg.ones_like(Tensor([1.0, 2.0]), **kw),
    ],
    ids=[
        "zeros",
        "ones",
        "full",
        "rand",
        "randn",
        "eye",
        "arange",
        "tensor",
        "zeros_like",
        "ones_like",
    ],
)
def test_factory_keywords(make):
    t = make(dtype="float64", device="cpu", requires_grad=True)
    assert t.dtype == np.float64
    assert t.device == "cpu"
    assert t.requires_grad is True
    assert t.is_leaf


# --- repr -----------------------------------------------------------------------------


def test_repr_of_op_result():
    x = Tensor([1.5, 2.0], requires_grad=True)
    r = repr(x * 1.0)
    assert r.startswith("Tensor([1.5, 2.")
    for part in ("shape=(2,)", "dtype=float32", "device=cpu", "grad_fn=<MulBackward>"):
        assert part in r, (part, r)
    assert "requires_grad" not in r
    assert "AddBackward" in repr(x + x)
    assert "MulBackward" in repr((x * x).grad_fn)


def test_repr_of_leaf_and_plain_tensor():
    leaf = repr(Tensor([1.5, 2.0], requires_grad=True))
    assert "requires_grad=True" in leaf and "grad_fn" not in leaf
    plain = repr(Tensor([1, 2]))
    assert plain.startswith("Tensor([1, 2]")
    assert "dtype=int64" in plain and "shape=(2,)" in plain and "device=cpu" in plain
    assert "requires_grad" not in plain and "grad_fn" not in plain
    assert "shape=()" in repr(Tensor(3.0))


# --- NumPy and DLPack interop ---------------------------------------------------------


def test_np_asarray_shares_memory():
    t = Tensor([1.0, 2.0, 3.0])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray)
    assert np.shares_memory(a, t.data)
    a[0] = 10.0
    assert t.numpy()[0] == 10.0
    assert np.array(t).tolist() == [10.0, 2.0, 3.0]


def test_ndarray_left_of_operator_gives_tensor():
    t = Tensor([1.0, 2.0, 4.0], requires_grad=True)
    a = np.array([5.0, 5.0, 5.0])
    cases = {
        "add": (a + t, [6.0, 7.0, 9.0]),
        "sub": (a - t, [4.0, 3.0, 1.0]),
        "mul": (a * t, [5.0, 10.0, 20.0]),
        "div": (a / t, [5.0, 2.5, 1.25]),
    }
    for name, (r, expected) in cases.items():
        assert isinstance(r, Tensor), name
        np.testing.assert_allclose(r.numpy(), expected, err_msg=name)
    m = np.ones((2, 3)) @ t
    assert isinstance(m, Tensor)
    np.testing.assert_allclose(m.numpy(), [7.0, 7.0])
    (np.full(3, 2.0) * t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 2.0, 2.0])
    c = np.array([1.0, 3.0, 3.0]) < t
    assert isinstance(c, Tensor) and c.tolist() == [False, False, True]


def test_from_dlpack_torch_shares_memory():
    torch = pytest.importorskip("torch")
    src = torch.arange(4, dtype=torch.float64)
    t = tg.from_dlpack(src)
    assert isinstance(t, Tensor)
    assert t.dtype == np.float64  # from_dlpack keeps the dtype
    assert t.shape == (4,)
    src[0] = 100.0
    assert t.numpy()[0] == 100.0
    t.data[1] = -3.0
    assert src[1].item() == -3.0
    assert tg.from_dlpack(torch.tensor([1, 2])).dtype == np.int64


def test_torch_from_dlpack_shares_memory():
    torch = pytest.importorskip("torch")
    t = Tensor([1.0, 2.0, 3.0])
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32
    assert tt.tolist() == [1.0, 2.0, 3.0]
    t.data[0] = 7.0
    assert tt[0].item() == 7.0
    tt[2] = -1.0
    assert t.numpy()[2] == -1.0
    rt = torch.from_dlpack(Tensor([1.0, 2.0], requires_grad=True))
    assert rt.tolist() == [1.0, 2.0]


def test_from_dlpack_refuses_complex_data_as_tensor_does():
    # Wrapped, exp() dropped the imaginary parts with only a NumPy warning.
    for source in (np.array([1 + 2j, 3 - 1j]), np.array([1j], dtype=np.complex64)):
        with pytest.raises(TypeError, match="from_dlpack: expected numbers or booleans.*complex"):
            tg.from_dlpack(source)
    with pytest.raises(TypeError, match="Tensor: expected numbers or booleans"):
        Tensor(np.array([1 + 2j]))


def test_numpy_dlpack_round_trip():
    t = Tensor([1.0, 2.0])
    assert tuple(t.__dlpack_device__()) == (1, 0)
    a = np.from_dlpack(t)
    assert np.shares_memory(a, t.data)
    src = np.array([1.0, 2.0, 3.0])
    back = tg.from_dlpack(src)
    assert back.dtype == np.float64
    src[2] = 30.0
    assert back.numpy()[2] == 30.0


# --- bad input ------------------------------------------------------------------------


def test_add_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as exc:
        Tensor(np.zeros((2, 3))) + Tensor(np.zeros((4, 5)))
    msg = str(exc.value)
    assert "(2, 3)" in msg and "(4, 5)" in msg, msg


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as exc:
        Tensor(np.zeros((2, 3))) @ Tensor(np.zeros((4, 5)))
    msg = str(exc.value)
    assert "(2, 3)" in msg and "(4, 5)" in msg, msg


def test_matmul_with_a_number_is_a_type_error_as_torch():
    t = Tensor(np.ones(2))
    for attempt in (
        lambda: t @ 2.0,
        lambda: 2.0 @ t,
        lambda: t @ np.float32(2),
        lambda: t.matmul(2),
    ):
        with pytest.raises(TypeError, match="@|matmul"):
            attempt()


def test_reshape_wrong_size():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        t.reshape(4)
    with pytest.raises(ValueError):
        t.reshape(4, -1)
    assert t.reshape(3, -1).shape == (3, 2)


def test_axis_out_of_range():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError):
        t.sum(axis=2)
    with pytest.raises(IndexError):
        t.sum(axis=-3)
    with pytest.raises(IndexError):
        t.mean(axis=5)
    with pytest.raises(IndexError):
        t.max(axis=(0, 2))


def test_index_out_of_range():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError):
        t[5]
    with pytest.raises(IndexError):
        t[np.array([0, 7])]
    with pytest.raises(IndexError):
        Tensor(np.zeros((2, 3)))[:, 3]


@pytest.mark.parametrize(
    "index",
    [
        [3],
        [-4],
        np.array([0, 5]),
        "tensor",
        (slice(None), [2]),
        (Ellipsis, [-3]),
        (None, [0, 3]),
        ([0], [1], [4]),
    ],
    ids=["list", "negative", "ndarray", "tensor", "second axis", "ellipsis", "none", "three"],
)
def test_an_index_array_out_of_range_is_an_index_error_on_every_device(device, index):
    # CuPy wraps such indices around silently (x[[3]] of 3 elements is x[0]); NumPy raises.
    shape = (3,) if not isinstance(index, tuple) else (3, 2, 4)[: max(len(index), 2)]
    if isinstance(index, tuple) and index[0] is Ellipsis:
        shape = (2, 2)
    if isinstance(index, tuple) and index[0] is None:
        shape = (3,)
    if isinstance(index, str):
        index = Tensor([1, 3], device=device)
    x = Tensor(np.arange(float(np.prod(shape))).reshape(shape), device=device, requires_grad=True)
    with pytest.raises(IndexError, match="out of bounds"):
        x[index]


def test_masks_over_an_axis_of_one_and_empty_index_arrays_work_on_every_device(device):
    x = Tensor(np.array([[1.0, 2.0]]), device=device)
    assert x[np.array([True])].shape == (1, 2)
    assert x[x[:, 0] > 0].shape == (1, 2)
    assert x[[False]].shape == (0, 2)
    y = Tensor(np.zeros((3, 4)), device=device)
    assert y[np.array([5]), np.array([], dtype=np.int64)].shape == (0,)  # NumPy checks none
    assert y[np.zeros(3, dtype=bool), np.array([5])].shape == (0,)  # a mask that selects none
    with pytest.raises(IndexError):
        y[np.ones(3, dtype=bool), np.array([5])]
    empty = Tensor(np.zeros(0, np.int64), device=device)
    assert (empty**-1).shape == (0,)


def test_in_range_index_arrays_keep_working_on_every_device(device):
    x = Tensor(np.arange(12.0).reshape(3, 4), device=device, requires_grad=True)
    picked = x[[-1, 0, 2], ..., None][:, [-4, 3]]
    np.testing.assert_array_equal(picked.numpy()[:, :, 0], [[8.0, 11.0], [0.0, 3.0], [8.0, 11.0]])
    masked = x[np.array([True, False, True]), [-1, 0]]
    np.testing.assert_array_equal(masked.numpy(), [3.0, 8.0])
    (picked.sum() + masked.sum()).backward()
    expected = np.zeros((3, 4))
    np.add.at(expected, ([2, 0, 2], [0, 0, 0]), 1)
    np.add.at(expected, ([2, 0, 2], [3, 3, 3]), 1)
    expected[0, 3] += 1
    expected[2, 0] += 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_squeeze_of_non_unit_axis():
    t = Tensor(np.zeros((2, 1)))
    with pytest.raises(ValueError):
        t.squeeze(0)
    assert t.squeeze(1).shape == (2,)
    assert t.squeeze().shape == (2,)


@pytest.mark.parametrize("bad", ["abc", ["a", "b"], None, object(), {"a": 1}])
def test_constructor_rejects_non_numeric(bad):
    with pytest.raises(TypeError):
        Tensor(bad)


def test_operator_with_wrong_type():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        t + "x"
    with pytest.raises(TypeError):
        "x" + t
    with pytest.raises(TypeError):
        t * None


@cuda
@needs_cuda
def test_mixed_devices_name_both():
    a = Tensor([1.0, 2.0], device="cpu")
    b = Tensor([1.0, 2.0], device="cuda")
    for op in (lambda: a + b, lambda: b * a, lambda: a @ b):
        with pytest.raises(RuntimeError) as exc:
            op()
        msg = str(exc.value)
        assert "cpu" in msg and "cuda" in msg, msg


def test_tensor_of_a_tensor_stays_on_its_device(device):
    """Tensor(t) copies t where it is, whatever the default device (gradcheck relies on it)."""
    on_cpu = Tensor([1.0, 2.0], dtype="float64", device="cpu", requires_grad=True)
    tg.set_default_device(device)
    assert Tensor(on_cpu).device == "cpu"
    assert Tensor([1.0]).device.startswith(device)  # other data go to the default device
    assert gradcheck(lambda t: (t * t).sum(), on_cpu)


def test_cat_and_stack_put_host_values_on_the_tensors_device(device):
    """Lists and NumPy arrays join the tensors' device, as the operand of ``x + values`` does."""
    x = Tensor([[1.0, 2.0]], device=device, requires_grad=True)
    joined = tg.cat([x, np.array([[3.0, 4.0]]), [[5.0, 6.0]]])
    stacked = tg.stack([[0.0, 0.0], x[0]])
    assert joined.device == stacked.device == x.device
    np.testing.assert_array_equal(joined.numpy(), [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(stacked.numpy(), [[0, 0], [1, 2]])
    joined.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1]])


# --- scalar constants -----------------------------------------------------------------


def test_cached_scalar_keeps_the_sign_of_zero():
    """-0.0 == 0.0, but 1 / -0.0 is -inf: the cached constant of one must not serve the other."""
    x = tg.tensor([1.0])
    assert (x * 0.0).tolist() == [0.0]
    with np.errstate(divide="ignore"):
        assert (x / -0.0).tolist() == [-np.inf]
        assert (x / 0.0).tolist() == [np.inf]
        assert (x / np.float32(-0.0)).tolist() == [-np.inf]
    assert np.signbit((x * -0.0).numpy()).all()
    assert not np.signbit((x * 0.0).numpy()).any()


def test_cached_nan_constants_do_not_pile_up():
    """nan != nan: without care every nan would be a cache miss, stored anew each time."""
    tensor_module = importlib.import_module("tinygrad_dlcv.tensor")
    x = tg.tensor([1.0, 2.0])
    x * float("nan")
    size = len(tensor_module._scalar_constants)
    for _ in range(50):
        assert np.isnan((x + float("nan")).numpy()).all()
    assert len(tensor_module._scalar_constants) == size


# --- dtypes, shapes and values that cannot be ------------------------------------------


@pytest.mark.parametrize("dtype", ["complex64", np.complex128, "U5", "S3", object, "M8[s]"])
@pytest.mark.parametrize(
    "make",
    [
        lambda d: tg.tensor([1.0], dtype=d),
        lambda d: Tensor(np.ones(2), dtype=d),
        lambda d: tg.zeros(2, dtype=d),
        lambda d: tg.ones(2, dtype=d),
        lambda d: tg.full((2,), 1, dtype=d),
        lambda d: tg.arange(3, dtype=d),
        lambda d: tg.eye(2, dtype=d),
        lambda d: tg.zeros_like(tg.ones(2), dtype=d),
        lambda d: tg.rand(2, dtype=d),
        lambda d: tg.ones(2).astype(d),
        lambda d: tg.set_default_dtype(d),
    ],
    ids=[
        "tensor",
        "Tensor-ndarray",
        "zeros",
        "ones",
        "full",
        "arange",
        "eye",
        "zeros_like",
        "rand",
        "astype",
        "set_default_dtype",
    ],
)
def test_non_numeric_dtypes_are_type_errors(make, dtype):
    """Tensors hold bool, int and float only: a TypeError that names the dtype."""
    with pytest.raises(TypeError) as exc:
        make(dtype)
    assert str(np.dtype(dtype)) in str(exc.value), str(exc.value)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "int64", "float16", "float64"])
def test_numeric_dtypes_are_accepted(dtype):
    assert tg.zeros(2, dtype=dtype).dtype == np.dtype(dtype)
    assert tg.ones(2).astype(dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.zeros(2.5),
        lambda: tg.zeros((2, 2.0)),
        lambda: tg.ones("3"),
        lambda: tg.zeros(True),
        lambda: tg.zeros(np.bool_(True), 2),
        lambda: tg.rand(np.float64(2.0)),
        lambda: tg.randn(2, 1.5),
        lambda: tg.full(2.5, 1.0),
        lambda: tg.eye(2.5),
        lambda: tg.ones(6).reshape(3.9, 2),
        lambda: tg.ones(6).reshape((3.0, 2)),
        lambda: tg.ones(3).expand(2.0, 3),
        lambda: tg.ones(2, 3).permute(1.0, 0),
    ],
)
def test_non_integer_sizes_are_type_errors(make):
    """Torch raises TypeError for a float size; never a silent truncation (2.5 -> 2)."""
    with pytest.raises(TypeError, match="integer"):
        make()


def test_integer_sizes_of_every_kind_are_accepted():
    assert tg.zeros(np.int64(2), np.int32(3)).shape == (2, 3)
    assert tg.ones(6).reshape(np.array(3), Tensor(2)).shape == (3, 2)
    assert tg.zeros([2, 3]).shape == (2, 3)
    assert tg.eye(np.int8(2)).shape == (2, 2)


@pytest.mark.parametrize("data", [2**63, 2**64, -(2**63) - 1, [[1, 2], [3, 2**70]]])
def test_python_ints_beyond_int64_are_a_value_error(data):
    # NumPy made 2**63 a uint64 tensor silently, and 2**64 an object array (a TypeError).
    with pytest.raises(ValueError, match="does not fit in int64"):
        Tensor(data)


def test_int64_extremes_and_numpy_uint64_stay_as_they_are():
    assert Tensor(2**63 - 1).dtype == np.int64 and Tensor(-(2**63)).dtype == np.int64
    assert Tensor(np.uint64(2**63)).dtype == np.uint64


def test_zero_d_tensors_stand_for_numbers_in_arange_and_full():
    counted = tg.arange(tg.tensor(5))
    assert counted.dtype == np.int64 and counted.tolist() == [0, 1, 2, 3, 4]
    assert tg.arange(tg.tensor(1.0), 2.0, tg.tensor(0.5)).tolist() == [1.0, 1.5]
    filled = tg.full((2,), tg.tensor(1.5))
    assert filled.dtype == np.float32 and filled.tolist() == [1.5, 1.5]
    assert tg.full((1,), tg.tensor(3)).dtype == np.int64


def test_array_protocol_refuses_a_cast_with_copy_false():
    t = Tensor([1.0, 2.0])
    assert np.shares_memory(np.array(t, copy=False), t.data)
    with pytest.raises(ValueError, match="without a copy"):
        np.array(t, dtype=np.float64, copy=False)
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_in_place_change_of_read_only_memory_says_so():
    source = np.ones(3)
    source.flags.writeable = False
    shared = tg.from_dlpack(source)
    with pytest.raises(ValueError, match="read-only; change a copy"):
        shared += 1
    with pytest.raises(ValueError, match="broadcast view"):
        expanded = tg.ones(1).expand(3)
        expanded += 1


def test_huge_ints_with_a_dtype_that_cannot_hold_them_are_a_value_error():
    for data, dtype in ((2**64, "uint64"), (-(2**63) - 1, "int64")):
        with pytest.raises(ValueError, match=f"does not fit in {dtype}"):
            Tensor(data, dtype=dtype)
    assert Tensor(2**70, dtype="float64").item() == float(2**70)


def test_a_0d_comparison_is_a_0d_bool_array():
    for result in (Tensor(np.array(5)) < 3, Tensor(5.0) < 3, Tensor(2.0) == Tensor(2.0)):
        assert isinstance(result.data, np.ndarray) and result.data.shape == ()
        assert np.asarray(result).dtype == np.bool_ and result.numpy().shape == ()


def test_huge_ints_with_a_dtype_that_holds_them():
    assert Tensor(2**63, dtype="uint64").item() == 2**63
    assert Tensor([2**64 - 1], dtype="uint64").tolist() == [2**64 - 1]
    assert Tensor(2**63, dtype="float64").item() == float(2**63)


def test_comparing_an_int_tensor_with_an_int_outside_its_dtype_is_exact(device):
    # A constant in the tensor's dtype cannot hold 10**6 or -1 (it was a ValueError);
    # the answer is exact, as NumPy's (torch would wrap the int), on every device.
    small = Tensor([1, 2], dtype="int16", device=device)
    assert (small > 10**6).tolist() == [False, False]
    assert (small < 10**6).tolist() == [True, True]
    assert (10**6 <= small).tolist() == [False, False]
    byte = Tensor(np.array([255, 0], dtype=np.uint8), device=device)
    assert (byte == -1).tolist() == [False, False] and (byte != -1).tolist() == [True, True]
    assert (byte > -1).tolist() == [True, True] and (byte >= 256).tolist() == [False, False]
    assert (Tensor([1, 2], dtype="int8", device=device) != 2**70).tolist() == [True, True]
    assert (Tensor(np.int8(3), device=device) < 1000).shape == ()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor(np.array([1, 2], dtype=np.int8)) + 1000,
        lambda: 1000 * Tensor(np.array([1, 2], dtype=np.int8)),
        lambda: Tensor(np.array([1, 2], dtype=np.uint8)) - (-1),
        lambda: Tensor(np.array([1, 2], dtype=np.int8)) ** 1000,
        lambda: Tensor([1.0]) * 10**400,
        lambda: tg.tensor([1000], dtype="int8"),
        lambda: tg.tensor(-1, dtype="uint8"),
        lambda: tg.full((2,), 1000, dtype="int8"),
    ],
)
def test_value_out_of_the_dtype_range_is_a_value_error(make):
    """Not NumPy's OverflowError (no error kind of ours), nor a silent wrap-around: a
    ValueError naming the op and the dtype."""
    with pytest.raises(ValueError) as exc:
        make()
    msg = str(exc.value)
    assert any(dtype in msg for dtype in ("int8", "uint8", "int16", "float32")), msg
    assert any(op in msg for op in ("add", "mul", "sub", "pow", "comparison", "Tensor", "full")), (
        msg
    )


# --- axes of a 0-d tensor and empty indices ------------------------------------------------


@pytest.mark.parametrize("axis", [0, -1])
def test_0d_tensor_takes_axis_0_and_minus_1(axis):
    """As torch: a 0-d tensor has axes 0 and -1 for reductions, squeeze and argmax."""
    s = Tensor(2.5)
    for out in (s.sum(axis), s.max(axis), s.min(axis), s.mean(axis), s.squeeze(axis)):
        assert out.shape == () and out.item() == 2.5
    assert s.sum(axis, keepdims=True).shape == ()
    assert s.argmax(axis).item() == 0 and s.argmin(axis).item() == 0
    assert s.flatten(axis).shape == (1,)


@pytest.mark.parametrize("axis", [1, -2, 5])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "argmax", "squeeze", "flatten"])
def test_0d_tensor_other_axes_are_index_errors_naming_the_op(op, axis):
    with pytest.raises(IndexError, match=op):
        getattr(Tensor(2.5), op)(axis)


def test_empty_index_list_is_an_empty_integer_index():
    """NumPy and torch: ``x[[]]`` selects no rows, shape (0, 3); the gradient is all zeros."""
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = x[[]]
    assert out.shape == (0, 3)
    assert x[:, []].shape == (2, 0)
    assert x[[], 1].shape == (0,)
    (out.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    torch = pytest.importorskip("torch")
    assert tuple(torch.ones(2, 3)[[]].shape) == out.shape


# --------------------------------------------------------------------------- in-place arithmetic


def test_in_place_update_under_no_grad_changes_the_parameter_itself(device):
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, -2.0], [0.5, 3.0]])
    ours = Tensor(values, dtype="float64", requires_grad=True, device=device)
    theirs = torch.tensor(values, requires_grad=True)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    before = ours
    with tg.no_grad():
        ours -= 0.1 * ours.grad
        ours *= 2.0
        ours += 1
        ours /= Tensor([[2.0, 4.0]], dtype="float64", device=device)
    with torch.no_grad():
        theirs -= 0.1 * theirs.grad
        theirs *= 2.0
        theirs += 1
        theirs /= torch.tensor([[2.0, 4.0]], dtype=torch.float64)
    assert ours is before and ours.requires_grad and ours.is_leaf  # the same tensor, changed
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-15)


def test_in_place_on_a_leaf_that_requires_grad_while_recording_is_an_error():
    weight = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        weight -= 1.0
    np.testing.assert_array_equal(weight.numpy(), np.ones(3))  # nothing changed


def test_in_place_inside_a_recorded_graph_gives_a_new_node():
    x = tg.ones(3, requires_grad=True)
    hidden = x * 2
    hidden += x  # recorded: a new node, which the name now holds
    hidden.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3.0))


def test_in_place_keeps_the_dtype_and_refuses_what_does_not_fit():
    counts = tg.tensor([1, 2, 3])
    counts += 2
    assert counts.dtype == np.int64 and counts.tolist() == [3, 4, 5]
    with pytest.raises(TypeError, match="int64"):
        counts += 0.5  # as torch: a float result cannot be stored in an int tensor
    with pytest.raises(TypeError, match="int64"):
        counts /= 2
    assert counts.tolist() == [3, 4, 5]
    halves = tg.ones(2)
    halves *= np.float64(0.5)  # a float64 scalar does not widen float32
    assert halves.dtype == np.float32 and halves.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="in place"):
        halves += tg.ones(3)  # the result would not have the tensor's shape


def test_format_of_a_zero_d_tensor_formats_its_value():
    assert f"{tg.tensor(1.23456):.3f}" == "1.235"
    assert f"{tg.tensor(7):>3d}" == "  7"
    assert f"{tg.tensor([1.5])}" == str(tg.tensor([1.5]))
    with pytest.raises(TypeError):
        f"{tg.tensor([1.5, 2.5]):.2f}"  # as torch: only 0-d tensors take a format spec


def test_numpy_integer_scalars_that_do_not_fit_are_an_error():
    small = Tensor(np.array([1], np.int8))
    with pytest.raises(ValueError, match="does not fit"):
        small + np.int64(1000)
    with pytest.raises(ValueError, match="do not fit"):
        Tensor([float("nan")], dtype="int64")


def test_softmax_of_the_float32_extremes_gives_no_warning():
    import warnings

    x = tg.tensor([[3.4e38, 0.0, -3.4e38]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities = x.softmax(-1)
        log_probabilities = x.log_softmax(-1)
        total = x.logsumexp()
    assert probabilities.tolist() == [[1.0, 0.0, 0.0]]
    first, middle, last = log_probabilities.tolist()[0]
    assert first == 0.0 and np.isclose(middle, -3.4e38, rtol=1e-6) and last == -np.inf
    assert np.isclose(total.item(), 3.4e38, rtol=1e-6)


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tg.zeros(-1), ValueError, "zeros: got size -1"),
        (lambda: tg.eye(-1), ValueError, "eye"),
        (lambda: tg.ones(6).reshape(-2, 3), ValueError, "reshape: got size -2"),
        (lambda: tg.full((2,), None), TypeError, "full: fill_value"),
        (lambda: tg.full((2,), float("nan"), dtype="int64"), ValueError, "full: nan"),
        (lambda: tg.zeros_like([1, 2]), TypeError, "_like"),
        (lambda: tg.manual_seed(None), TypeError, "manual_seed"),
        (lambda: tg.cat(tg.ones(2, 2)), TypeError, "cat: expected a list"),
        (lambda: tg.stack(5), TypeError, "stack: expected a list"),
        (lambda: tg.where("x", tg.ones(2), 0.0), TypeError, "where: the condition"),
        (lambda: tg.where(np.array([0.5, 1.0]), tg.ones(2), 0.0), TypeError, "where"),
        (lambda: tg.ones(2).astype(None), TypeError, "astype: not a dtype"),
        (lambda: tg.ones(2, requires_grad=True).register_hook(5), TypeError, "register_hook"),
    ],
)
def test_bad_arguments_raise_the_contracts_error_naming_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_in_place_integer_overflow_is_a_value_error():
    small = Tensor(np.array([1], np.int8))
    with pytest.raises(ValueError, match="in place"):
        small += 1000
    assert small.tolist() == [1]
    assert tg.ones(6).reshape(-1, 3).shape == (2, 3)  # -1 still infers a size


# --------------------------------------------------------------------------- review fixes


def test_float64_host_operands_keep_their_precision_next_to_a_float64_tensor():
    x = tg.tensor([0.1], dtype="float64")
    assert (x == np.array([0.1])).item()
    assert (tg.tensor([0.0], dtype="float64") + np.array([0.1])).item() == 0.1
    assert (tg.tensor([0.0], dtype="float64") + [0.1]).item() == 0.1
    assert tg.cat([x, np.array([0.1])]).numpy().tolist() == [0.1, 0.1]
    assert tg.stack([np.array([0.1]), x]).numpy().ravel().tolist() == [0.1, 0.1]
    assert tg.where(np.array([True]), np.array([0.3]), x).item() == 0.3
    # Next to a float32 tensor float data still take the default dtype, as Tensor(data).
    assert (tg.tensor([1.0]) + np.array([0.1])).dtype == np.float32
    assert tg.cat([tg.tensor([1.0]), np.array([0.1])]).dtype == np.float32


@pytest.mark.parametrize("function", [tg.maximum, tg.minimum])
def test_maximum_and_minimum_with_a_scalar_first_keep_the_tensor_dtype(function):
    x = tg.tensor([-1.0, 2.0])
    assert function(0, x).dtype == np.float32 == function(x, 0).dtype
    np.testing.assert_array_equal(function(0, x).numpy(), function(x, 0).numpy())
    wide = tg.tensor([0.0], dtype="float64")
    assert tg.maximum(0.1, wide).item() == 0.1 and tg.minimum(0.1, -wide).item() == 0.0


@pytest.mark.parametrize(
    "same_shape",
    [
        lambda h: h.reshape(2),
        lambda h: h.expand(2),
        lambda h: h.squeeze(),
        lambda h: h.T,
        lambda h: h.transpose(),
        lambda h: h.flatten(),
    ],
)
def test_shape_ops_that_change_nothing_still_make_a_node_as_torch(same_shape):
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = same_shape(x)
    assert h is not x and not h.is_leaf and h.grad_fn is not None
    seen = []
    h.retain_grad()
    h.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3 + h * h).sum().backward()
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    ht = xt.reshape(2)
    ht.retain_grad()
    (xt * 3 + ht * ht).sum().backward()
    assert h.grad.tolist() == ht.grad.tolist() == seen[0]  # only the path through h
    assert x.grad.tolist() == xt.grad.tolist()


def test_an_expand_to_the_same_shape_is_writable_like_a_reshape():
    x = tg.tensor([1.0, 2.0])
    y = x.expand(2)
    y += 1  # not a broadcast view: nothing is written twice
    assert y.tolist() == [2.0, 3.0]


def test_clip_takes_lo_and_hi_and_an_empty_range_gives_hi_as_numpy_and_torch():
    torch = pytest.importorskip("torch")
    values = [1.0, 5.0, -3.0]
    x = tg.tensor(values, requires_grad=True)
    y = x.clip(lo=1, hi=0)
    xt = torch.tensor(values, requires_grad=True)
    yt = xt.clamp(1, 0)
    assert y.tolist() == yt.tolist() == np.clip(values, 1, 0).tolist()
    y.sum().backward()
    yt.sum().backward()
    assert x.grad.tolist() == xt.grad.tolist()
    with pytest.raises(TypeError, match="clip: bounds must be numbers"):
        x.clip(tg.tensor([0.0]), 1)


def test_a_ragged_list_is_a_value_error_about_its_shape():
    with pytest.raises(ValueError, match="inhomogeneous"):
        Tensor([[1, 2], [3]])


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda: -tg.tensor([True]), "neg"),
        (lambda: tg.tensor([True]) - tg.tensor([False]), "sub"),
    ],
)
def test_numpys_type_errors_name_the_op(call, op):
    with pytest.raises(TypeError, match=rf"^{op}: .*\(shapes"):
        call()


def test_function_forms_forward_to_the_methods():
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    assert tg.exp(x).tolist() == x.exp().tolist()
    assert tg.sum(x, axis=0).tolist() == [4.0, 2.0]
    assert tg.abs(x).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tg.matmul(x, x).tolist() == (x @ x).tolist()
    assert tg.clip(x, 0, 2).tolist() == [[1.0, 0.0], [2.0, 2.0]]
    assert tg.reshape(x, 4).shape == (4,) and tg.transpose(x).tolist() == x.T.tolist()
    assert tg.log_softmax([1.0, 2.0]).shape == (2,)  # a list becomes a tensor first
    tg.mean(tg.relu(x)).backward()
    assert x.grad.tolist() == [[0.25, 0.0], [0.25, 0.25]]
    assert tg.exp.__name__ == "exp" and "x.exp(" in tg.exp.__doc__
    # The whole first paragraph of the method's docstring, and its parameters.
    assert tg.var.__doc__.endswith("or nan for constant data.")
    assert list(inspect.signature(tg.var).parameters) == ["input", "axis", "correction", "keepdims"]
    # Kept out of __all__: a star import must not replace Python's abs, sum, max, min.
    assert not {"abs", "sum", "max", "min"} & set(tg.__all__) and "exp" in tg.__all__
    assert tg.max(x, axis=0).tolist() == x.max(axis=0).tolist() and tg.min(x).item() == -2.0


def test_dlpack_of_a_reversed_view_hands_torch_a_copy_instead_of_aborting():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0, 3.0])
    assert torch.from_dlpack(x[::-1]).tolist() == [3.0, 2.0, 1.0]  # torch aborts on strides < 0
    shared = torch.from_dlpack(x)
    shared[0] = 10.0
    assert x.tolist()[0] == 10.0  # a plain tensor still shares its memory


def test_dlpack_of_a_reversed_view_with_copy_false_is_a_buffer_error():
    with pytest.raises(BufferError, match="negative strides"):
        tg.tensor([1.0, 2.0, 3.0])[::-1].__dlpack__(copy=False)


def test_an_int_tensor_divides_by_any_int_scalar():
    # int / int is a float division: the scalar never has to fit the int dtype (torch).
    small = tg.tensor([1, 2], dtype="int8")
    np.testing.assert_allclose((small / 1000).numpy(), [0.001, 0.002], rtol=1e-6)
    np.testing.assert_allclose((1000 / small).numpy(), [1000.0, 500.0])
    np.testing.assert_array_equal((tg.tensor([1, 2], dtype="uint8") / -1).numpy(), [-1.0, -2.0])
    np.testing.assert_allclose((small / np.int64(1000)).numpy(), [0.001, 0.002], rtol=1e-6)
    assert (small / 1000).dtype == np.float32


@pytest.mark.parametrize(
    "call",
    [
        lambda: tg.tensor([1.0], requires_grad="no"),
        lambda: tg.zeros(2, requires_grad=1),
        lambda: tg.ones(2).sum(keepdims=1),
        lambda: tg.ones(2).mean(keepdims=1),
        lambda: tg.ones(2).max(keepdims=0),
        lambda: tg.ones(2).argmax(keepdims="a"),
        lambda: tg.arange(None),
        lambda: tg.arange(0, "5"),
        lambda: tg.ones(3).var(correction="1"),
        lambda: tg.ones(2).sum(keepdims="a"),
        lambda: tg.ones(1, requires_grad=True).sum().backward(create_graph="a"),
        lambda: tg.ones(1, requires_grad=True).sum().backward(retain_grad=None),
    ],
)
def test_flags_and_numbers_of_another_type_are_type_errors(call):
    # bool("no") is True: a flag taken by its truth would silently do the opposite.
    with pytest.raises(TypeError):
        call()


def test_var_correction_none_is_the_default_as_torch():
    x = tg.tensor([1.0, 2.0, 4.0])
    assert x.var(correction=None).item() == x.var().item()


def test_a_numpy_int_correction_does_not_widen_var():
    x = tg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    out = x.var(correction=np.int64(1))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), np.var([1.0, 2.0, 4.0], ddof=1), rtol=1e-6)


def test_grad_names_itself_for_arguments_of_another_type():
    x = tg.ones(2, requires_grad=True)
    total = (x * 2).sum()
    for call, word in [
        (lambda: tg.grad(total, x, grad_outputs=3.0), "grad_outputs"),
        (lambda: tg.grad(3.0, x), "outputs"),
        (lambda: tg.grad(total, 3.0), "inputs"),
        (lambda: tg.grad(total, x, create_graph="a"), "create_graph"),
    ]:
        with pytest.raises(TypeError, match=f"grad: {word}"):
            call()
    # Iterables are taken as torch takes them: model.parameters() is a generator.
    (first,) = tg.grad(total, (t for t in [x]), grad_outputs=iter([None]))
    np.testing.assert_array_equal(first.numpy(), [2.0, 2.0])


def _both(torch, values, dtype=None):
    """The same values as one of ours and one of torch's."""
    return tg.tensor(values, dtype=dtype), torch.tensor(values)


@pytest.mark.parametrize(
    "compute",
    [
        lambda a: a // 2,
        lambda a: a % 3,
        lambda a: 7 // a,
        lambda a: 7 % a,
        lambda a: a // 2.0,
        lambda a: a | 1,
        lambda a: 6 & a,
        lambda a: a ^ 3,
        lambda a: ~a,
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_integer_ops_equal_torch(compute, dtype):
    torch = pytest.importorskip("torch")
    ours = tg.tensor([5, -7, 2], dtype=dtype)
    theirs = torch.tensor([5, -7, 2], dtype=getattr(torch, dtype))
    result, expected = compute(ours), compute(theirs)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")


def test_masks_combine_with_and_or_not():
    x = tg.tensor([0.5, 2.0, 3.0, 9.0])
    inside = (x > 1) & (x < 5)
    np.testing.assert_array_equal(inside.numpy(), [False, True, True, False])
    np.testing.assert_array_equal(x[~inside].numpy(), [0.5, 9.0])
    np.testing.assert_array_equal(((x < 1) | (x > 5)).numpy(), ~inside.numpy())
    np.testing.assert_array_equal(((x > 1) ^ (x > 2.5)).numpy(), [False, True, False, False])
    with pytest.raises(TypeError, match="bitwise_and"):
        x & x  # torch: not implemented for float
    with pytest.raises(TypeError, match="bitwise_not"):
        ~x  # noqa: B018


def test_remainder_has_torchs_gradient_and_floor_division_none():
    torch = pytest.importorskip("torch")
    a, b = tg.tensor([5.0, -7.0], requires_grad=True), tg.tensor([2.0, 3.0], requires_grad=True)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in ([5.0, -7.0], [2.0, 3.0]))
    (a % b).sum().backward()
    (ta % tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())  # -floor(a / b)
    assert not (a // b).requires_grad  # torch: no derivative for floor_divide
    for call in (lambda: tg.tensor([1, 2]) // 0, lambda: tg.tensor([1, 2]) % 0):
        with pytest.raises(ZeroDivisionError):
            call()
        with pytest.raises(RuntimeError, match="division by zero"):  # torch's type
            call()
    for call in (lambda: tg.tensor([True]) % True, lambda: tg.tensor([True]) // True):
        with pytest.raises(TypeError, match="bool"):  # torch: not implemented for bool
            call()
    # d(a mod b)/db = -(a // b), which floor(a / b) is not where a / b rounds up: 1 // 0.1
    # is 9; and a finite a over an infinite b.
    numerators = [1.0, -1.0, 7.5, 0.3]
    denominators = [0.1, float("inf"), -2.0, 0.1]
    a = tg.tensor(numerators, dtype="float64", requires_grad=True)
    b = tg.tensor(denominators, dtype="float64", requires_grad=True)
    ta = torch.tensor(numerators, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(denominators, dtype=torch.float64, requires_grad=True)
    (a % b).sum().backward()
    (ta % tb).sum().backward()
    np.testing.assert_array_equal((a % b).numpy(), (ta % tb).detach().numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_in_place_power_changes_the_tensor_itself():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    alias = w
    with tg.no_grad():
        alias **= 2  # was rebound to a new tensor, the model's weight unchanged
    assert alias is w
    np.testing.assert_array_equal(w.numpy(), [1.0, 4.0, 9.0])


def test_membership_and_formatting_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _both(torch, [[1, 2], [3, 4]])
    for value in (2, 5, 3.0):
        assert (value in ours) == (value in theirs)
    with pytest.raises(TypeError):
        "a" in ours  # noqa: B015
    assert f"{tg.tensor(2.5)}" == f"{torch.tensor(2.5)}" == "2.5"
    assert f"{tg.tensor(2.5):.3f}" == "2.500"


def test_deepcopy_of_a_result_is_refused_and_of_a_leaf_is_independent():
    import copy

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(w * 3)  # its gradients would reach copies of w, never w (torch refuses)
    (w * 2).sum().backward()
    w.register_hook(lambda grad: grad * 10)
    twin = copy.deepcopy(w)
    assert twin.requires_grad and twin.is_leaf
    assert not np.shares_memory(twin.data, w.data)
    np.testing.assert_array_equal(twin.grad.numpy(), [2.0, 2.0])
    assert twin.grad is not w.grad
    (twin * 1).sum().backward()  # no hook on the copy (as torch)
    np.testing.assert_array_equal(twin.grad.numpy(), [3.0, 3.0])


def test_pickle_keeps_values_not_the_graph_nor_hooks():
    import pickle

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w * 3).sum()
    restored = pickle.loads(pickle.dumps(loss))  # a leaf now, as in torch
    assert restored.is_leaf and restored.requires_grad and restored.item() == 15.0
    assert len(pickle.dumps(loss)) < 1000  # not the graph (it was the whole of it)
    w.register_hook(lambda grad: grad)  # a lambda cannot be pickled: dropped with a warning
    with pytest.warns(UserWarning, match="hooks"):
        again = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(again.numpy(), [1.0, 2.0])


@pytest.mark.parametrize(
    "compute",
    [
        lambda x: x / 100000,
        lambda x: x * 1e5,
        lambda x: 1e5 * x,
        lambda x: x * 0.1,
        lambda x: x * 1e-5,
        lambda x: x - 7e4,  # torch rounds the number of + and - to float16 first
        lambda x: x + 0.1,
    ],
)
def test_float16_times_a_number_is_computed_as_torch(compute):
    # torch multiplies and divides float16 by a number in float32 and rounds once; the
    # number cast to float16 first was inf or 0 (x / 1e5 gave 0) or lost digits.
    torch = pytest.importorskip("torch")
    values = [1e-3, 0.5, 2.0, 3e4, 65504.0]
    ours = compute(tg.tensor(values, dtype="float16"))
    theirs = compute(torch.tensor(values, dtype=torch.float16))
    assert ours.dtype == np.float16
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_float16_scaled_in_place_as_torch():
    torch = pytest.importorskip("torch")
    values = [1e-3, 0.5, 2.0, 3e4, 65504.0]
    ours, theirs = tg.tensor(values, dtype="float16"), torch.tensor(values, dtype=torch.float16)
    ours /= 1e5
    theirs /= 1e5
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours *= 1e4
    theirs *= 1e4
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_tuple_inside_an_index_is_a_list_of_indices_whose_repeats_add_up():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[(0, 0),].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0, 0.0])
    y = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y[(0, 0), (1, 1)].sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0.0, 2.0], [0.0, 0.0]])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16])
def test_small_integer_index_arrays_back_propagate_on_long_axes(dtype):
    x = tg.tensor(np.arange(300.0), requires_grad=True)
    rows = [1, 5, 5, 127] if dtype == np.uint8 else [1, 5, 5, -1]
    x[np.array(rows, dtype)].sum().backward()  # rows + 300 overflowed in their own dtype
    expected = np.zeros(300)
    np.add.at(expected, rows, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_a_torch_tensor_indexes_as_its_values():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x[torch.tensor([2, 0, 2])].numpy(), [3.0, 1.0, 3.0])
    np.testing.assert_array_equal(x[torch.tensor([True, False, True])].numpy(), [1.0, 3.0])
    with pytest.raises(IndexError):
        x[torch.tensor([0.5])]


def test_a_view_with_a_new_axis_changes_in_place_as_numpy():
    base = tg.tensor([5.0, 6.0, 7.0])
    view = base[None]
    view += 1
    np.testing.assert_array_equal(base.numpy(), [6.0, 7.0, 8.0])
    with pytest.raises(ValueError, match="broadcast"):  # one element seen many times
        expanded = base[None].expand(2, 3)
        expanded += 1


@pytest.mark.parametrize(
    "make, given, change",
    [
        (lambda x, i: x[i], [0, 0], 1),  # the index
        (lambda x, c: tg.where(c, x, 0.0), [True, False, False], True),  # the condition
        (lambda x, t: tg.nn.functional.cross_entropy(x.reshape(1, 3), t), [0], 2),  # the target
    ],
    ids=["index", "condition", "target"],
)
def test_changing_an_ops_index_condition_or_target_before_backward_is_refused(make, given, change):
    """Backward reads them: a gradient for the changed values would be silently wrong
    (torch saves them and raises)."""
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    given = tg.tensor(given)
    result = make(x, given).sum()
    given += change
    with pytest.raises(RuntimeError, match="in place"):
        result.backward()
    assert x.grad is None


def test_a_cached_scalar_constant_cannot_be_changed_through_the_graph(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    shared = (x * 2.0).grad_fn.inputs[1]
    with tg.no_grad(), pytest.raises(ValueError, match="read-only"):
        shared += 1
    assert (tg.ones(2, device=device) * 2.0).tolist() == [2.0, 2.0]


def test_an_empty_tensor_changes_in_place():
    empty = tg.zeros(0, 3)
    empty += 1  # NumPy 2 gives it zero strides; nothing is shared
    assert empty.shape == (0, 3)


def test_an_integer_to_a_negative_integer_power_is_refused_on_every_device(device):
    # NumPy refuses it; CuPy answers 0 (and 1, +-1 for 1, -1) silently.
    x = tg.tensor([1, 2, -1], device=device)
    with pytest.raises(ValueError, match="negative integer powers"):
        x**-1
    with pytest.raises(ValueError, match="negative integer powers"):
        x ** tg.tensor([2, -2, 1], device=device)
    with pytest.raises(ValueError, match="negative integer powers"):
        2 ** tg.tensor([1, -1, 0], device=device)
    with pytest.raises(ValueError, match="negative integer powers"):
        x **= -2
    np.testing.assert_array_equal(x.numpy(), [1, 2, -1])
    # What stays allowed: a float exponent, an unsigned or non-negative integer one.
    np.testing.assert_allclose((x**-1.0).numpy(), [1.0, 0.5, -1.0])
    np.testing.assert_array_equal((x ** tg.tensor([0, 3, 1], device=device)).numpy(), [1, 8, -1])
    unsigned = tg.tensor(np.array([2, 0, 1], dtype=np.uint8), device=device)
    np.testing.assert_array_equal((x**unsigned).numpy(), [1, 1, -1])


def test_a_float_scalar_past_the_dtype_is_inf_quietly_on_every_device(device):
    # The scalar is cast on the host (CuPy too): under errstate(all="raise") that cast
    # must not raise; as torch, float32 * 1e300 is inf.
    x = tg.tensor([1.0, -2.0], device=device)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal((x * 1e300).numpy(), [np.inf, -np.inf])


def test_an_in_place_power_that_fails_changes_nothing():
    x = tg.tensor([2, 3, 4])
    with pytest.raises(ValueError, match="negative integer powers"):
        x **= tg.tensor([2, -1, 2])  # NumPy meets the -1 after writing 4 into x[0]
    np.testing.assert_array_equal(x.numpy(), [2, 3, 4])
    with pytest.raises(TypeError, match="cannot be stored"):
        x **= 0.5
    np.testing.assert_array_equal(x.numpy(), [2, 3, 4])
    x **= 2
    np.testing.assert_array_equal(x.numpy(), [4, 9, 16])


@pytest.mark.parametrize(
    "call, who",
    [
        (lambda: tg.tensor([1.0], device="gpu"), "Tensor"),
        (lambda: tg.ones(2).to("gpu"), "Tensor.to"),
        (lambda: tg.zeros(2, device="tpu"), "zeros"),
        (lambda: tg.set_default_device("tpu"), "set_default_device"),
        (lambda: tg.nn.Linear(2, 2).to("gpu"), "Linear.to"),
    ],
)
def test_an_unknown_device_string_is_named_with_its_caller(call, who):
    with pytest.raises(ValueError, match=f"^{who}: unknown device"):
        call()


def test_arange_to_infinity_is_refused_by_name():
    with pytest.raises(ValueError, match="arange: .*finite"):
        tg.arange(float("inf"))
    with pytest.raises(ValueError, match="arange: .*finite"):
        tg.arange(0, 1, float("nan"))


def test_a_sequential_index_out_of_range_names_the_container():
    with pytest.raises(IndexError, match="Sequential: index 3 .* 2 modules"):
        tg.nn.Sequential(tg.nn.ReLU(), tg.nn.ReLU())[3]


def test_an_int_for_every_axis_gives_a_0d_view_as_torch():
    base = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    element = base[0, 1]
    element += 10
    np.testing.assert_array_equal(base.numpy(), [[1.0, 12.0], [3.0, 4.0]])
    # So changing it is seen by the in-place check of a graph that read it.
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    weights = tg.tensor([5.0, 6.0])
    loss = (x * weights).sum()
    changed = weights[1]
    changed += 1
    with pytest.raises(RuntimeError, match="in place"):
        loss.backward()


@pytest.mark.parametrize("dtype", [">i4", ">f8", "<f4"])
def test_a_foreign_byte_order_becomes_the_machines(dtype):
    data = np.array([1, 2], dtype=dtype)
    made = [Tensor(data, dtype=dtype), Tensor([1, 2], dtype=dtype), tg.ones(2).astype(dtype)]
    for tensor in made + ([Tensor(data)] if data.dtype.kind == "i" else []):
        assert tensor.dtype.isnative and tensor.dtype == np.dtype(dtype).newbyteorder("=")
    w = Tensor([1.0, 2.0], dtype=">f4", requires_grad=True)
    (w * w).sum().backward()  # the gradient's dtype is the tensor's
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    torch = pytest.importorskip("torch")
    assert torch.from_dlpack(Tensor(data)).tolist() == [1, 2]


def test_a_torch_tensor_that_requires_grad_is_copied_by_value():
    torch = pytest.importorskip("torch")
    weight = torch.nn.Linear(3, 2).weight
    for made in (Tensor(weight), tg.tensor(weight), tg.nn.Parameter(weight)):
        np.testing.assert_array_equal(made.numpy(), weight.detach().numpy())


def test_to_takes_a_dtype_as_torch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    for dtype in (tg.float64, "float64", np.float64):
        assert x.to(dtype).dtype == np.float64
    x.to(np.float64).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    assert x.to("int32").dtype == np.int32 and x.to("cpu") is x


@pytest.mark.parametrize("index", ["a", ((0, slice(None)),), [0.5], ([0, [1, 2]],)])
def test_an_index_that_is_no_index_is_an_index_error_on_every_device(index, device):
    with pytest.raises(IndexError, match="index"):
        tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)[index]


def test_bfloat16_torch_tensors_are_read_as_float32():
    torch = pytest.importorskip("torch")
    values = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    made = Tensor(values)
    assert made.dtype == np.float32 and made.tolist() == [1.5, -2.0]
    layer, theirs = tg.nn.Linear(3, 2), torch.nn.Linear(3, 2).bfloat16()
    layer.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(layer.weight.numpy(), theirs.weight.float().detach().numpy())


def test_from_dlpack_takes_the_array_apis_copy_and_device():
    torch = pytest.importorskip("torch")
    source = torch.ones(3)
    shared, copied = tg.from_dlpack(source), tg.from_dlpack(source, copy=True)
    here = tg.from_dlpack(source, device="cpu")
    source += 1
    assert shared.tolist() == here.tolist() == [2.0, 2.0, 2.0]
    assert copied.tolist() == [1.0, 1.0, 1.0]
    # bfloat16 has no NumPy dtype: its values come as float32 (exact), as in Tensor().
    assert tg.from_dlpack(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32
    weight = torch.nn.Linear(2, 1).weight  # requires grad: exported detached, still shared
    shared_weight = tg.from_dlpack(weight)
    with torch.no_grad():
        weight += 1
    np.testing.assert_array_equal(shared_weight.numpy(), weight.detach().numpy())


def test_to_takes_torchs_device_and_dtype_spellings():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu", tg.float64).dtype == np.float64
    assert x.to(dtype="float64").dtype == np.float64
    assert x.to(" Float64 ").dtype == np.float64
    with pytest.raises(TypeError, match="two dtypes"):
        x.to(tg.float64, tg.float32)


def test_manual_seed_takes_a_negative_seed_as_torch():
    tg.manual_seed(-1)
    first = tg.rand(3).tolist()
    tg.manual_seed(-1)
    assert tg.rand(3).tolist() == first
    tg.manual_seed(2**64 - 1)  # the same 64 bits
    assert tg.rand(3).tolist() == first
    with pytest.raises(ValueError, match="64 bits"):  # torch's range too
        tg.manual_seed(2**64)


def test_an_index_array_changed_out_of_range_after_the_forward_is_an_index_error():
    x = tg.tensor(np.zeros((8, 3)), requires_grad=True)
    rows = np.zeros(100, dtype=np.int64)  # a NumPy index is shared, as torch shares it
    y = x[rows].sum()
    rows[0] = -50
    with pytest.raises(IndexError, match="getitem backward"):
        y.backward()


def test_many_parameters_are_built_and_stepped_in_linear_time():
    """The record of in-place writes prunes itself with a bound that doubles: a fixed
    bound rescanned every live entry for each new one past 4096 (4000 layers: 4.7 s)."""
    from tinygrad_dlcv.tensor import _written

    layers = [tg.nn.Linear(2, 2) for _ in range(3000)]
    parameters = [parameter for layer in layers for parameter in layer.parameters()]
    for parameter in parameters:
        parameter.grad = tg.ones(*parameter.shape)
    tg.optim.SGD(parameters, lr=0.1).step()
    assert len(_written) >= len(parameters)  # every one recorded, none lost


def test_a_list_of_tensors_keeps_their_dtype_as_torch():
    third = Tensor(1 / 3, dtype="float64")
    made = Tensor([third, third])
    assert made.dtype == np.float64 and made.tolist() == [1 / 3, 1 / 3]
    assert tg.tensor([tg.tensor(1), tg.tensor(2)]).dtype == np.int64


def test_where_of_two_numbers_lands_on_the_conditions_device(device):
    condition = tg.tensor([True, False], device=device)
    result = tg.where(condition, 1.0, 2.0)
    assert result.device == condition.device and result.tolist() == [1.0, 2.0]
    assert tg.where(condition, [1.0, 3.0], 0.0).tolist() == [1.0, 0.0]


def test_set_default_device_none_is_the_cpu_again():
    try:
        tg.set_default_device("cpu")
        tg.set_default_device(None)
        assert tg.zeros(1).device == "cpu"
    finally:
        tg.set_default_device("cpu")


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "bool"])
def test_torch_cast_spellings_match_torch(method, device):
    torch = pytest.importorskip("torch")
    values = [1.5, -2.0, 0.0, 3.75]
    ours = getattr(tg.tensor(values, device=device), method)()
    theirs = getattr(torch.tensor(values), method)()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_float_casts_are_differentiable_and_accuracy_reads_as_in_torch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]
    assert x.float() is x  # already float32: itself, as torch
    accuracy = (tg.tensor([1, 2, 3]) == tg.tensor([1, 0, 3])).float().mean()
    assert accuracy.dtype == np.float32 and abs(accuracy.item() - 2 / 3) < 1e-7


def test_clone_copies_and_passes_the_gradient_as_torch(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    copy = x.clone()
    assert copy.requires_grad and copy.data is not x.data
    (copy * copy).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    plain = tg.tensor([3, 4], device=device).clone()
    assert plain.dtype == np.int64 and not plain.requires_grad and plain.tolist() == [3, 4]
