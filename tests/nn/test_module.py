"""nn.Module and nn.Parameter: the module tree, PyTorch's names, state_dict, repr.

Where torch.nn defines the behaviour, the equivalent torch model is built and
names, values and printed forms are compared with it.
"""

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor, nn

RNG = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch")


def _snapshot(model):
    """Name -> copy of every parameter's values (to check that nothing changed)."""
    return {name: p.numpy().copy() for name, p in model.named_parameters()}


def _assert_same_snapshot(before, after):
    assert list(before) == list(after)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)


def _torch_mlp(torch, dtype=None):
    """torch.nn equivalent of nn.MLP(4, [8, 8], 3)."""
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    )
    return model if dtype is None else model.to(dtype)


class Net(nn.Module):
    """A custom model holding a Sequential in ``layers`` and a parameter of its own."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.layers = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))

    def forward(self, x):
        return self.layers(x) * self.scale


def _torch_net(torch):
    class Net(torch.nn.Module):  # same class name as ours, for repr comparisons
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)
            )

        def forward(self, x):
            return self.layers(x) * self.scale

    return Net()


class Shared(nn.Module):
    """Two attributes naming one Linear, plus a parameter assigned twice."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.second = self.first
        self.tied = nn.Parameter(np.zeros(2, dtype=np.float32))
        self.tied_again = self.tied

    def forward(self, x):
        return self.second(self.first(x))


# --------------------------------------------------------------------------- Parameter


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(np.arange(3.0))
    assert isinstance(p, Tensor)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.dtype == np.float32  # floating data take the default dtype
    np.testing.assert_array_equal(p.numpy(), [0.0, 1.0, 2.0])


def test_parameter_keeps_a_requested_dtype():
    p = nn.Parameter(np.arange(3.0), dtype="float64")
    assert p.dtype == np.float64


# --------------------------------------------------------------------------- discovery


def test_parameters_follow_assignment_order_own_first_like_torch():
    torch = _torch()

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(np.zeros(2))
            self.sub = nn.Linear(2, 2)
            self.b = nn.Parameter(np.zeros(1))

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.zeros(2))
            self.sub = torch.nn.Linear(2, 2)
            self.b = torch.nn.Parameter(torch.zeros(1))

    ours, theirs = Ours(), Theirs()
    names = [name for name, _ in ours.named_parameters()]
    assert names == [name for name, _ in theirs.named_parameters()]
    assert names == ["a", "b", "sub.weight", "sub.bias"]
    assert [p for p in ours.parameters()] == [p for _, p in ours.named_parameters()]
    assert ours.parameters().__next__() is ours.a


def test_mlp_parameter_names_and_shapes_equal_torch_sequential():
    torch = _torch()
    ours, theirs = nn.MLP(4, [8, 8], 3), _torch_mlp(torch)
    got = [(name, p.shape) for name, p in ours.named_parameters()]
    want = [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
    assert got == want
    assert [name for name, _ in got] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_custom_module_with_sequential_attribute_has_torch_names():
    torch = _torch()
    ours, theirs = Net(), _torch_net(torch)
    names = [name for name, _ in ours.named_parameters()]
    assert names == [name for name, _ in theirs.named_parameters()]
    assert "layers.0.weight" in names and "layers.2.bias" in names
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_shared_parameters_appear_once():
    model = Shared()
    params = list(model.parameters())
    assert len(params) == 3
    assert len({id(p) for p in params}) == 3
    names = [name for name, _ in model.named_parameters()]
    assert names == ["tied", "first.weight", "first.bias"]


def test_shared_parameter_names_equal_torch():
    torch = _torch()
    names = [name for name, _ in Shared().named_parameters()]
    assert names == [name for name, _ in _torch_shared(torch).named_parameters()]


def test_children_and_modules_equal_torch_names():
    torch = _torch()
    ours, theirs = Net(), _torch_net(torch)
    assert [type(c).__name__ for c in ours.children()] == ["Sequential"]
    assert next(ours.children()) is ours.layers
    modules = list(ours.modules())
    assert modules[0] is ours and modules[1] is ours.layers
    assert [type(m).__name__ for m in modules] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


def _torch_shared(torch):
    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = torch.nn.Linear(3, 3)
            self.second = self.first
            self.tied = torch.nn.Parameter(torch.zeros(2))
            self.tied_again = self.tied

        def forward(self, x):
            return self.second(self.first(x))

    return Shared()


def test_shared_module_is_listed_once_in_modules():
    model = Shared()
    assert [name for name, _ in model.named_modules()] == ["", "first"]


def test_shared_module_is_listed_once_in_children_like_torch():
    torch = _torch()
    ours, theirs = Shared(), _torch_shared(torch)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_children()] == ["first"]
    assert len(list(ours.children())) == 1


def test_state_dict_of_shared_model_moves_to_and_from_torch():
    """torch's state_dict lists a shared tensor under every name; it must load both ways."""
    torch = _torch()
    ours, theirs = Shared(), _torch_shared(torch)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = RNG.normal(size=(4, 3)).astype(np.float32)
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), want, rtol=1e-6, atol=1e-6)


def test_reassigning_and_deleting_attributes_updates_the_registry():
    model = Net()
    model.layers = nn.Linear(4, 3)
    assert [n for n, _ in model.named_parameters()] == ["scale", "layers.weight", "layers.bias"]
    model.scale = None  # a plain value replaces the parameter
    assert [n for n, _ in model.named_parameters()] == ["layers.weight", "layers.bias"]
    del model.layers
    assert list(model.parameters()) == []
    assert list(model.children()) == []


def test_assigning_a_plain_tensor_over_a_parameter_is_a_type_error_like_torch():
    torch = _torch()
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    weight = ours.weight
    with pytest.raises(TypeError) as want:
        theirs.weight = torch.zeros(3, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight'") as got:
        ours.weight = tg.zeros(3, 2)
    assert "Parameter or None expected" in str(got.value) and "Parameter or None" in str(want.value)
    assert ours.weight is weight  # nothing changed: still registered, still the same object
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    for bad in (nn.ReLU(), 3.0, np.zeros((3, 2))):
        with pytest.raises(TypeError, match="parameter 'bias'"):
            ours.bias = bad
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]


def test_assigning_a_parameter_or_none_over_a_parameter_is_allowed():
    model = nn.Linear(2, 3)
    replacement = nn.Parameter(np.ones((3, 2), dtype=np.float32))
    model.weight = replacement
    assert dict(model.named_parameters())["weight"] is replacement
    model.bias = None
    assert [n for n, _ in model.named_parameters()] == ["weight"]


def test_none_keeps_a_parameter_or_child_slot_in_its_place_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    weight = ours.weight
    ours.weight, theirs.weight = None, None
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias"]
    assert ours.weight is None
    # The slot still takes only a Parameter (a plain Tensor would silently not train) ...
    with pytest.raises(TypeError, match="parameter 'weight'"):
        ours.weight = tg.zeros(3, 2)
    with pytest.raises(TypeError):
        theirs.weight = torch.zeros(3, 2)
    # ... and a Parameter put back is first again, as before.
    ours.weight, theirs.weight = weight, torch.nn.Parameter(torch.zeros(3, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert [name for name, _ in ours.named_parameters()] == ["weight", "bias"]

    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    first = model[0]
    setattr(model, "0", None)
    assert list(model.state_dict()) == ["2.weight", "2.bias"]
    assert [name for name, _ in model.named_modules()] == ["", "1", "2"]
    assert "(0): None" in repr(model)  # as torch prints an emptied slot
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(model, "0", 3.0)
    setattr(model, "0", first)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_an_emptied_child_slot_leaves_a_module_a_unit_of_the_graph_and_slices_keep_it():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(tg.ones(2))
            self.norm = nn.ReLU()

        def forward(self, x):
            return x * self.scale

    model = Scaled()
    model.norm = None  # only an emptied slot: no child runs, the ops are the module's own
    out = model(tg.ones(2))
    assert out.grad_fn.module_call is not None and out.grad_fn.module_call[0] is model

    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    setattr(ours, "1", None)
    setattr(theirs, "1", None)
    head, reference = ours[0:2], theirs[0:2]
    assert len(head) == len(reference) == 2 and list(head)[1] is None
    assert list(head.state_dict()) == list(reference.state_dict()) == ["0.weight", "0.bias"]


def test_assigning_a_non_module_over_a_child_module_is_a_type_error_like_torch():
    torch = _torch()
    with pytest.raises(TypeError):
        torch.nn.Sequential(torch.nn.Linear(2, 2)).__setattr__("0", torch.zeros(2))
    model = Net()
    layers = model.layers
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as child module 'layers'"):
        model.layers = tg.zeros(2)
    assert model.layers is layers and list(model.children()) == [layers]
    model.layers = None  # None (or another Module) is allowed, as in torch
    assert list(model.children()) == []


def test_plain_tensor_attribute_is_not_a_parameter():
    model = nn.Linear(2, 2)
    model.buffer = tg.zeros(3)
    assert [n for n, _ in model.named_parameters()] == ["weight", "bias"]


def test_linear_without_bias_has_only_a_weight():
    torch = _torch()
    ours, theirs = nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)
    assert ours.bias is None
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


# --------------------------------------------------------------------------- train / eval


def test_train_and_eval_propagate_and_return_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), Net())
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    assert model.train(False) is model
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("mode", ["no", 1, 0, None, np.bool_(True)], ids=repr)
def test_train_with_a_non_bool_mode_is_a_value_error_like_torch(mode):
    torch = _torch()
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        torch.nn.Linear(2, 2).train(mode)
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).eval()
    with pytest.raises(
        ValueError, match="Sequential.train.*training mode is expected to be boolean"
    ) as caught:
        model.train(mode)
    assert isinstance(caught.value, TypeError)  # a wrong type, by the contract's rule too
    assert not any(m.training for m in model.modules())  # left as it was


def test_zero_grad_without_set_to_none_gives_zeros_like_torch():
    torch = _torch()
    ours, theirs = nn.Linear(3, 2, dtype="float64"), torch.nn.Linear(3, 2).double()
    x = RNG.normal(size=(4, 3))
    ours(Tensor(x, dtype="float64")).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()
    ours.zero_grad(set_to_none=False)
    theirs.zero_grad(set_to_none=False)
    for mine, (_, reference) in zip(ours.parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_array_equal(mine.grad.numpy(), reference.grad.numpy())
        assert not mine.grad.requires_grad
    ours.zero_grad(set_to_none=True)
    ours.weight.grad = None
    ours.zero_grad(set_to_none=False)  # a missing gradient stays missing, as in torch
    assert ours.weight.grad is None and ours.bias.grad is None


def test_zero_grad_leaves_memory_the_gradient_shares_alone():
    # A hook's returned tensor becomes the .grad as it is: zeroing it in place would
    # change the tensor the hook keeps (torch leaves it too).
    model = nn.Linear(3, 1, dtype="float64")
    kept = tg.full((1, 3), 7.0, dtype="float64")
    model.weight.register_hook(lambda grad: kept)
    model(tg.ones(2, 3, dtype="float64")).sum().backward()
    model.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(kept.numpy(), np.full((1, 3), 7.0))
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((1, 3)))


def test_zero_grad_without_set_to_none_detaches_a_recorded_gradient():
    model = nn.Linear(2, 1, dtype="float64")
    loss = (model(tg.ones(1, 2, dtype="float64")) ** 2).sum()
    loss.backward(create_graph=True)
    assert model.weight.grad.requires_grad
    model.zero_grad(set_to_none=False)
    assert not model.weight.grad.requires_grad and model.weight.grad.grad_fn is None
    np.testing.assert_array_equal(model.weight.grad.numpy(), [[0.0, 0.0]])


def test_parameters_recurse_and_named_parameters_prefix_equal_torch():
    torch = _torch()
    ours, theirs = Net(), _torch_net(torch)
    for recurse in (True, False):
        for prefix in ("", "model"):
            assert [n for n, _ in ours.named_parameters(prefix=prefix, recurse=recurse)] == [
                n for n, _ in theirs.named_parameters(prefix=prefix, recurse=recurse)
            ]
        assert len(list(ours.parameters(recurse=recurse))) == len(
            list(theirs.parameters(recurse=recurse))
        )
    assert list(ours.parameters(recurse=False)) == [ours.scale]
    assert list(ours.layers.parameters(recurse=False)) == []


def test_zero_grad_sets_every_grad_to_none():
    model = nn.MLP(3, [4], 2)
    model(tg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_forward_not_defined_is_not_implemented():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError):
        Empty()(tg.zeros(1))


def test_call_passes_arguments_to_forward():
    class Add(nn.Module):
        def forward(self, a, b, scale=1.0):
            return (a + b) * scale

    out = Add()(tg.ones(2), tg.ones(2), scale=3.0)
    np.testing.assert_array_equal(out.numpy(), [6.0, 6.0])


def test_assigning_before_super_init_is_an_attribute_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="__init__"):
        Broken()


# --------------------------------------------------------------------------- state_dict


def test_state_dict_returns_numpy_copies():
    model = nn.MLP(3, [4], 2)
    before = _snapshot(model)
    sd = model.state_dict()
    assert list(sd) == list(before)
    for name, values in sd.items():
        assert isinstance(values, np.ndarray)
        np.testing.assert_array_equal(values, before[name])
        values[...] = 123.0  # mutating the copy ...
    _assert_same_snapshot(before, _snapshot(model))  # ... leaves the model alone
    again = model.state_dict()
    model[0].weight.data[...] = -7.0  # and changing the model leaves an earlier copy alone
    np.testing.assert_array_equal(again["0.weight"], before["0.weight"])


def test_state_dict_round_trip_between_models():
    source, target = nn.MLP(3, [4], 2), nn.MLP(3, [4], 2)
    target.load_state_dict(source.state_dict())
    _assert_same_snapshot(_snapshot(source), _snapshot(target))
    x = tg.randn(6, 3)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


@pytest.mark.parametrize(
    ("dtype_name", "tol"), [("float32", 1e-6), ("float64", 1e-12)], ids=["float32", "float64"]
)
def test_torch_state_dict_loads_and_gives_torch_outputs(dtype_name, tol):
    torch = _torch()
    theirs = _torch_mlp(torch, getattr(torch, dtype_name))
    ours = nn.MLP(4, [8, 8], 3, dtype=dtype_name)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for name, p in ours.named_parameters():
        assert p.dtype == np.dtype(dtype_name)
        np.testing.assert_array_equal(p.numpy(), theirs.state_dict()[name].numpy())
    x = RNG.normal(size=(7, 4)).astype(dtype_name)
    got = ours(Tensor(x, dtype=dtype_name)).numpy()
    want = theirs(torch.from_numpy(x)).detach().numpy()
    assert got.dtype == np.dtype(dtype_name)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_torch_tensors_load_without_conversion():
    torch = _torch()
    theirs = _torch_net(torch)
    with torch.no_grad():
        theirs.scale.mul_(2.0)
    ours = Net()
    ours.load_state_dict(theirs.state_dict())
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), want, rtol=1e-6, atol=1e-6)


def test_our_state_dict_loads_into_torch():
    torch = _torch()
    ours, theirs = nn.MLP(4, [8, 8], 3, dtype="float64"), _torch_mlp(torch, torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = RNG.normal(size=(5, 4))
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x, dtype="float64")).numpy(), want, rtol=1e-12)


def test_load_state_dict_copies_and_keeps_parameter_objects_and_dtype():
    model = nn.Linear(3, 2)
    weight = model.weight
    sd = {"weight": np.full((2, 3), 0.25), "bias": np.array([1.0, 2.0])}  # float64 arrays
    model.load_state_dict(sd)
    assert model.weight is weight  # optimizers keep referring to the same objects
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    assert model.weight.requires_grad and model.weight.is_leaf
    sd["weight"][...] = 9.0  # the model holds a copy, not the caller's array
    np.testing.assert_array_equal(model.weight.numpy(), np.full((2, 3), 0.25))
    np.testing.assert_array_equal(model.bias.numpy(), [1.0, 2.0])


def _changed_state(model):
    """A full, valid state_dict whose values all differ from the model's."""
    return {name: values + 1.0 for name, values in model.state_dict().items()}


def test_load_state_dict_missing_key_raises_and_changes_nothing():
    model = nn.MLP(4, [8, 8], 3)
    before = _snapshot(model)
    sd = _changed_state(model)
    del sd["4.bias"]
    with pytest.raises(RuntimeError, match="4.bias"):
        model.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(model))


def test_load_state_dict_unexpected_key_raises_and_changes_nothing():
    model = nn.MLP(4, [8, 8], 3)
    before = _snapshot(model)
    sd = _changed_state(model)
    sd["6.weight"] = np.zeros((3, 3))
    with pytest.raises(RuntimeError, match="6.weight"):
        model.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(model))


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("bad", ["0.weight", "4.bias"])
def test_load_state_dict_wrong_shape_raises_and_changes_nothing(bad, strict):
    model = nn.MLP(4, [8, 8], 3)
    before = _snapshot(model)
    sd = _changed_state(model)
    sd[bad] = np.zeros(sd[bad].shape + (1,))
    with pytest.raises(RuntimeError, match=bad.replace(".", r"\.")):
        model.load_state_dict(sd, strict=strict)
    _assert_same_snapshot(before, _snapshot(model))


def test_load_state_dict_strict_false_ignores_missing_and_unexpected():
    model = nn.MLP(4, [8, 8], 3)
    before = _snapshot(model)
    sd = _changed_state(model)
    del sd["2.weight"]
    sd["extra.weight"] = np.zeros(5)
    result = model.load_state_dict(sd, strict=False)
    # torch's (missing_keys, unexpected_keys) named tuple
    assert result.missing_keys == ["2.weight"] and result.unexpected_keys == ["extra.weight"]
    assert model.load_state_dict(model.state_dict()) == ([], [])
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    after = _snapshot(model)
    np.testing.assert_array_equal(after["2.weight"], before["2.weight"])
    for name in ("0.weight", "0.bias", "2.bias", "4.weight", "4.bias"):
        np.testing.assert_allclose(after[name], before[name] + 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "bad",
    [np.array([["a", "b"], ["c", "d"]]), np.ones((2, 2)) * (1 + 2j), np.array([[None, 1], [2, 3]])],
    ids=["strings", "complex", "objects"],
)
def test_load_state_dict_of_non_real_values_is_a_type_error_naming_the_key(bad):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    before = _snapshot(model)
    sd = _changed_state(model)  # "0.*" are good and come first: they must not be loaded
    sd["1.weight"] = bad
    with pytest.raises(TypeError, match=r"load_state_dict.*'1\.weight'.*" + str(bad.dtype)):
        model.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(model))


def test_load_state_dict_copies_into_the_parameter_array_in_place():
    # As torch's param.copy_: a view taken earlier sees the loaded values.
    model = nn.Linear(3, 2)
    view = np.asarray(model.weight)
    data = model.weight.data
    model.load_state_dict({"weight": np.full((2, 3), 0.5), "bias": np.zeros(2)})
    assert model.weight.data is data
    np.testing.assert_array_equal(view, np.full((2, 3), 0.5, dtype=np.float32))
    neuron = nn.Neuron(2)  # a 0-d parameter too
    bias_view = np.asarray(neuron.b)
    neuron.load_state_dict({"w": np.ones(2), "b": np.array(0.25)})
    assert bias_view == np.float32(0.25)


def test_load_state_dict_rejects_a_non_mapping():
    with pytest.raises(TypeError):
        nn.Linear(2, 2).load_state_dict([("weight", np.zeros((2, 2)))])


# --------------------------------------------------------------------------- repr


def test_repr_of_linear_equals_torch():
    torch = _torch()
    assert repr(nn.Linear(3, 4)) == repr(torch.nn.Linear(3, 4))
    assert repr(nn.Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))


def test_repr_of_sequential_equals_torch():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Sigmoid()
    )
    assert repr(ours) == repr(theirs)


def test_repr_of_mlp_equals_torch_sequential_after_the_class_name():
    torch = _torch()
    ours, theirs = repr(nn.MLP(4, [8, 8], 3)), repr(_torch_mlp(torch))
    assert ours.splitlines()[0] == "MLP("
    assert ours.splitlines()[1:] == theirs.splitlines()[1:]


def test_repr_of_nested_custom_module_equals_torch():
    torch = _torch()
    assert repr(Net()) == repr(_torch_net(torch))


@pytest.mark.parametrize(
    "name", ["ReLU", "Sigmoid", "Tanh", "Identity", "LeakyReLU", "CrossEntropyLoss", "MSELoss"]
)
def test_repr_of_simple_modules_equals_torch(name):
    torch = _torch()
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


def _with_extra_lines(base, linear):
    """The same three custom classes over this engine's or torch's Module."""

    class Lines(base):
        def extra_repr(self):
            return "a=1\nb=2"

    class Outer(base):
        def __init__(self):
            super().__init__()
            self.inner, self.layer = Lines(), linear(2, 3)

        def extra_repr(self):
            return "x=1\ny=2"

    class OneLine(base):
        def __init__(self):
            super().__init__()
            self.inner = Lines()

        def extra_repr(self):
            return "z=1"

    return [Lines(), Outer(), OneLine()]


def test_repr_with_an_extra_repr_of_several_lines_equals_torch():
    # Each line of extra_repr on its own line, indented (was "Lines(a=1\nb=2)").
    torch = _torch()
    ours = _with_extra_lines(nn.Module, nn.Linear)
    theirs = _with_extra_lines(torch.nn.Module, torch.nn.Linear)
    for mine, reference in zip(ours, theirs, strict=True):
        assert repr(mine) == repr(reference)
    assert repr(nn.Sequential(ours[1])) == repr(torch.nn.Sequential(theirs[1]))


def test_a_parameter_may_replace_a_child_module_as_in_torch():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    model.extra = nn.Linear(2, 1)
    model.extra = nn.Parameter(tg.ones(3))
    assert "extra" not in dict(model.named_children())
    assert list(dict(model.named_parameters())) == ["extra", "0.weight", "0.bias"]  # torch's
    with pytest.raises(TypeError, match="parameter 'extra'"):
        model.extra = nn.ReLU()  # a module over a parameter: torch refuses too


def test_repr_of_leaky_relu_with_slope_equals_torch():
    torch = _torch()
    assert repr(nn.LeakyReLU(0.2)) == repr(torch.nn.LeakyReLU(0.2))


def test_repr_of_loss_with_reduction_equals_torch():
    torch = _torch()
    assert repr(nn.BCELoss(reduction="sum")) == repr(torch.nn.BCELoss(reduction="sum"))


# --------------------------------------------------------------------------- devices


def test_to_cpu_returns_self_and_keeps_values():
    model = nn.MLP(3, [4], 2)
    model(tg.randn(5, 3)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    before = _snapshot(model)
    assert model.to("cpu") is model
    assert model.cpu().float() is model
    assert all(p.device == "cpu" for p in model.parameters())
    _assert_same_snapshot(before, _snapshot(model))
    # Nothing to move or cast: the gradients stay the same objects, as in torch.
    assert all(p.grad is g for p, g in zip(model.parameters(), grads, strict=True))


def test_to_cuda_without_a_gpu_is_a_runtime_error():
    if tg.cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError):
        nn.Linear(2, 2).to("cuda")


@pytest.mark.parametrize(
    "convert",
    [
        lambda m, tg_or_torch: m.double(),
        lambda m, tg_or_torch: m.half(),
        lambda m, tg_or_torch: m.double().float(),
        lambda m, tg_or_torch: m.to(tg_or_torch.float64),
        lambda m, tg_or_torch: m.to("cpu", tg_or_torch.float64),
        lambda m, tg_or_torch: m.to(dtype=tg_or_torch.float16),
        lambda m, tg_or_torch: m.cpu(),
    ],
)
def test_dtype_conversions_cast_parameters_and_grads_as_torch(convert):
    torch = _torch()
    ours, theirs = nn.MLP(4, [8, 8], 3), _torch_mlp(torch)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    ours(tg.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    parameters, grads = list(ours.parameters()), [p.grad for p in ours.parameters()]
    grad_values = [g.numpy() for g in grads]
    assert convert(ours, tg) is ours
    convert(theirs, torch)
    named = zip(ours.named_parameters(), theirs.parameters(), grad_values, strict=True)
    for (name, p), q, grad in named:
        assert str(p.dtype) == str(q.dtype).removeprefix("torch."), name
        assert p.grad.dtype == p.dtype, name
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy(), err_msg=name)
        np.testing.assert_array_equal(p.grad.numpy(), grad.astype(p.dtype), err_msg=name)
    # The same parameter objects: an optimizer made before still updates the model.
    assert all(a is b for a, b in zip(ours.parameters(), parameters, strict=True))


def test_module_to_keeps_integer_parameters_and_refuses_integer_dtypes():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tg.ones(2))
            self.steps = nn.Parameter.__new__(nn.Parameter)
            Tensor.__init__(self.steps, np.array([3]))

    model = Counter()
    model.double()
    assert model.weight.dtype == np.float64 and model.steps.dtype == np.int64
    with pytest.raises(TypeError, match="floating"):
        model.to(tg.int64)
    with pytest.raises(TypeError, match="two dtypes"):
        model.to(tg.float32, tg.float64)
    assert model.weight.dtype == np.float64


def test_a_failed_module_to_changes_nothing():
    if tg.cuda_available():
        pytest.skip("a GPU is present")
    model = nn.MLP(3, [4], 2)
    model(tg.randn(5, 3)).sum().backward()
    before = _snapshot(model)
    with pytest.raises(RuntimeError):
        model.to("cuda", tg.float64)  # the device fails after the dtype was read
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    _assert_same_snapshot(before, _snapshot(model))


def test_a_converted_model_trains_in_its_new_dtype():
    from tinygrad_dlcv import optim

    model = nn.MLP(3, [4], 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model.double()
    loss = model(tg.randn(5, 3, dtype="float64")).sum()
    assert loss.dtype == np.float64
    loss.backward()
    optimizer.step()
    assert all(p.dtype == np.float64 for p in model.parameters())


@pytest.mark.cuda
def test_to_cuda_moves_parameters_and_grads(device):
    if device != "cuda":
        pytest.skip("CUDA-only test")
    model = nn.MLP(3, [4], 2)
    model(tg.randn(5, 3)).sum().backward()
    before = _snapshot(model)
    assert model.to("cuda") is model
    assert all(p.device.startswith("cuda") for p in model.parameters())
    assert all(p.grad.device.startswith("cuda") for p in model.parameters())
    _assert_same_snapshot(before, _snapshot(model))
    out = model(tg.randn(5, 3, device="cuda"))
    assert out.device.startswith("cuda")


def test_reassigning_a_parameter_or_child_keeps_its_place_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    ours.weight = nn.Parameter(tg.zeros(3, 2))
    theirs.weight = torch.nn.Parameter(torch.zeros(3, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert [p.shape for p in ours.parameters()] == [(3, 2), (3,)]

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(1, 1)
            self.b = nn.Linear(1, 1)
            self.a = nn.Linear(1, 2)  # re-made: still first

    assert list(Two().state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_add_module_register_parameter_and_append_as_torch():
    torch = _torch()

    def build(nn_module, parameter, linear, relu, ones):
        model = nn_module.Sequential(linear(2, 3))
        model.append(relu())
        model.add_module("head", linear(3, 1))
        model.register_parameter("scale", parameter(ones(1)))
        model.register_parameter("unused", None)
        return model

    ours = build(nn, nn.Parameter, nn.Linear, nn.ReLU, tg.ones)
    theirs = build(torch.nn, torch.nn.Parameter, torch.nn.Linear, torch.nn.ReLU, torch.ones)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_children()] == ["0", "1", "head"]
    assert repr(ours) == repr(theirs)
    assert ours.unused is None and "unused" not in ours.state_dict()
    for call, error in [
        (lambda m: m.add_module("a.b", nn.ReLU()), KeyError),
        (lambda m: m.add_module("", nn.ReLU()), KeyError),
        (lambda m: m.add_module(3, nn.ReLU()), TypeError),
        (lambda m: m.add_module("x", 5), TypeError),
        (lambda m: m.add_module("forward", nn.ReLU()), KeyError),
        (lambda m: m.register_parameter("w", tg.ones(2)), TypeError),
        (lambda m: m.register_parameter("head", nn.Parameter(tg.ones(1))), KeyError),
        (lambda m: m.append(lambda x: x), TypeError),
    ]:
        before = list(ours.state_dict())
        with pytest.raises(error):
            call(ours)
        assert list(ours.state_dict()) == before  # nothing half-registered


def test_plain_attributes_may_come_before_super_init_as_in_torch():
    class Early(nn.Module):
        def __init__(self):
            self.width = 3  # torch allows plain attributes here
            super().__init__()
            self.layer = nn.Linear(self.width, 1)

    assert Early().width == 3

    class TooEarly(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 1)  # a child has no registry yet
            super().__init__()

    with pytest.raises(AttributeError, match="__init__"):
        TooEarly()


def test_parameters_take_attributes_and_deepcopy_of_a_model_trains_on_its_own():
    import copy

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[0].bias.no_decay = True  # torch parameters take attributes
    twin = copy.deepcopy(model)
    assert twin[0].bias.no_decay is True and isinstance(twin[0].bias, nn.Parameter)
    for mine, copied in zip(model.parameters(), twin.parameters(), strict=True):
        assert not np.shares_memory(mine.data, copied.data)
        np.testing.assert_array_equal(mine.numpy(), copied.numpy())
    twin(tg.ones(4, 2)).sum().backward()
    assert all(p.grad is None for p in model.parameters())
    assert all(p.grad is not None for p in twin.parameters())


def test_train_and_eval_call_each_childs_own_train_as_torch():
    calls = []

    class Frozen(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(False)  # this part stays in evaluation mode

    model = nn.Sequential(nn.Linear(2, 2), Frozen())
    model.train()
    model.eval()
    model.train()
    assert calls == [True, False, True]
    assert model.training and model[0].training and not model[1].training


def test_apply_visits_children_first_then_self_and_returns_self():
    seen = []
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert model.apply(lambda module: seen.append(type(module).__name__)) is model
    torch = pytest.importorskip("torch")
    expected = []
    torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ).apply(lambda module: expected.append(type(module).__name__))
    assert seen == expected


def test_apply_initialises_weights_the_torch_way():
    def init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    model = nn.MLP(3, [4], 2).apply(init_weights)
    assert all((layer.weight.numpy() == 0).all() for layer in model if isinstance(layer, nn.Linear))


def test_requires_grad_freezes_every_parameter_and_returns_self():
    model = nn.MLP(3, [4], 2)
    assert model.requires_grad_(False) is model
    assert not any(parameter.requires_grad for parameter in model.parameters())
    model[0].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, False]
    with pytest.raises(TypeError):
        model.requires_grad_("no")


def test_a_linear_without_bias_keeps_a_slot_only_a_parameter_fits():
    layer = nn.Linear(3, 2, bias=False)
    with pytest.raises(TypeError, match="parameter 'bias'"):
        layer.bias = tg.zeros(2)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    layer.bias = nn.Parameter(tg.zeros(2))
    assert list(layer.state_dict()) == ["weight", "bias"]


@pytest.mark.cuda
def test_to_cuda_and_a_dtype_at_once(device):
    if device != "cuda":
        pytest.skip("CUDA-only test")
    model = nn.MLP(3, [4], 2)
    model(tg.randn(5, 3)).sum().backward()
    before = _snapshot(model)
    assert model.to("cuda", tg.float64) is model
    for p in model.parameters():
        assert p.device.startswith("cuda") and p.dtype == np.float64
        assert p.grad.device.startswith("cuda") and p.grad.dtype == np.float64
    assert model.cpu().float() is model
    _assert_same_snapshot(before, _snapshot(model))


# --------------------------------------------------------------------------- buffers


def _with_buffers(library, tensor):
    """The same model in this engine and in torch: a Linear child, a parameter of its
    own, a persistent float buffer, an int buffer and a non-persistent one."""
    base = library.nn.Module

    class Scaled(base):
        def __init__(self):
            super().__init__()
            self.linear = library.nn.Linear(3, 2)
            self.gain = library.nn.Parameter(tensor(np.ones(2, dtype=np.float32)))
            self.register_buffer("running_mean", tensor(np.arange(2, dtype=np.float32)))
            self.register_buffer("steps", tensor(np.array(7)))
            self.register_buffer("scratch", tensor(np.zeros(4, dtype=np.float32)), False)

        def forward(self, x):
            return (self.linear(x) - self.running_mean) * self.gain

    return Scaled()


def test_buffers_are_saved_loaded_and_named_as_torch():
    torch = _torch()
    ours, theirs = _with_buffers(tg, tg.tensor), _with_buffers(torch, torch.tensor)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # scratch not saved
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(list(ours.buffers())) == 3
    with torch.no_grad():
        theirs.running_mean += 5
        theirs.steps += 1
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (name, value), (_, expected) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(value, expected.numpy(), err_msg=name)
        assert value.dtype == expected.numpy().dtype, name
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )
    # A torch model takes this engine's state_dict unchanged, too.
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})


def test_buffers_move_and_cast_with_the_module_but_are_not_trained():
    model = _with_buffers(tg, tg.tensor)
    mean = model.running_mean
    model.double()
    assert model.running_mean is mean and mean.dtype == np.float64
    assert model.steps.dtype == np.int64  # integer state keeps its dtype
    assert model.scratch.dtype == np.float64  # non-persistent buffers move too
    assert all(b.requires_grad is False for b in model.buffers())
    assert not any(p is mean for p in model.parameters())


def test_buffer_assignment_and_registration_rules_follow_torch():
    torch = _torch()
    for library, tensor in ((tg, tg.tensor), (torch, torch.tensor)):
        model = _with_buffers(library, tensor)
        model.running_mean = tensor(np.full(2, 3.0, dtype=np.float32))  # a new value
        assert "running_mean" in dict(model.named_buffers())
        with pytest.raises(TypeError):
            model.running_mean = 3.0
        model.running_mean = None  # an empty slot: skipped, but still registered
        assert "running_mean" not in model.state_dict()
        model.running_mean = tensor(np.zeros(2, dtype=np.float32))
        assert list(model.state_dict())[1] == "running_mean"  # back in its place
        with pytest.raises(TypeError):
            model.register_buffer("other", [1.0, 2.0])
        with pytest.raises(KeyError):
            model.register_buffer("a.b", tensor(np.zeros(1)))
        with pytest.raises(KeyError):
            model.register_buffer("gain", tensor(np.zeros(1)))  # a parameter's name
        del model.steps
        assert "steps" not in model.state_dict()
        model.scratch = library.nn.Parameter(tensor(np.zeros(1, dtype=np.float32)))
        assert "scratch" in dict(model.named_parameters())
        assert "scratch" not in dict(model.named_buffers())


def test_a_failed_load_leaves_buffers_unchanged():
    model = _with_buffers(tg, tg.tensor)
    state = model.state_dict()
    bad = dict(state, running_mean=np.full(2, 9.0), steps=np.zeros(3))  # steps: wrong shape
    with pytest.raises(RuntimeError, match="steps"):
        model.load_state_dict(bad)
    _assert_same_snapshot(state, model.state_dict())


# --------------------------------------------------------------------------- forward hooks


def test_forward_hooks_see_and_replace_what_torch_hooks_do():
    torch = _torch()
    ours, theirs = nn.MLP(4, [8, 8], 3), _torch_mlp(torch)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    results = []
    for model, tensor, values in ((ours, tg.tensor, Tensor.numpy), (theirs, torch.tensor, None)):
        to_numpy = values or (lambda t: t.detach().numpy())
        seen = []
        handles = [
            model[1].register_forward_hook(
                lambda m, args, out, seen=seen, to_numpy=to_numpy: seen.append(to_numpy(out))
            ),
            # Pre-hook: doubles the input of the last layer (a tuple back, as torch takes).
            model[4].register_forward_pre_hook(lambda m, args: (args[0] * 2,)),
            # A single value back is wrapped into the inputs tuple.
            model[2].register_forward_pre_hook(lambda m, args: args[0] + 1),
            # Hooks run in the order registered; each sees the previous one's output.
            model[4].register_forward_hook(lambda m, args, out: out - 1),
            model[4].register_forward_hook(lambda m, args, out: out * 3),
        ]
        x_tensor = tensor(x)
        x_tensor.requires_grad_(True)
        out = model(x_tensor)
        out.sum().backward()
        results.append((seen[0], to_numpy(out), to_numpy(x_tensor.grad)))
        for handle in handles:
            handle.remove()
        handles[0].remove()  # twice: harmless
        plain = model(tensor(x))
        results.append(to_numpy(plain))
        assert len(seen) == 1  # removed: not called again
    (
        (ours_seen, ours_out, ours_grad),
        ours_plain,
        (their_seen, their_out, their_grad),
        their_plain,
    ) = results
    np.testing.assert_allclose(ours_seen, their_seen, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_out, their_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours_grad, their_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_plain, their_plain, rtol=1e-5, atol=1e-6)


def test_forward_hooks_on_a_container_and_bad_hooks():
    model = nn.MLP(2, [3], 1)
    calls = []
    model.register_forward_pre_hook(lambda m, args: calls.append(("pre", m, args[0].shape)))
    model.register_forward_hook(lambda m, args, out: calls.append(("post", m, out.shape)))
    model(tg.randn(4, 2))
    assert calls == [("pre", model, (4, 2)), ("post", model, (4, 1))]
    with pytest.raises(TypeError, match="register_forward_hook"):
        model.register_forward_hook("not a function")
    with pytest.raises(TypeError, match="register_forward_pre_hook"):
        model.register_forward_pre_hook(None)


def test_a_module_pickled_before_buffers_and_hooks_existed_still_works():
    import pickle

    model = nn.MLP(3, [4], 2)
    x = tg.randn(5, 3)
    expected = model(x).numpy()
    for name in ("_buffers", "_non_persistent_buffers", "_forward_pre_hooks", "_forward_hooks"):
        del model.__dict__[name]  # as a pickle made before 2026-11-28 holds it
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored(x).numpy(), expected)
    assert list(restored.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    restored.register_buffer("steps", tg.tensor(np.array(1)))
    restored.register_forward_hook(lambda m, args, out: out * 0)
    assert restored(x).numpy().sum() == 0 and "steps" in restored.state_dict()


def test_register_buffer_checks_the_name_first_as_torch():
    with pytest.raises(KeyError):
        nn.Linear(2, 2).register_buffer("a.b", 5)
