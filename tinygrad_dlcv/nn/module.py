"""Module and Parameter: models as trees of modules that own parameters."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy

from ..arguments import InvalidParameterError, check_bool
from ..backend import (
    holds_real_numbers,
    host_copy,
    is_writable,
    move_to_device,
    to_host,
    values_of,
)
from ..tensor import (
    Tensor,
    add_hook,
    clear_grad,
    device_and_dtype,
    module_call,
    note_in_place_write,
)


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (requires_grad=True).

    Unlike a plain Tensor it takes attributes of the user's (``p.no_decay = True``),
    as torch's parameters do.
    """

    __slots__ = ("__dict__",)

    def __init__(
        self,
        data: Any,
        requires_grad: bool = True,
        dtype: Any = None,
        device: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device, name=name)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` could not match: parameter names absent from the
    state_dict, and state_dict keys that name no parameter (torch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


class Module:
    """Base class of layers and models, with PyTorch's conventions.

    Assigning a Parameter or a Module to an attribute registers it, in order, so
    ``named_parameters()`` yields PyTorch's names (``0.weight``,
    ``layers.1.bias``) and a ``state_dict`` moves between this engine and the
    equivalent ``torch.nn`` model unchanged. As in PyTorch, a registered
    parameter can be replaced only by a Parameter or None, a registered
    submodule only by a Module or None, and a registered buffer only by a
    Tensor or None (anything else is a TypeError).
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def __setstate__(self, state: dict) -> None:
        # A module pickled before buffers and forward hooks existed (2026-11-28) has
        # no registries for them: empty ones, as a module made now starts with.
        self.__dict__.update(state)
        for name, empty in (
            ("_buffers", OrderedDict),
            ("_non_persistent_buffers", set),
            ("_forward_pre_hooks", dict),
            ("_forward_hooks", dict),
        ):
            self.__dict__.setdefault(name, empty())

    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None:
            # Plain attributes may come first (torch allows them); a parameter or a
            # child has no registry to go to yet.
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {name!r} before Module.__init__() has run "
                    "(call super().__init__() first)"
                )
            object.__setattr__(self, name, value)
            return
        # A plain Tensor over a Parameter would silently drop it from the model
        # (and from its optimizer's view): torch refuses, and so do we.
        if name in self._parameters and not (value is None or isinstance(value, Parameter)):
            raise TypeError(
                f"cannot assign {type(value).__name__!r} as parameter {name!r} "
                "(nn.Parameter or None expected)"
            )
        # A Parameter may take a child's name (torch: it replaces the child).
        if name in self._modules and not (value is None or isinstance(value, (Module, Parameter))):
            raise TypeError(
                f"cannot assign {type(value).__name__!r} as child module {name!r} "
                "(nn.Module or None expected)"
            )
        buffers = self._buffers
        if name in buffers and not (value is None or isinstance(value, (Tensor, Module))):
            raise TypeError(
                f"cannot assign {type(value).__name__!r} as buffer {name!r} "
                "(Tensor or None expected)"
            )
        # Assigning to a registered name keeps its place (a dict keeps an existing key's
        # position), so parameters() and state_dict() stay in torch's order after
        # weight tying or re-making a layer. None keeps the slot too, as torch: the name
        # stays registered (skipped by parameters() and state_dict()) and in its place.
        if value is None and (name in self._parameters or name in self._modules or name in buffers):
            registry = next(
                registry
                for registry in (self._parameters, self._modules, buffers)
                if name in registry
            )
            registry[name] = None
        elif isinstance(value, Parameter):
            self._forget(name, but=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, but=self._modules)
            self._modules[name] = value
        elif name in buffers:  # a Tensor: the buffer's new value, in its place
            buffers[name] = value
        else:
            self._forget(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str, but: dict | None = None) -> None:
        """Drop ``name`` from every registry (parameters, children, buffers) but ``but``."""
        for registry in (self._parameters, self._modules, self._buffers):
            if registry is not but:
                registry.pop(name, None)
        if but is not self._buffers:
            self._non_persistent_buffers.discard(name)

    def _check_new_name(self, name: Any, registry: dict, who: str) -> None:
        """Raise as torch does for a name a child or parameter cannot be registered under."""
        if not isinstance(name, str):
            raise TypeError(f"{who}: name should be a string, got {type(name).__name__}")
        if not name or "." in name:  # a dot would break the dotted state_dict names
            raise KeyError(f"{who}: name can't be empty or contain '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"{who}: attribute {name!r} already exists")

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (``self.name = module``, for names
        that are not identifiers); None keeps an empty slot, as torch."""
        self._add_child(name, module, "add_module")

    def _add_child(self, name: Any, module: Any, who: str) -> None:
        """``add_module``, with errors that name ``who``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{who}: {type(module).__name__} is not a Module")
        self._check_new_name(name, self._modules, who)
        if module is None:
            self._modules[name] = None
        setattr(self, name, module)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as the parameter ``name``; None keeps an empty slot."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: cannot assign {type(param).__name__} as parameter "
                f"{name!r} (nn.Parameter or None expected)"
            )
        self._check_new_name(name, self._parameters, "register_parameter")
        if param is None:
            self._parameters[name] = None
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as the buffer ``name``: state that is not trained (no
        gradient, no optimizer) but moves with ``to()`` and, when ``persistent``, is
        saved in ``state_dict`` after the module's own parameters (torch's order).
        None keeps an empty slot."""
        self._check_new_name(name, self._buffers, "register_buffer")  # first, as torch
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: cannot assign {type(tensor).__name__!r} as buffer "
                f"{name!r} (Tensor or None expected)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self._call_forward(args, kwargs)

    def _call_forward(self, args: tuple, kwargs: dict) -> Any:
        # A container (a child that is not an emptied slot): its children are the units
        # of the graph.
        if self._modules and any(child is not None for child in self._modules.values()):
            return self.forward(*args, **kwargs)
        with module_call(self):  # ops recorded here belong to this call (for viz)
            return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """``forward`` between the hooks, as torch: each pre-hook may replace the
        positional inputs (a tuple, or one value), each hook the output."""
        for hook in list(self._forward_pre_hooks.values()):
            replacement = hook(self, args)
            if replacement is not None:
                args = replacement if isinstance(replacement, tuple) else (replacement,)
        output = self._call_forward(args, kwargs)
        for hook in list(self._forward_hooks.values()):
            replacement = hook(self, args, output)
            if replacement is not None:
                output = replacement
        return output

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args)`` before each ``forward``; it may return new
        positional inputs. Returns a handle whose ``remove()`` unregisters it."""
        if not callable(hook):
            raise TypeError(
                f"register_forward_pre_hook: expected a function, got {type(hook).__name__}"
            )
        return add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args, output)`` after each ``forward``; it may return a
        new output (as torch's, e.g. to keep a layer's activations for a picture).
        Returns a handle whose ``remove()`` unregisters it."""
        if not callable(hook):
            raise TypeError(
                f"register_forward_hook: expected a function, got {type(hook).__name__}"
            )
        return add_hook(self._forward_hooks, hook)

    # ----------------------------------------------------------------- the module tree

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their attribute names, each shared module once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names ("" for self)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name, each shared parameter once.

        Parameters
        ----------
        prefix : str
            Put before every name, joined by a dot (``"model"`` gives
            ``model.0.weight``), as torch.
        recurse : bool
            True: the parameters of this module and of every module below it.
            False: only those this module owns directly.
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, parameter in module._parameters.items():
                if parameter is None or id(parameter) in seen:
                    continue
                seen.add(id(parameter))
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each shared parameter once (``recurse=False``: only this module's)."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    # ----------------------------------------------------------------- state

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name, each shared buffer once (as
        ``named_parameters``)."""
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None and id(buffer) not in seen:
                    seen.add(id(buffer))
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (see ``named_buffers``)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter, as torch's ``Module.zero_grad``.

        Parameters
        ----------
        set_to_none : bool
            True (default): ``grad = None``. False: every existing gradient
            is zeroed in place, as torch's ``zero_()`` (a tensor the user
            assigned as a gradient sees the zeros too); a parameter without
            a gradient keeps None.
        """
        for parameter in self.parameters():
            clear_grad(parameter, set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and all below; returns self.

        Raises
        ------
        InvalidParameterError
            ``mode`` is not a bool: a TypeError (the rule for a wrong type) that is
            also the ValueError torch raises ("training mode is expected to be boolean").
        """
        if not isinstance(mode, bool):
            raise InvalidParameterError(
                f"{type(self).__name__}.train: training mode is expected to be boolean, "
                f"got {mode!r}"
            )
        object.__setattr__(self, "training", mode)
        for child in self.children():  # each child's own train(), which it may override
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; returns self."""
        return self.train(False)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, then on this module (as torch, children
        first: ``model.apply(init_weights)``); returns self."""
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}.apply: expected a function, got {fn!r}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradients of every parameter on or off (freezing a part of a model);
        returns self."""
        check_bool(requires_grad, "requires_grad", f"{type(self).__name__}.requires_grad_")
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def _state_entries(self) -> Iterator[tuple[str, Tensor]]:
        """Every name under which a parameter or a persistent buffer is registered,
        shared ones under each name, in torch's order (each module's parameters, then
        its buffers, then its children).

        This is what a state_dict holds (as in PyTorch), so a model with tied
        weights moves to and from torch; ``named_parameters`` lists each once.
        """
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    yield prefix + name, parameter
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, buffer
            stack.extend(
                (f"{prefix}{name}.", child)
                for name, child in reversed(module._modules.items())
                if child is not None
            )

    def state_dict(self) -> OrderedDict[str, numpy.ndarray]:
        """Name -> a NumPy copy of the values of each parameter and persistent buffer
        (a shared one under each of its names)."""
        return OrderedDict((name, host_copy(tensor.data)) for name, tensor in self._state_entries())

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters and persistent buffers, checking every key,
        dtype and shape first.

        Values may be NumPy arrays, Tensors or anything with ``.numpy()`` (a
        torch tensor's ``.detach().numpy()``). They are cast to each
        parameter's dtype and copied into its existing array in place, as
        torch's ``param.copy_``: a view of the parameter taken earlier
        (``np.asarray(p)``) sees the new values.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, as torch's (both empty when
            ``strict``).

        Raises
        ------
        RuntimeError
            A missing or unexpected key (with ``strict``) or a wrong shape.
        TypeError
            ``state_dict`` is not a mapping, or a value is not an array of real
            numbers (strings, complex numbers, objects).

        After any error no parameter has changed.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping, got {type(state_dict).__name__}")
        parameters = dict(self._state_entries())
        missing = [name for name in parameters if name not in state_dict]
        unexpected = [name for name in state_dict if name not in parameters]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected} "
                f"for {type(self).__name__}"
            )
        staged = []
        for name, parameter in parameters.items():
            if name not in state_dict:
                continue
            values = _as_host_array(state_dict[name], name)
            # Strings would fail the cast half-way through; complex would lose their imaginary part.
            if not holds_real_numbers(values.dtype):
                raise TypeError(
                    f"load_state_dict: value for {name!r} has dtype {values.dtype}, "
                    f"expected real numbers for a parameter of dtype {parameter.dtype}"
                )
            if values.shape != parameter.shape:
                raise RuntimeError(
                    f"load_state_dict: {name} has shape {values.shape} in the state_dict, "
                    f"the model expects {parameter.shape}"
                )
            values = move_to_device(values.astype(parameter.dtype, copy=True), parameter.device)
            staged.append((parameter, values))
        for parameter, values in staged:  # every check passed: now change the model
            data = parameter.data
            if is_writable(data):
                data[...] = values  # in place, as torch's copy_: views of the parameter stay valid
                note_in_place_write(parameter)
            else:  # read-only memory (a parameter made around a read-only view) cannot take it
                parameter.data = values
        return IncompatibleKeys(missing, unexpected)

    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Move every parameter (and its gradient) and buffer to ``device`` and cast the
        floating ones to ``dtype``, in place; returns self. torch's spellings: ``to("cuda")``,
        ``to(tg.float64)``, ``to("cuda", tg.float64)``, ``to(dtype=tg.float64)``.

        The parameters and buffers stay the same objects (an optimizer made
        before keeps updating them); integer ones keep their dtype, as in torch. A
        dtype that is not floating is a TypeError. Every new array is made
        before any parameter changes, so a failure changes none.
        """
        who = f"{type(self).__name__}.to"
        device, dtype = device_and_dtype(device, dtype, who)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"{who}: only floating dtypes can be given, got {dtype}")

        def convert(array: Any) -> Any:
            if device is not None:
                array = move_to_device(array, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        tensors = [*self.parameters(), *self.buffers()]
        new_values = [convert(tensor.data) for tensor in tensors]
        new_grads = [
            None if tensor.grad is None else convert(tensor.grad.data) for tensor in tensors
        ]
        for tensor, value, grad in zip(tensors, new_values, new_grads, strict=True):
            tensor.data = value
            if grad is not None and grad is not tensor.grad.data:
                tensor.grad = Tensor._wrap(grad)
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU, in place; returns self."""
        return self.to("cpu")

    def cuda(self, index: int | None = None) -> Module:
        """Move every parameter and buffer to the current (or given) GPU, in place; returns self."""
        return self.to("cuda" if index is None else f"cuda:{index}")

    def float(self) -> Module:
        """Cast every floating parameter and buffer to float32, in place; returns self."""
        return self.to(dtype=numpy.float32)

    def double(self) -> Module:
        """Cast every floating parameter and buffer to float64, in place; returns self."""
        return self.to(dtype=numpy.float64)

    def half(self) -> Module:
        """Cast every floating parameter and buffer to float16, in place; returns self."""
        return self.to(dtype=numpy.float16)

    # ----------------------------------------------------------------- printing

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of ``repr``."""
        return ""

    def __repr__(self) -> str:
        # torch's layout: a one-line extra_repr stays inside the parentheses; children,
        # or an extra_repr of several lines, go one per line, indented by two.
        extra_lines = self.extra_repr().split("\n") if self.extra_repr() else []
        child_lines = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


def _as_host_array(value: Any, name: str) -> numpy.ndarray:
    """A NumPy array from an array, a Tensor, or a torch tensor."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return values_of(value.detach()).cpu().numpy()
    try:
        return numpy.asarray(to_host(value))
    except (TypeError, ValueError):
        raise TypeError(
            f"load_state_dict: value for {name} is not an array ({type(value).__name__})"
        ) from None
