"""Layers: the lecture's single neuron, linear layers, MLPs, activations, losses."""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from ..arguments import check_int
from ..backend import array_module_of
from ..tensor import Tensor, default_generator, zeros
from . import functional as F
from . import init
from .module import Module, Parameter


def _check_size(owner: str, label: str, value: Any) -> None:
    """A layer size: an int >= 1 (``arguments.check_int``)."""
    check_int(value, label, owner, 1)


# --------------------------------------------------------------------------- activations


def _check_inplace(owner: str, inplace: Any) -> bool:
    """torch's ``inplace`` flag, taken for its signature: the result is the same, and
    it is always computed into a new tensor here (the graph keeps the input)."""
    if not isinstance(inplace, bool):
        raise TypeError(f"{owner}: inplace must be True or False, got {inplace!r}")
    return inplace


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted as torch's (see ``_check_inplace``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace("ReLU", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class _AlongAxis(Module):
    """An activation along one axis; ``dim`` is accepted as torch's name for ``axis``."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if dim is not None:
            if axis != -1:
                raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}")
            axis = dim
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{name}: axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def extra_repr(self) -> str:
        return f"dim={self.axis}"  # torch's words: Softmax(dim=1)


class Softmax(_AlongAxis):
    """exp(x) / sum(exp(x)) along ``axis`` (the class probabilities of logits)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)


class LogSoftmax(_AlongAxis):
    """x - logsumexp(x) along ``axis`` (stable; ``NLLLoss`` of it is cross-entropy)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise. ``inplace`` as in ``ReLU``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope = negative_slope
        self.inplace = _check_inplace("LeakyReLU", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Identity(Module):
    """Returns its input; any arguments are ignored, as torch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim (by default all but the batch axis), as torch.nn.Flatten.

    Parameters
    ----------
    start_dim, end_dim : int
        The first and last axis to merge (negative counts from the end);
        torch's names and defaults.
    start_axis, end_axis : int, optional
        The same, by the NumPy-style names of ``Tensor.flatten``; give one
        name or the other (the ``_axis`` name wins over a ``_dim`` left at its
        default, which cannot be told from one given equal to it).

    Raises
    ------
    TypeError
        An axis given under both names, the ``_dim`` one not at its default,
        with different values.
    """

    def __init__(
        self,
        start_dim: int = 1,
        end_dim: int = -1,
        *,
        start_axis: int | None = None,
        end_axis: int | None = None,
    ) -> None:
        super().__init__()
        self.start_dim = _one_axis("start", start_dim, 1, start_axis)
        self.end_dim = _one_axis("end", end_dim, -1, end_axis)

    @property
    def start_axis(self) -> int:
        """The first merged axis (``start_dim``, by ``Tensor.flatten``'s name)."""
        return self.start_dim

    @property
    def end_axis(self) -> int:
        """The last merged axis (``end_dim``, by ``Tensor.flatten``'s name)."""
        return self.end_dim

    def forward(self, x: Tensor) -> Tensor:
        return F.check_tensor(x, "Flatten").flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _one_axis(which: str, dim: int, default: int, axis: int | None) -> int:
    """Flatten's ``{which}_dim``, or its alias ``{which}_axis`` when that is given."""
    if axis is None:
        return dim
    if dim != default and dim != axis:
        raise TypeError(f"Flatten: got {which}_dim={dim} and {which}_axis={axis}; give one of them")
    return axis


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace("Dropout", inplace)
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout: p must be a real number, got {p!r}")
        if not 0 <= p <= 1:  # also refuses NaN
            raise ValueError(f"Dropout: p must lie in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        x = F.check_tensor(x, "Dropout")
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0
        if x.dtype.kind != "f":  # the 1 / (1 - p) scale would be truncated to the integers
            raise TypeError(
                f"Dropout: the kept values are scaled by 1 / (1 - p), which needs a floating "
                f"tensor, got dtype {x.dtype}"
            )
        keep = default_generator().random(x.shape) >= self.p
        scale = array_module_of(x.data).asarray(keep / (1 - self.p), dtype=x.dtype)
        return x * Tensor._wrap(scale)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"  # as torch prints it


_ACTIVATIONS = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


def _activation_class(name: str | None, owner: str) -> type[Module]:
    """The activation module class called ``name`` (None means identity)."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{owner}: activation must be a name (str) or None, got {name!r}")
    key = "identity" if name is None else name.lower()
    if key not in _ACTIVATIONS:
        raise ValueError(
            f"{owner}: unknown activation {name!r}; choose from {sorted(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[key]


# --------------------------------------------------------------------------- layers


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features), as torch.nn.Linear.

    Initialised as PyTorch does: W and b uniform in +-1/sqrt(in_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        device: str | None = None,
    ) -> None:
        super().__init__()
        _check_size("Linear", "in_features", in_features)
        _check_size("Linear", "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, device=device))
            bound = 1 / math.sqrt(in_features)
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)  # a slot: only a Parameter fits it

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Neuron(Module):
    """The lecture's single neuron: activation(x . w + b).

    ``w`` has shape (in_features,) and ``b`` shape (); for inputs of shape
    (N, in_features) the output has shape (N,). With the sigmoid it is
    logistic regression, trained by "prediction error x feature".
    """

    def __init__(
        self,
        in_features: int,
        activation: str | None = "sigmoid",
        dtype: Any = None,
        device: str | None = None,
    ) -> None:
        super().__init__()
        _check_size("Neuron", "in_features", in_features)
        self.in_features = in_features
        self.activation_name = activation
        self.activation = _activation_class(activation, "Neuron")()
        bound = 1 / math.sqrt(in_features)
        self.w = init.uniform_(
            Parameter(zeros(in_features, dtype=dtype, device=device)), -bound, bound
        )
        self.b = init.uniform_(Parameter(zeros((), dtype=dtype, device=device)), -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(F.check_tensor(x, "Neuron") @ self.w + self.b)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, activation={self.activation_name!r}"


class _ModuleSequence(Module):
    """Modules held by position, named "0", "1", ...: indexing and torch's edits,
    shared by Sequential and ModuleList."""

    def _position(self, index: Any, who: str) -> int:
        """``index`` as a position in 0..len-1 (negative counts from the end)."""
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{who}: index must be an int, got {type(index).__name__}")
        count = len(self._modules)
        if not -count <= index < count:
            raise IndexError(f"{who}: index {index} is out of range for {count} modules")
        return int(index) % count

    def _slice(self, index: slice) -> _ModuleSequence:
        """The modules of a slice, as a new container (subclasses say how named)."""
        raise NotImplementedError

    def __getitem__(self, index: int | slice) -> Module:
        """The module at ``index``; a slice gives a container of those modules."""
        if isinstance(index, slice):
            return self._slice(index)
        return list(self._modules.values())[self._position(index, type(self).__name__)]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at ``index``, under the same name."""
        who = type(self).__name__
        name = list(self._modules)[self._position(index, who)]
        self._add_child(name, module, who)

    def _renumber(self, modules: list[Module | None]) -> None:
        """Hold exactly ``modules``, named "0", "1", ... (torch renames after a removal)."""
        for name in list(self._modules):
            delattr(self, name)
        for position, module in enumerate(modules):
            self._add_child(str(position), module, type(self).__name__)

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module(s) at ``index``; the rest are renamed "0", "1", ..., as torch."""
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index, type(self).__name__)]
        self._renumber(modules)

    def append(self, module: Module) -> _ModuleSequence:
        """Add ``module`` at the end (named by its position); returns self, as torch."""
        self._add_child(str(len(self)), module, f"{type(self).__name__}.append")
        return self

    def insert(self, index: int, module: Module) -> _ModuleSequence:
        """Put ``module`` before position ``index`` (``len(self)``: at the end); the
        modules are renamed "0", "1", ...; returns self, as torch."""
        who = f"{type(self).__name__}.insert"
        if not isinstance(module, Module):
            raise TypeError(f"{who}: expected a Module, got {type(module).__name__}")
        count = len(self._modules)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{who}: index must be an int, got {type(index).__name__}")
        if not -count <= index <= count:
            raise IndexError(f"{who}: index {index} is out of range for {count} modules")
        modules = list(self._modules.values())
        modules.insert(int(index) + count if index < 0 else int(index), module)
        self._renumber(modules)
        return self

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        """Append each of ``modules``; returns self, as torch."""
        modules = list(modules)
        for module in modules:  # all checked first: a bad one adds none
            if not isinstance(module, Module):
                raise TypeError(
                    f"{type(self).__name__}.extend: expected Modules, got {type(module).__name__}"
                )
        for module in modules:
            self.append(module)
        return self

    def pop(self, index: int | slice = -1) -> Module:
        """Remove the module(s) at ``index`` and return it (a container for a slice)."""
        removed = self[index]
        del self[index]
        return removed

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_ModuleSequence):
    """Modules applied one after another; named "0", "1", ... (or by an OrderedDict).

    Raises
    ------
    TypeError
        Something that is not a Module, or an OrderedDict name that is not a string.
    KeyError
        An OrderedDict name that is empty, contains "." (it would break the
        dotted parameter names) or is already an attribute, as torch.
    """

    def __init__(self, *modules: Module | OrderedDict) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = list(modules[0].items())
        else:
            named = [(str(index), module) for index, module in enumerate(modules)]
        for name, module in named:
            self._add_child(name, module, "Sequential")  # None: an emptied slot (a slice)

    def forward(self, x: Tensor) -> Tensor:
        for module in self._modules.values():
            x = module(x)
        return x

    def _slice(self, index: slice) -> Sequential:
        # Under their names, as torch: the state_dict of model[1:] says "3.weight".
        return Sequential(OrderedDict(list(self._modules.items())[index]))


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are the model's (torch's ``nn.ModuleList``):
    ``self.layers = nn.ModuleList([...])`` registers each as "layers.0", "layers.1", ...

    It has no forward: the model that holds it decides how its modules are
    called. Not a Module (TypeError), and indices out of range (IndexError),
    are refused as in torch.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, index: slice) -> ModuleList:
        return ModuleList(list(self._modules.values())[index])  # renamed from "0", as torch

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``; the modules are renamed "0", "1",
        ... (returns None, as torch's ModuleList.insert)."""
        super().insert(index, module)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __repr__(self) -> str:
        # torch's: runs of modules that print the same are one line, "(0-2): 3 x Linear(...)".
        lines = []
        modules = list(self._modules.items())
        start = 0
        while start < len(modules):
            text = repr(modules[start][1])
            stop = start + 1
            while stop < len(modules) and repr(modules[stop][1]) == text:
                stop += 1
            text = text.replace("\n", "\n  ")
            if stop - start == 1:
                lines.append(f"({modules[start][0]}): {text}")
            else:
                lines.append(
                    f"({modules[start][0]}-{modules[stop - 1][0]}): {stop - start} x {text}"
                )
            start = stop
        if not lines:
            return "ModuleList()"
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class MLP(Sequential):
    """Linear layers with an activation between them (none after the last).

    ``MLP(784, [256], 10)`` is ``Sequential(Linear(784, 256), ReLU(),
    Linear(256, 10))``, so its state_dict keys are those of the equivalent
    torch.nn.Sequential: ``0.weight``, ``0.bias``, ``2.weight``, ``2.bias``.
    """

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str | None = "relu",
        dtype: Any = None,
        device: str | None = None,
    ) -> None:
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):
            raise TypeError(f"MLP: hidden must be a list of layer sizes, got {hidden!r}")
        sizes = [in_features, *hidden, out_features]
        labels = ["in_features", *(f"hidden[{i}]" for i in range(len(sizes) - 2)), "out_features"]
        for label, size in zip(labels, sizes, strict=True):
            _check_size("MLP", label, size)
        make_activation = _activation_class(activation, "MLP")  # checked also for hidden=[]
        layers: list[Module] = []
        for position, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Linear(fan_in, fan_out, dtype=dtype, device=device))
            if position < len(sizes) - 2:
                layers.append(make_activation())
        super().__init__(*layers)


# --------------------------------------------------------------------------- loss modules


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices (fused, stable)."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities against class indices."""

    def forward(self, log_probabilities: Tensor, target: Any) -> Tensor:
        return F.nll_loss(log_probabilities, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities."""

    def forward(self, probabilities: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(probabilities, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits) (fused, stable)."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)
