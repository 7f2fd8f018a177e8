"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam and AdamW.

Each optimizer holds ``param_groups`` (lists of Tensors with their
hyper-parameters) and a per-parameter ``state``. ``step()`` updates every
parameter that has a gradient, in place on ``param.data``, with the same rule
as ``torch.optim`` step for step. The rules work on backend arrays through the
array module (``xp``) of each parameter, so they run unchanged on NumPy and
CuPy, and record no graph. Hyper-parameters are Python floats: a step makes no
host round trip.

``step()`` never writes to a gradient (weight decay makes a new array); every
rule computes into fresh buffers or into its own state. ``zero_grad(set_to_none
=False)`` zeros the gradients in place, as torch's.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy

from ..backend import (
    array_module_of,
    check_same_device,
    device_of,
    holds_real_numbers,
    host_copy,
    is_cuda_array,
    is_writable,
    move_to_device,
    to_host,
)
from ..tensor import Tensor, clear_grad, enable_grad, note_in_place_write


class _UnfittingStateDict(ValueError, RuntimeError):
    """A state_dict that does not fit the optimizer.

    It is a ValueError, as ``torch.optim`` raises, and a RuntimeError, as the
    project's contract says for an unfitting state_dict.
    """


# State entries that are numbers, not arrays of the parameter's shape.
_SCALAR_STATE = frozenset({"step"})


def _check_number(owner: str, label: str, value: Any, low: float = 0.0) -> None:
    """Raise unless ``value`` is a real number >= ``low`` (the message names the value)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {label} must be a real number, got {value!r}")
    if not value >= low:  # also catches NaN
        raise ValueError(f"{owner}: Invalid {label}: {value} (must be >= {low})")


def _as_list(owner: str, params: Any) -> list:
    """``params`` as a list; a model or anything not iterable is a TypeError that says why."""
    if callable(getattr(params, "parameters", None)):  # a Module: torch's message is obscure
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors, got a {type(params).__name__}; "
            "pass model.parameters()"
        )
    if isinstance(params, Tensor):
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors or dicts, got a single Tensor "
            "(wrap it in a list)"
        )
    if not isinstance(params, Iterable):
        raise TypeError(f"{owner}: params must be an iterable of Tensors or dicts, got {params!r}")
    if isinstance(params, (set, frozenset)):  # state_dicts go by position: a set has none
        raise TypeError(
            f"{owner}: params must be an ordered iterable (a list), not a set: the order of "
            "a set changes between runs, and saved optimizer state goes by position"
        )
    return list(params)


def _nested(flat: Mapping) -> dict:
    """An optimizer state_dict from the dotted names ``tg.save`` stored it under.

    ``state.<index>.<entry>`` and ``param_groups.<number>.<hyper-parameter>``
    become the nested dicts again; hyper-parameters and step counts saved as 0-d
    arrays become Python numbers (a 0-d parameter's state stays an array), ``params``
    and ``param_names`` lists and other 1-D arrays (``betas``) tuples. Anything else is
    left as it is, for ``load_state_dict``'s checks to name.
    """
    state: dict[Any, dict] = {}
    groups: dict[int, dict] = {}
    other: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".") if isinstance(key, str) else []
        if len(parts) == 3 and parts[0] in ("state", "param_groups") and parts[1].isdigit():
            if hasattr(value, "ndim") and hasattr(value, "tolist"):
                # Numbers were saved as 0-d arrays; a 0-d parameter's state array stays one.
                if value.ndim == 0 and (parts[0] == "param_groups" or parts[2] == "step"):
                    value = value.item()
                elif parts[0] == "param_groups" and value.ndim:
                    listed = parts[2] in ("params", "param_names")
                    value = value.tolist() if listed else tuple(value.tolist())
            target = state if parts[0] == "state" else groups
            target.setdefault(int(parts[1]), {})[parts[2]] = value
        else:
            other[key] = value
    if not groups:
        return dict(flat)  # not a flattened optimizer state: the checks will say so
    return {**other, "state": state, "param_groups": [groups[n] for n in sorted(groups)]}


def _loaded_step(name: str, index: int, value: Any) -> int:
    """A saved step count as a Python int (torch saves a float tensor, NumPy a 0-d array).

    It must be a whole number >= 0: the next step adds one and divides by
    ``1 - beta ** step``, which is 0 at step 0.
    """
    if hasattr(value, "shape") and hasattr(value, "item"):
        if math.prod(value.shape) != 1:
            raise _UnfittingStateDict(
                f"{name}: state 'step' of parameter {index} must be one number, "
                f"got shape {tuple(value.shape)}"
            )
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name}: state 'step' of parameter {index} must be a number, got {value!r}"
        )
    if not (math.isfinite(value) and value >= 0 and value == int(value)):
        raise _UnfittingStateDict(
            f"{name}: state 'step' of parameter {index} must be a whole number >= 0, got {value!r}"
        )
    return int(value)


def _loaded_array(name: str, key: str, index: int, value: Any, param: Tensor) -> Any:
    """A saved state array as a copy of the parameter's dtype, shape and device."""
    if isinstance(value, Tensor):  # NumPy refuses a CUDA tensor implicitly
        value = value.data
    if not hasattr(value, "shape") or isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name}: state {key!r} of parameter {index} must be an array of shape "
            f"{param.shape}, got {type(value).__name__}"
        )
    array = numpy.asarray(to_host(value))  # a host copy is made below
    if not holds_real_numbers(array.dtype):  # strings, complex, objects
        raise TypeError(
            f"{name}: state {key!r} of parameter {index} has dtype {array.dtype}, "
            "expected real numbers"
        )
    if array.shape != param.shape:
        raise _UnfittingStateDict(
            f"{name}: state {key!r} of parameter {index} has shape {array.shape}, "
            f"the parameter has shape {param.shape}"
        )
    return move_to_device(array.astype(param.dtype, copy=True), device_of(param.data))


def _loaded_any(key: str, value: Any, param: Tensor) -> Any:
    """An entry of a user optimizer's saved state, as torch loads it: arrays of numbers
    copied onto the parameter's device (in its dtype when both are floating, but for
    a ``"step"`` count, as torch); text (a
    0-d array of it is how ``tg.load`` gives a string back) as the string; anything else
    copied."""
    if not hasattr(value, "shape"):
        return copy.deepcopy(value)
    array = numpy.asarray(to_host(value.data if isinstance(value, Tensor) else value))
    if array.dtype.kind not in "biuf":  # text: stays on the host
        return array.item() if array.ndim == 0 else array.copy()
    if array.dtype.kind == "f" and param.dtype.kind == "f" and key not in _SCALAR_STATE:
        array = array.astype(param.dtype)
    return move_to_device(array.copy(), device_of(param.data))


class Optimizer:
    """Base class of the optimizers: parameter groups, state, ``zero_grad`` and ``step``.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimize (``model.parameters()``, not the model), or
        parameter groups: dicts with a ``"params"`` entry (an iterable of
        Tensors) and optional hyper-parameters that override ``defaults`` for
        that group, as in ``torch.optim``.
    defaults : dict
        Hyper-parameters of every group that does not set its own.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``"params"`` (a list of Tensors) and hyper-parameters
        (``"lr"``, ...). Changing ``param_groups[i]["lr"]`` changes the next step.
    state : dict
        Per-parameter state (momentum buffers, moment estimates), keyed by the
        parameter Tensor.

    Raises
    ------
    ValueError
        An empty parameter list, a parameter given twice, a non-leaf tensor or
        a hyper-parameter out of range.
    TypeError
        ``params`` is a single Tensor, a model, not iterable, or holds
        something that is not a Tensor.
    """

    # The state of a parameter that has stepped: all of these entries, or none
    # (a parameter that never stepped). Subclasses name theirs; None (a user's
    # subclass that does not) loads whatever entries were saved, as torch.
    _state_keys: frozenset[str] | None = None
    # torch.optim options that change the update rule and that this engine does
    # not implement: a loaded group may carry them only switched off.
    _unsupported_options = ("maximize",)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        # As torch: ``optimizer.state[p]`` of a parameter without state is a fresh {}.
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        groups = _as_list(name, params)
        if not groups:
            raise ValueError(f"{name} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters.

        Parameters
        ----------
        param_group : dict
            ``{"params": tensors, **hyper_parameters}``; hyper-parameters not
            given take the optimizer's defaults. ``params`` may also be
            ``(name, Tensor)`` pairs (``model.named_parameters()``); the names
            are kept as the group's ``"param_names"``, as torch does.

        Raises
        ------
        TypeError
            ``param_group`` is not a dict, or a parameter is not a Tensor.
        ValueError
            A parameter is not a leaf, is already in another group, or a
            hyper-parameter is out of range.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {param_group!r}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        params = _as_list(name, params) if params is not None else []
        if not params:
            raise ValueError(f"{name}: a parameter group has an empty parameter list")
        named = [isinstance(param, tuple) for param in params]
        if any(named):  # model.named_parameters(): torch keeps the names in the group
            if not all(named) or any(len(p) != 2 or not isinstance(p[0], str) for p in params):
                raise ValueError(
                    f"{name}: give every parameter with its name, (name, Tensor), or none"
                )
            group["param_names"] = [param_name for param_name, _ in params]
            params = [param for _, param in params]
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):  # torch warns, and means to refuse
            raise ValueError(f"{name}: a parameter group holds the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Raise ValueError/TypeError for a hyper-parameter out of range (subclasses).

        The base checks that no torch option this engine lacks is switched on
        (a torch state_dict carries them): ignoring one would be a silently
        different update.
        """
        for option in self._unsupported_options:
            if group.get(option):
                raise ValueError(
                    f"{type(self).__name__}: {option}={group[option]!r} is not supported"
                )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters.

        Parameters
        ----------
        set_to_none : bool
            True (default, as torch): ``param.grad = None``. False: the
            gradient zeroed in place, as torch's ``zero_()``.
        """
        for group in self.param_groups:
            for param in group["params"]:
                clear_grad(param, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss; called (with
            gradients enabled) before the update.

        Returns
        -------
        The closure's loss, or None.

        Raises
        ------
        ValueError
            A gradient whose shape differs from its parameter's.
        TypeError
            A closure that is not callable, a gradient that is not a Tensor, or
            a parameter or gradient that is not floating.
        RuntimeError
            A gradient on another device than its parameter.

        All gradients are checked before any parameter changes, so after an
        error every parameter and its state are as they were.
        """
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(
                    f"{type(self).__name__}.step: closure must be callable, got {closure!r}"
                )
            with enable_grad():
                loss = closure()
        pending = [
            (param, group)
            for group in self.param_groups
            for param in group["params"]
            if param.grad is not None  # no gradient: leave the parameter (and its state) alone
        ]
        # Every gradient is checked before any parameter moves: a bad one must not
        # leave the others updated (never a half-applied step).
        for param, _ in pending:
            grad = param.grad
            # The common case in a few comparisons, inline (this runs for every parameter
            # at every step); anything else gets the full check and its error.
            if not (
                isinstance(grad, Tensor)
                and grad.data.shape == param.data.shape
                and grad.data.dtype.kind == "f" == param.data.dtype.kind
                and type(grad.data) is type(param.data) is numpy.ndarray
                and param.data.flags.writeable
            ):
                self._check_gradient(param)
        for param, group in pending:
            state = self.state.get(param, {})
            self._update(param.data, param.grad.data, state, group)
            if state:  # plain SGD keeps no state, and gets no entry (as torch)
                self.state[param] = state
            note_in_place_write(param)  # backward through a graph recorded before would be wrong
        return loss

    def _check_gradient(self, param: Tensor) -> None:
        """Raise unless ``param.grad`` can update ``param``: float, same shape and device."""
        grad = param.grad
        name = f"{type(self).__name__}.step"
        if not (isinstance(param.data, numpy.ndarray) or is_cuda_array(param.data)):
            raise TypeError(
                f"{name}: a parameter's .data must be an array, got "
                f"{type(param.data).__name__} (set p.data = other.data, not a Tensor)"
            )
        if not isinstance(grad, Tensor):
            raise TypeError(f"{name}: a gradient must be a Tensor, got {type(grad).__name__}")
        if grad.shape != param.shape:
            raise ValueError(
                f"{name}: gradient of shape {grad.shape} for a parameter of shape {param.shape}"
            )
        check_same_device(name, param.data, grad.data)
        if grad.dtype.kind != "f" or param.dtype.kind != "f":
            raise TypeError(
                f"{name}: can only update floating parameters with floating gradients, got a "
                f"gradient of dtype {grad.dtype} for a parameter of dtype {param.dtype}"
            )
        if not is_writable(param.data):
            raise ValueError(
                f"{name}: a parameter of shape {param.shape} is a broadcast view (from expand) "
                "or read-only memory and cannot be updated in place; optimize a copy"
            )

    def _update(self, param: Any, grad: Any, state: dict, group: dict) -> None:
        """Apply one step of the rule to the array ``param`` in place (subclasses)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- state_dict

    def state_dict(self) -> dict:
        """Return a copy of the optimizer's state, with parameters by position.

        Returns
        -------
        dict
            ``{"state": {index: {name: numpy array or number}},
            "param_groups": [{**hyper_parameters, "params": [indices]}]}``,
            indices counting the parameters through all groups in order, as
            in ``torch.optim``. Arrays are NumPy copies.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of[id(param)] = len(index_of)
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {}
        for param, values in self.state.items():
            state[index_of[id(param)]] = {
                key: host_copy(value) if hasattr(value, "shape") else copy.deepcopy(value)
                for key, value in values.items()
            }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state saved by :meth:`state_dict` (copies it in).

        Everything is checked before anything changes: a state_dict that does
        not fit leaves the optimizer as it was, and the next ``step()`` finds
        the state it needs. As ``torch.optim`` does, a group's saved
        ``"params"`` indices say which parameter each state entry belongs to.

        Parameters
        ----------
        state_dict : dict
            As returned by :meth:`state_dict` of an optimizer of the same kind
            (this engine's or torch's) over parameters of the same shapes in
            the same groups, or as ``tg.load`` reads back such a dict that
            ``tg.save`` wrote (flat, with dotted names).

        Raises
        ------
        ValueError and RuntimeError (one exception that is both)
            Another number of groups, another number of parameters in a
            group, an unknown or repeated parameter index, a state entry
            without the keys this optimizer keeps (or with others), a state
            array whose shape is not its parameter's, a step count that is
            not a whole number >= 0, or a hyper-parameter out of range.
        TypeError
            ``state_dict`` is not a dict with "state" (a dict of dicts) and
            "param_groups" (a list of dicts), a parameter index is not an int,
            a state array is not an array of real numbers, a step count is
            not a number, or a hyper-parameter has the wrong type.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if isinstance(state_dict, Mapping) and "param_groups" not in state_dict:
            state_dict = _nested(state_dict)  # as tg.load gives it back: flat, dotted names
        if not (isinstance(state_dict, Mapping) and {"state", "param_groups"} <= state_dict.keys()):
            raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
            isinstance(saved, Mapping) for saved in saved_groups
        ):
            raise TypeError(f"{name}: 'param_groups' must be a list of dicts, got {saved_groups!r}")
        if not isinstance(saved_state, Mapping):
            raise TypeError(f"{name}: 'state' must be a dict, got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise _UnfittingStateDict(
                f"{name}: loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        new_groups = [
            self._loaded_group(name, number, group, saved)
            for number, (group, saved) in enumerate(
                zip(self.param_groups, saved_groups, strict=True)
            )
        ]
        param_of = self._params_by_saved_index(name, saved_groups)
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, values in saved_state.items():
            if index not in param_of:
                raise _UnfittingStateDict(
                    f"{name}: state for parameter {index!r}, which no parameter group lists "
                    f"(the optimizer has {len(param_of)} parameters)"
                )
            new_state[param_of[index]] = self._loaded_entry(name, index, values, param_of[index])

        self.param_groups = new_groups
        self.state = new_state

    def _loaded_group(self, name: str, number: int, group: dict, saved: Mapping) -> dict:
        """The group ``number`` with the saved hyper-parameters, checked (its own Tensors)."""
        saved_params = saved.get("params", ())
        if not isinstance(saved_params, (list, tuple)):
            raise TypeError(
                f"{name}: parameter group {number}'s 'params' must be a list of parameter "
                f"indices, got {saved_params!r}"
            )
        count = len(saved_params)
        if count != len(group["params"]):
            raise _UnfittingStateDict(
                f"{name}: parameter group {number} has {count} parameters "
                f"in the loaded state dict and {len(group['params'])} in the optimizer"
            )
        # Saved hyper-parameters win; the group keeps its own Tensors.
        new_group = {key: value for key, value in group.items() if key != "params"}
        # torch's switches left unset (foreach=None, fused=None) mean its default: not kept,
        # so the loaded optimizer saves again (tg.save has no None).
        new_group.update(
            copy.deepcopy(
                {
                    key: value
                    for key, value in saved.items()
                    if key != "params" and (value is not None or key in group)
                }
            )
        )
        new_group["params"] = group["params"]
        try:
            self._check_group(new_group)
        except ValueError as error:
            raise _UnfittingStateDict(f"{name}: parameter group {number}: {error}") from None
        except TypeError as error:
            raise TypeError(f"{name}: parameter group {number}: {error}") from None
        return new_group

    def _params_by_saved_index(self, name: str, saved_groups: list) -> dict[int, Tensor]:
        """Map each saved parameter index to the optimizer's parameter in its place."""
        param_of: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for index, param in zip(saved["params"], group["params"], strict=True):
                if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                    raise TypeError(f"{name}: parameter indices must be ints, got {index!r}")
                if index in param_of:
                    raise _UnfittingStateDict(f"{name}: parameter index {index} is listed twice")
                param_of[index] = param
        return param_of

    def _loaded_entry(self, name: str, index: int, values: Any, param: Tensor) -> dict:
        """One parameter's saved state, checked and copied onto the parameter's device."""
        if not isinstance(values, Mapping):
            raise TypeError(
                f"{name}: the state of parameter {index} must be a dict, got {values!r}"
            )
        # None stands for an entry never set (torch's SGD once saved momentum_buffer=None).
        values = {key: value for key, value in values.items() if value is not None}
        if self._state_keys is None:
            return {key: _loaded_any(key, value, param) for key, value in values.items()}
        if values and values.keys() != self._state_keys:
            raise _UnfittingStateDict(
                f"{name}: the state of parameter {index} has entries {sorted(values)}; "
                f"{type(self).__name__} keeps {sorted(self._state_keys)} (or none)"
            )
        return {
            key: _loaded_step(name, index, value)
            if key in _SCALAR_STATE
            else _loaded_array(name, key, index, value, param)
            for key, value in values.items()
        }

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            if number:
                lines.append("")  # torch's blank line between groups
            lines.append(f"Parameter Group {number}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    The rule of ``torch.optim.SGD``, for gradient g of parameter w::

        g <- g + weight_decay * w                         (the lecture's weight decay)
        b <- g  (first step);  b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b  (nesterov)  or  g <- b
        w <- w - lr * g

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see :class:`Optimizer`).
    lr : float
        Learning rate (>= 0).
    momentum : float
        Momentum factor (>= 0); 0 is plain (minibatch) gradient descent.
    dampening : float
        Dampening of the gradient in the momentum buffer.
    nesterov : bool
        Nesterov momentum; needs momentum > 0 and dampening == 0.
    weight_decay : float
        alpha >= 0 in E(w) = alpha/2 sum w^2, added to the gradient as alpha * w.

    Examples
    --------
    >>> import tinygrad_dlcv as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.tolist()
    [0.800000011920929, -1.600000023841858]
    """

    _state_keys = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float,
        momentum: float = 0,
        dampening: float = 0,
        nesterov: bool = False,
        weight_decay: float = 0,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        _check_number("SGD", "learning rate", group["lr"])
        _check_number("SGD", "momentum value", group["momentum"])
        _check_number("SGD", "dampening value", group["dampening"], low=-math.inf)
        _check_number("SGD", "weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={group['momentum']}, dampening={group['dampening']})"
            )

    def _update(self, param: Any, grad: Any, state: dict, group: dict) -> None:
        lr, momentum = group["lr"], group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param  # g = dE/dw + alpha * w (new array)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # b_1 = g_1, as an array: arithmetic on 0-d arrays gives NumPy scalars,
                # and a scalar buffer would be rebound, not updated, by `*=` below.
                xp = array_module_of(param)
                buffer = state["momentum_buffer"] = xp.array(grad, dtype=param.dtype, copy=True)
            else:
                buffer *= momentum  # b_t = momentum * b_{t-1} + (1 - dampening) * g_t
                dampening = group["dampening"]
                buffer += grad if dampening == 0 else (1 - dampening) * grad  # no temporary
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= lr * grad  # w <- w - lr * g


class Adam(Optimizer):
    """Adam, with L2 weight decay added to the gradient (``torch.optim.Adam``).

    For gradient g of parameter w at step t::

        g <- g + weight_decay * w
        m <- beta1 * m + (1 - beta1) * g          v <- beta2 * v + (1 - beta2) * g^2
        w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see :class:`Optimizer`).
    lr : float
        Learning rate (>= 0).
    betas : tuple of two floats
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float
        Added to the denominator (>= 0).
    weight_decay : float
        L2 penalty factor (>= 0), added to the gradient as weight_decay * w.
    """

    _decoupled = False
    _state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})
    _unsupported_options = ("maximize", "amsgrad")

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self._check_group(defaults)
        defaults["betas"] = tuple(betas)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        name = type(self).__name__
        # torch >= 2.6 saves Adam and AdamW groups with this flag: it must be this rule's.
        if group.get("decoupled_weight_decay", self._decoupled) != self._decoupled:
            raise ValueError(
                f"{name}: decoupled_weight_decay={group['decoupled_weight_decay']!r} is "
                f"{'AdamW' if group['decoupled_weight_decay'] else 'Adam'}'s rule, not {name}'s"
            )
        _check_number(name, "learning rate", group["lr"])
        _check_number(name, "epsilon value", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{name}: betas must be a pair of numbers, got {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be two numbers, got {betas!r}")
        for index, beta in enumerate(betas):
            _check_number(name, f"beta parameter at index {index}", beta)
            if not beta < 1.0:
                raise ValueError(
                    f"{name}: Invalid beta parameter at index {index}: {beta} (must be in [0, 1))"
                )
        _check_number(name, "weight_decay value", group["weight_decay"])

    def _update(self, param: Any, grad: Any, state: dict, group: dict) -> None:
        xp = array_module_of(param)
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]

        if weight_decay != 0:
            if self._decoupled:
                param *= 1 - lr * weight_decay  # AdamW: w <- w - lr * alpha * w, apart from g
            else:
                grad = grad + weight_decay * param  # Adam: g <- g + alpha * w (new array)
        # m <- beta1 * m + (1 - beta1) * g, rounded as torch's lerp(m, g, w = 1 - beta1):
        # m + w (g - m) for w < 0.5, else g - (1 - w)(g - m), which is exactly g at beta1 = 0.
        weight = m.dtype.type(1 - beta1)  # in m's dtype, as torch's kernel receives it
        if weight < 0.5:
            m += weight * (grad - m)
        else:
            m -= grad  # in place: m - g, times (1 - w), plus g
            m *= 1 - weight
            m += grad
        v *= beta2  # v <- beta2 * v + (1 - beta2) * g^2
        v += (1 - beta2) * grad * grad  # in the order of torch's addcmul_, left to right
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = xp.sqrt(v)  # sqrt(v_hat) + eps, with v_hat = v / (1 - beta2^t)
        denom /= math.sqrt(bias_correction2)
        denom += eps
        param -= (lr / bias_correction1) * m / denom  # w <- w - lr * m_hat / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``).

    Before the Adam step (whose gradient has no weight-decay term), the
    weights shrink: ``w <- w * (1 - lr * weight_decay)``.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see :class:`Optimizer`).
    lr : float
        Learning rate (>= 0).
    betas : tuple of two floats
        Decay rates of the moment estimates, each in [0, 1).
    eps : float
        Added to the denominator (>= 0).
    weight_decay : float
        Decoupled weight decay factor (>= 0); 1e-2 by default, as torch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
