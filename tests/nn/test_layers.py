"""Layers: Linear, the lecture's Neuron, MLP, Sequential, activations, Flatten, Dropout.

Forward values and gradients are compared with torch.nn with copied weights,
in float64 where gradients are compared.
"""

import inspect
import math

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor, nn
from tinygrad_dlcv.nn import functional as F

RNG = np.random.default_rng(1)


def _torch():
    return pytest.importorskip("torch")


def _leaf(values, dtype="float64"):
    return Tensor(values, dtype=dtype, requires_grad=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- Linear


def test_linear_shapes_and_names():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.in_features == 5 and layer.out_features == 3
    assert isinstance(layer.weight, nn.Parameter) and isinstance(layer.bias, nn.Parameter)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.dtype == np.float32
    assert nn.Linear(5, 3, dtype="float64").weight.dtype == np.float64


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(6, 4), (2, 5, 4)], ids=["2d", "3d"])
def test_linear_forward_and_backward_equal_torch(shape, bias):
    torch = _torch()
    ours = nn.Linear(4, 3, bias=bias, dtype="float64")
    theirs = torch.nn.Linear(4, 3, bias=bias).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.normal(size=shape)
    upstream = RNG.normal(size=shape[:-1] + (3,))
    x_ours, x_theirs = _leaf(x), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert out_ours.shape == tuple(out_theirs.shape) == shape[:-1] + (3,)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    out_ours.backward(Tensor(upstream, dtype="float64"))
    out_theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-12)
    for name, p in ours.named_parameters():
        want = getattr(theirs, name).grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-12, atol=1e-14, err_msg=name)


def test_linear_computes_x_w_transpose_plus_b():
    layer = nn.Linear(3, 2, dtype="float64")
    x = RNG.normal(size=(4, 3))
    want = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(Tensor(x, dtype="float64")).numpy(), want, rtol=1e-12)


def test_linear_default_init_is_uniform_within_one_over_sqrt_in():
    tg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for values in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.all(np.abs(values) <= bound + 1e-7)
        assert np.abs(values).max() > 0.95 * bound  # fills the interval, not a smaller one
    weight = layer.weight.numpy()
    assert abs(weight.mean()) < 0.01 * bound
    np.testing.assert_allclose(weight.std(), bound / math.sqrt(3), rtol=0.02)


def test_linear_default_init_bound_equals_torch():
    torch = _torch()
    torch.manual_seed(0)
    theirs = torch.nn.Linear(200, 50)
    ours = nn.Linear(200, 50)
    for name in ("weight", "bias"):
        t_max = getattr(theirs, name).detach().abs().max().item()
        o_max = np.abs(getattr(ours, name).numpy()).max()
        bound = 1 / math.sqrt(200)
        assert o_max <= bound + 1e-7 and t_max <= bound + 1e-7
        assert o_max > 0.9 * bound and t_max > 0.9 * bound


def test_linear_init_is_reproducible_with_manual_seed():
    tg.manual_seed(123)
    a = nn.Linear(5, 3)
    tg.manual_seed(123)
    b = nn.Linear(5, 3)
    c = nn.Linear(5, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(b.weight.numpy(), c.weight.numpy())


def test_linear_wrong_input_size_is_a_value_error():
    with pytest.raises(ValueError):
        nn.Linear(3, 2)(tg.zeros(4, 5))


@pytest.mark.parametrize(("fan_in", "fan_out"), [(0, 2), (2, 0)])
def test_linear_nonpositive_sizes_are_value_errors(fan_in, fan_out):
    with pytest.raises(ValueError):
        nn.Linear(fan_in, fan_out)


# --------------------------------------------------------------------------- Neuron


def test_neuron_shapes_and_names():
    neuron = nn.Neuron(3)
    assert neuron.w.shape == (3,) and neuron.b.shape == ()
    assert [n for n, _ in neuron.named_parameters()] == ["w", "b"]
    assert neuron(tg.randn(7, 3)).shape == (7,)
    assert neuron(tg.randn(3)).shape == ()


def test_neuron_is_sigmoid_of_x_dot_w_plus_b():
    neuron = nn.Neuron(4, dtype="float64")
    x = RNG.normal(size=(6, 4))
    w, b = neuron.w.numpy(), neuron.b.numpy()
    want = _sigmoid(x @ w + b)
    np.testing.assert_allclose(neuron(Tensor(x, dtype="float64")).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize(
    ("activation", "fn"),
    [("tanh", np.tanh), ("relu", lambda a: np.maximum(a, 0)), (None, lambda a: a)],
    ids=["tanh", "relu", "none"],
)
def test_neuron_activations(activation, fn):
    neuron = nn.Neuron(4, activation=activation, dtype="float64")
    x = RNG.normal(size=(20, 4))
    want = fn(x @ neuron.w.numpy() + neuron.b.numpy())
    np.testing.assert_allclose(neuron(Tensor(x, dtype="float64")).numpy(), want, rtol=1e-12)


def test_neuron_init_is_within_one_over_sqrt_in_and_reproducible():
    tg.manual_seed(5)
    a = nn.Neuron(100)
    tg.manual_seed(5)
    b = nn.Neuron(100)
    assert np.all(np.abs(a.w.numpy()) <= 0.1 + 1e-7) and abs(a.b.item()) <= 0.1 + 1e-7
    np.testing.assert_array_equal(a.w.numpy(), b.w.numpy())
    assert a.b.item() == b.b.item()


def test_neuron_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError, match="softsign"):
        nn.Neuron(3, activation="softsign")


def test_neuron_gradients_by_hand():
    neuron = nn.Neuron(3, dtype="float64")
    z = RNG.normal(size=(5, 3))
    y = neuron(Tensor(z, dtype="float64"))
    y.sum().backward()
    s = y.numpy()
    np.testing.assert_allclose(neuron.w.grad.numpy(), (s * (1 - s)) @ z, rtol=1e-12)
    np.testing.assert_allclose(neuron.b.grad.item(), (s * (1 - s)).sum(), rtol=1e-12)


# --------------------------------------------------------------------------- MLP


def test_mlp_structure_relu_by_default_and_no_activation_after_last():
    model = nn.MLP(4, [8, 8], 3)
    assert isinstance(model, nn.Sequential)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (4, 8),
        (8, 8),
        (8, 3),
    ]
    assert isinstance(model[-1], nn.Linear)


@pytest.mark.parametrize(
    ("activation", "cls"),
    [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid), ("leaky_relu", nn.LeakyReLU)],
)
def test_mlp_activation_choices(activation, cls):
    model = nn.MLP(3, [5, 6], 2, activation=activation)
    assert len(model) == 5
    assert isinstance(model[1], cls) and isinstance(model[3], cls)
    assert isinstance(model[4], nn.Linear)


def test_mlp_without_hidden_layers_is_one_linear():
    model = nn.MLP(3, [], 2)
    assert len(model) == 1 and isinstance(model[0], nn.Linear)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_mlp_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError):
        nn.MLP(3, [4], 2, activation="swishy")


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_forward_and_backward_equal_torch(activation):
    torch = _torch()
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), act(), torch.nn.Linear(8, 6), act(), torch.nn.Linear(6, 3)
    ).double()
    ours = nn.MLP(4, [8, 6], 3, activation=activation, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.normal(size=(10, 4))
    out_ours, out_theirs = ours(Tensor(x, dtype="float64")), theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    (out_ours**2).sum().backward()
    (out_theirs**2).sum().backward()
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name
        )


# --------------------------------------------------------------------------- Sequential


def test_sequential_indexing_len_iter_and_forward():
    a, b, c = nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3
    assert model[0] is a and model[1] is b and model[2] is c and model[-1] is c
    assert list(model) == [a, b, c]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(model(x).numpy(), c(b(a(x))).numpy())
    with pytest.raises(IndexError):
        model[3]


def test_sequential_from_ordered_dict_uses_its_names():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert model[1] is model.act


def test_empty_sequential_is_identity():
    x = tg.randn(2, 3)
    np.testing.assert_array_equal(nn.Sequential()(x).numpy(), x.numpy())


def test_sequential_rejects_a_non_module():
    with pytest.raises(TypeError):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize(
    ("ours", "theirs_name", "args"),
    [
        (nn.ReLU(), "ReLU", ()),
        (nn.Sigmoid(), "Sigmoid", ()),
        (nn.Tanh(), "Tanh", ()),
        (nn.LeakyReLU(), "LeakyReLU", ()),
        (nn.LeakyReLU(0.2), "LeakyReLU", (0.2,)),
        (nn.Identity(), "Identity", ()),
        (nn.Flatten(), "Flatten", ()),
        (nn.Flatten(0, -1), "Flatten", (0, -1)),
        (nn.Flatten(1, 2), "Flatten", (1, 2)),
    ],
    ids=lambda v: repr(v) if isinstance(v, tuple) else None,
)
def test_activation_modules_equal_torch(ours, theirs_name, args):
    torch = _torch()
    theirs = getattr(torch.nn, theirs_name)(*args)
    x = RNG.normal(size=(2, 3, 4, 5))
    x[0, 0, 0, :2] = 0.0  # the kink of relu: torch's subgradient there is 0
    upstream = RNG.normal(size=tuple(theirs(torch.from_numpy(x)).shape))
    x_ours, x_theirs = _leaf(x), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    out_ours.backward(Tensor(upstream, dtype="float64"))
    out_theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("args", [(), (0,), (2, 3), (0, -2)], ids=repr)
def test_flatten_repr_and_names_equal_torch(args):
    torch = _torch()
    ours, theirs = nn.Flatten(*args), torch.nn.Flatten(*args)
    assert repr(ours) == repr(theirs)  # Flatten(start_dim=1, end_dim=-1)
    assert (ours.start_dim, ours.end_dim) == (theirs.start_dim, theirs.end_dim)
    by_name = nn.Flatten(**dict(zip(("start_dim", "end_dim"), args, strict=False)))
    assert repr(by_name) == repr(theirs)


def test_flatten_takes_the_tensor_axis_names_too():
    flatten = nn.Flatten(start_axis=0, end_axis=1)
    assert (flatten.start_dim, flatten.end_dim) == (0, 1)
    assert (flatten.start_axis, flatten.end_axis) == (0, 1)
    assert flatten(tg.zeros(2, 3, 4)).shape == (6, 4)
    assert repr(flatten) == "Flatten(start_dim=0, end_dim=1)"
    with pytest.raises(TypeError, match="start_dim=2.*start_axis=0"):
        nn.Flatten(start_dim=2, start_axis=0)


def test_activation_modules_have_no_parameters():
    for module in (nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(), nn.Identity()):
        assert list(module.parameters()) == []


def test_identity_returns_its_input():
    x = tg.randn(3)
    assert nn.Identity()(x) is x


# --------------------------------------------------------------------------- Dropout


def test_dropout_in_eval_is_identity():
    drop = nn.Dropout(0.5).eval()
    x = tg.randn(100, 10)
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_in_training_zeroes_about_p_and_scales_the_rest(p):
    tg.manual_seed(0)
    x = tg.rand(200, 500, dtype="float64") + 0.5  # no zeros of its own
    out = nn.Dropout(p)(x).numpy()
    zeroed = out == 0
    assert abs(zeroed.mean() - p) < 0.01  # 100,000 draws: sd of the fraction < 0.002
    kept = ~zeroed
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / (1 - p), rtol=1e-12)


def test_dropout_gradient_is_the_mask_over_one_minus_p():
    tg.manual_seed(1)
    x = _leaf(np.ones((50, 40)))
    out = nn.Dropout(0.25)(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy(), rtol=1e-12)  # x = 1: out = mask/(1-p)
    assert set(np.unique(x.grad.numpy())) == {0.0, 1 / 0.75}


def test_dropout_p_zero_is_identity_and_p_one_zeroes():
    x = tg.randn(30, 30)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((30, 30)))


def test_dropout_of_an_integer_tensor_in_training_is_a_type_error():
    # 1 / (1 - p) cast to int64 is 1: the kept values came back unscaled (torch raises too).
    x = tg.Tensor(np.full(8, 10, dtype=np.int64))
    with pytest.raises(TypeError, match=r"Dropout: .*floating.*int64"):
        nn.Dropout(0.3)(x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros(8))  # as torch
    dropout = nn.Dropout(0.3).eval()
    assert dropout(x) is x


def test_dropout_is_reproducible_with_manual_seed():
    x = tg.ones(20, 20)
    tg.manual_seed(7)
    a = nn.Dropout(0.5)(x).numpy()
    tg.manual_seed(7)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p_is_a_value_error(p):
    with pytest.raises(ValueError):
        nn.Dropout(p)


def test_dropout_follows_the_model_mode():
    model = nn.Sequential(nn.Linear(10, 10), nn.Dropout(0.9))
    x = tg.randn(50, 10)
    model.eval()
    first, second = model(x).numpy(), model(x).numpy()
    np.testing.assert_array_equal(first, second)
    assert np.count_nonzero(first == 0) == 0
    model.train()
    assert np.mean(model(x).numpy() == 0) > 0.8


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: nn.Linear("2", 3), TypeError, "Linear: in_features must be an int, got '2'"),
        (lambda: nn.Linear(2, 3.0), TypeError, "Linear: out_features must be an int"),
        (lambda: nn.Linear(True, 3), TypeError, "Linear: in_features"),
        (lambda: nn.Linear(2, -1), ValueError, "Linear: out_features must be an int >= 1"),
        (lambda: nn.Neuron("3"), TypeError, "Neuron: in_features must be an int"),
        (lambda: nn.Neuron(0), ValueError, "Neuron: in_features must be an int >= 1"),
        (lambda: nn.Dropout("a"), TypeError, "Dropout: p must be a real number"),
        (lambda: nn.Dropout(None), TypeError, "Dropout: p must be a real number"),
        (lambda: nn.Dropout(float("nan")), ValueError, "Dropout: p must lie in"),
        (lambda: nn.MLP(2, 5, 3), TypeError, "MLP: hidden must be a list of layer sizes"),
        (lambda: nn.MLP(2, "5", 3), TypeError, "MLP: hidden must be a list of layer sizes"),
        (lambda: nn.MLP(2, [5, "4"], 3), TypeError, r"MLP: hidden\[1\] must be an int"),
        (lambda: nn.MLP(2, [5, 0], 3), ValueError, r"MLP: hidden\[1\] must be an int >= 1"),
        (lambda: nn.MLP("2", [5], 3), TypeError, "MLP: in_features must be an int"),
        (lambda: nn.MLP(2, [5], 3.5), TypeError, "MLP: out_features must be an int"),
    ],
)
def test_layer_arguments_of_the_wrong_type_or_value_name_the_layer(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_layer_sizes_may_be_numpy_ints():
    assert nn.Linear(np.int64(2), np.int32(3)).weight.shape == (3, 2)
    assert len(nn.MLP(np.int64(2), (np.int64(4),), 3)) == 3


@pytest.mark.parametrize(
    "name, module, error",
    [
        ("a", 5, TypeError),
        ("a", lambda x: x, TypeError),
        ("a.b", "relu", KeyError),
        ("", "relu", KeyError),
        (1, "relu", TypeError),
        ("forward", "relu", KeyError),
    ],
    ids=["int-module", "function-module", "dotted-name", "empty-name", "int-name", "taken-name"],
)
def test_sequential_from_ordered_dict_refuses_what_torch_refuses(name, module, error):
    # OrderedDict(a=5) became an empty Sequential; "a.b" broke the dotted parameter names.
    from collections import OrderedDict

    torch = _torch()
    ours = nn.ReLU() if module == "relu" else module
    theirs = torch.nn.ReLU() if module == "relu" else module
    with pytest.raises(error, match="Sequential"):
        nn.Sequential(OrderedDict([(name, ours)]))
    with pytest.raises(error):
        torch.nn.Sequential(OrderedDict([(name, theirs)]))


def test_sequential_slice_is_a_sequential_with_the_same_names_as_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.3), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(3, 1)
    )
    part, their_part = ours[1:4], theirs[1:4]
    assert isinstance(part, nn.Sequential)
    assert repr(part) == repr(their_part)
    assert list(part.state_dict()) == list(their_part.state_dict()) == ["3.weight", "3.bias"]
    assert part[-1] is ours[3]  # the same modules, not copies
    x = tg.Tensor(np.ones((4, 3), np.float32))
    np.testing.assert_array_equal(part.eval()(x).numpy(), ours[3](x).numpy())
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))


def _edited_pair(torch, edit, container):
    """``edit`` applied to the same Sequential (or ModuleList) in this engine and in
    torch: the layouts (repr, state_dict names) after it, and what it returned."""
    results = []
    for library in (nn, torch.nn):
        layers = [library.Linear(2, 3), library.ReLU(), library.Linear(3, 4), library.Tanh()]
        model = (
            library.Sequential(*layers) if container == "Sequential" else library.ModuleList(layers)
        )
        returned = edit(model, library)
        results.append((repr(model), list(model.state_dict()), repr(returned)))
    return results


@pytest.mark.parametrize(
    "edit",
    [
        lambda m, lib: m.__delitem__(1),
        lambda m, lib: m.__delitem__(-1),
        lambda m, lib: m.__delitem__(slice(0, 2)),
        lambda m, lib: m.__delitem__(slice(None, None, 2)),
        lambda m, lib: m.__setitem__(-2, lib.Linear(3, 5)),
        lambda m, lib: m.insert(0, lib.Sigmoid()),
        lambda m, lib: m.insert(2, lib.Linear(3, 3)),
        lambda m, lib: m.insert(4, lib.Identity()),
        pytest.param(lambda m, lib: m.insert(-1, lib.Identity()), id="insert-negative"),
        lambda m, lib: m.extend([lib.Linear(4, 1), lib.Sigmoid()]),
        lambda m, lib: m.pop(0),
        lambda m, lib: m.pop(-1),
        lambda m, lib: m[1:3],
        lambda m, lib: m[-1],
    ],
)
@pytest.mark.parametrize("container", ["Sequential", "ModuleList"])
def test_sequential_and_module_list_edits_as_torch(edit, container):
    torch = _torch()
    if container == "ModuleList" and "insert(-1" in inspect.getsource(edit):
        # torch's ModuleList.insert(-1, m) raises KeyError('-1'); ours inserts as a list does.
        model = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        model.insert(-1, nn.Identity())
        assert [type(m).__name__ for m in model] == ["ReLU", "Identity", "Tanh"]
        assert list(model._modules) == ["0", "1", "2"]
        return
    ours, theirs = _edited_pair(torch, edit, container)
    assert ours == theirs


def test_module_list_registers_its_modules_as_torch():
    torch = _torch()

    def build(library):
        class Tower(library.Module):
            def __init__(self):
                super().__init__()
                self.layers = library.ModuleList([library.Linear(2, 4), library.Linear(4, 4)])
                self.layers += [library.Linear(4, 1)]
                self.layers.append(library.Sigmoid())

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x

        return Tower()

    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    ours(tg.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert len(ours.layers) == 4 and isinstance(ours.layers[1:], nn.ModuleList)
    with pytest.raises(NotImplementedError):  # no forward of its own, as torch
        ours.layers(tg.tensor(x))
    with pytest.raises(TypeError):
        nn.ModuleList([nn.ReLU(), "relu"])
    with pytest.raises(IndexError):
        ours.layers[4]


def test_sequential_edits_refuse_what_torch_refuses_and_change_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    before = repr(model), list(model.state_dict())
    with pytest.raises(IndexError):
        del model[2]
    with pytest.raises(IndexError):
        model[-3] = nn.ReLU()
    with pytest.raises(IndexError):
        model.insert(3, nn.ReLU())
    with pytest.raises(TypeError):
        model.insert(0, "relu")
    with pytest.raises(TypeError):
        model[0] = 3
    with pytest.raises(TypeError):
        model.extend([nn.ReLU(), "relu"])  # none added
    assert (repr(model), list(model.state_dict())) == before
    # The edited model still runs and trains: the new layer's parameter is registered.
    model.insert(1, nn.Linear(3, 3))
    model(tg.randn(4, 2)).sum().backward()
    assert model[1].weight.grad is not None and len(list(model.parameters())) == 4


@pytest.mark.parametrize("slope", [float("inf"), float("nan"), 7e4])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 * inf at 0, as torch
def test_leaky_relu_with_a_slope_past_the_dtype_keeps_positive_inputs(slope):
    # 0 * inf made the positive elements NaN (value and gradient); torch gives x and 1.
    torch = _torch()
    dtype = "float16" if slope == 7e4 else "float64"
    values = [-1.0, -1e-4, 0.0, 2.0]  # 0 times a slope cast to float16's inf was NaN
    x = Tensor(values, dtype=dtype, requires_grad=True)
    theirs = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    out = F.leaky_relu(x, slope)
    expected = torch.nn.functional.leaky_relu(theirs, slope)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    "layer",
    [
        nn.ReLU(),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.LeakyReLU(),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Neuron(3),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_refuse_what_is_not_a_tensor(layer):
    # An ndarray met AttributeErrors, NumPy's own messages, or went through unchanged.
    for mode in (True, False):
        layer.train(mode)
        with pytest.raises(TypeError, match=f"{type(layer).__name__}|relu|sigmoid|tanh"):
            layer(np.ones((2, 3)))


def test_torchs_constructor_arguments_are_taken():
    torch = _torch()
    pairs = [
        (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
        (nn.LeakyReLU(0.1, inplace=True), torch.nn.LeakyReLU(0.1, inplace=True)),
        (nn.Dropout(0.3, inplace=True), torch.nn.Dropout(0.3, inplace=True)),
        (nn.Identity(54, unused="x"), torch.nn.Identity(54, unused="x")),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    x = Tensor([-1.0, 2.0])
    np.testing.assert_array_equal(nn.ReLU(inplace=True)(x).numpy(), [0.0, 2.0])
    np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0])  # computed out of place
    for call in (lambda: nn.ReLU(inplace="yes"), lambda: nn.LeakyReLU("a")):
        with pytest.raises(TypeError):
            call()


def test_activation_names_are_checked_even_without_hidden_layers():
    with pytest.raises(ValueError, match="gelu"):
        nn.MLP(2, [], 1, activation="gelu")  # a single Linear: the name was never looked at
    with pytest.raises(TypeError, match="activation"):
        nn.Neuron(3, activation=5)
    with pytest.raises(TypeError, match="negative_slope"):
        F.leaky_relu(Tensor([1.0]), None)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_log_softmax_and_nll_loss_modules_match_torch(axis):
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    target = rng.integers(0, 5, size=4)
    for ours, theirs in (
        (nn.Softmax(axis), torch.nn.Softmax(dim=axis)),
        (nn.LogSoftmax(dim=axis), torch.nn.LogSoftmax(dim=axis)),
    ):
        assert repr(ours) == repr(theirs)
        x_ours = Tensor(x, dtype="float64", requires_grad=True)
        x_theirs = torch.tensor(x, requires_grad=True)
        out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
        np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
        weights = rng.standard_normal((4, 5))
        (out_ours * Tensor(weights, dtype="float64")).sum().backward()
        (out_theirs * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10)
    for reduction in ("mean", "sum", "none"):
        log_probabilities = nn.LogSoftmax(dim=1)(Tensor(x, dtype="float64"))
        ours = nn.NLLLoss(reduction=reduction)(log_probabilities, target)
        theirs = torch.nn.NLLLoss(reduction=reduction)(
            torch.log_softmax(torch.tensor(x), 1), torch.tensor(target)
        )
        assert repr(nn.NLLLoss(reduction=reduction)) == repr(torch.nn.NLLLoss(reduction=reduction))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_softmax_module_arguments():
    with pytest.raises(TypeError):
        nn.Softmax(1.5)
    with pytest.raises(TypeError):
        nn.LogSoftmax(0, dim=1)  # two axes
    with pytest.raises(IndexError):
        nn.Softmax(2)(tg.randn(3, 4))
