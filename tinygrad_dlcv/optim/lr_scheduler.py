"""Learning-rate schedulers: StepLR and CosineAnnealingLR, as ``torch.optim.lr_scheduler``.

A scheduler owns an epoch counter. Each ``step()`` advances it and writes the
new learning rate of every parameter group into ``param_groups[i]["lr"]``.
Constructing a scheduler already sets the lr of epoch 0, as torch does.

The rates follow torch's chainable (recursive) rules: each step computes the
next lr from the group's current ``"lr"``, not from a closed form of the
epoch. So an lr changed by hand carries on from its new value, and two
schedulers on one optimizer compose (each applies its own factor), exactly as
with ``torch.optim.lr_scheduler``. ``base_lrs`` (each group's lr when the
scheduler was made, kept in the group as ``"initial_lr"``) still enter
CosineAnnealingLR's restart step, as in torch.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

from ..arguments import check_int, check_real
from .optimizers import Optimizer, _UnfittingStateDict

# Entries of torch's scheduler state that describe a step in progress or logging,
# not the schedule: a torch state_dict loads without them.
# ("_initial": this engine's own name for _is_initial before 2026-11-27.)
_TRANSIENT_STATE = frozenset({"_is_initial", "_initial", "_get_lr_called_within_step", "verbose"})


def _check_int(owner: str, label: str, value: Any, low: int) -> None:
    """``arguments.check_int`` in the order the state checks call it."""
    check_int(value, label, owner, low)


def _check_rate(owner: str, label: str, value: Any, positive: bool = False) -> None:
    """``arguments.check_real``, in that order: a NaN, infinite or negative value would
    become the learning rate."""
    check_real(value, label, owner, positive=positive)


def _check_rates(owner: str, label: str, value: Any, groups: int) -> None:
    """Raise unless ``value`` is a list of one learning rate (finite, >= 0) per group."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{owner}: {label} must be a list of learning rates, got {value!r}")
    if len(value) != groups:
        raise ValueError(
            f"{owner}: {len(value)} {label} for an optimizer with {groups} parameter groups"
        )
    for index, rate in enumerate(value):
        _check_rate(owner, f"{label}[{index}]", rate)


class LRScheduler:
    """Base class: epoch counting, writing the lr into the optimizer, state_dict.

    Parameters
    ----------
    optimizer : Optimizer
        Whose parameter groups get the learning rates.
    last_epoch : int
        The epoch of the last step (>= -1); -1 (default) starts fresh and
        records each group's current lr as ``"initial_lr"``. A resumed
        scheduler (last_epoch >= 0) needs ``"initial_lr"`` in every group.

    Attributes
    ----------
    optimizer : Optimizer
    base_lrs : list of float
        Each group's initial learning rate.
    last_epoch : int
        The epoch whose learning rates are set now (0 after construction).
    _step_count : int
        How many times ``step()`` has run, the construction's step included
        (torch's counter, saved in the state_dict as torch does).

    Raises
    ------
    TypeError
        ``optimizer`` is not an Optimizer, or ``last_epoch`` is not an int.
    ValueError
        ``last_epoch < -1``.
    KeyError
        ``last_epoch >= 0`` and a group has no ``"initial_lr"``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer"
            )
        _check_int(type(self).__name__, "last_epoch", last_epoch, low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{number}] "
                        "when resuming a scheduler with last_epoch >= 0"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self._step_count = 0
        # The construction's step: get_lr may tell it apart (torch's name and flag).
        self._is_initial = True
        # True while step() runs get_lr (torch's flag, kept so the state_dicts match).
        self._get_lr_called_within_step = False
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """Return the learning rate of each group for ``last_epoch`` (subclasses).

        Called by :meth:`step` after ``last_epoch`` has advanced, while the
        groups still hold the previous epoch's rates.
        """
        raise NotImplementedError

    def _current_lrs(self) -> list[float]:
        """Each group's lr as it is now."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set each group's lr to that epoch's value.

        ``step(epoch)`` jumps to ``epoch`` and sets the closed form's rates
        there (from ``base_lrs``, ignoring changes made by hand), or
        ``get_lr()``'s for a scheduler without one; torch still takes it but
        deprecates it, and so it warns here too. A step that fails changes
        nothing.
        """
        if epoch is not None:
            _check_int(f"{type(self).__name__}.step", "epoch", epoch, low=0)
            warnings.warn(
                "scheduler.step(epoch) is deprecated (as in torch): it sets the closed "
                "form's lr for that epoch; call scheduler.step() once per epoch instead",
                UserWarning,
                stacklevel=2,
            )
        previous = self.last_epoch
        self.last_epoch = previous + 1 if epoch is None else int(epoch)
        # The closed form where the class has one (torch's _get_closed_form_lr), else get_lr.
        closed_form = getattr(self, "_closed_form_lr", None) if epoch is not None else None
        self._get_lr_called_within_step = True
        try:
            rates = list(closed_form() if closed_form is not None else self.get_lr())
            groups = len(self.optimizer.param_groups)
            if len(rates) != groups:
                raise ValueError(
                    f"{type(self).__name__}.step: {len(rates)} learning rates for {groups} "
                    "parameter groups (a group added after the scheduler was made has no "
                    "base_lrs entry: make the scheduler after adding it)"
                )
        except BaseException:
            self.last_epoch = previous  # a failed step changes nothing
            raise
        finally:
            self._get_lr_called_within_step = False
        self._step_count += 1
        for group, rate in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = rate
        self._last_lr = list(rates)

    def get_last_lr(self) -> list[float]:
        """Return the learning rates set by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Return a copy of the scheduler's state: every attribute but the optimizer."""
        state = {key: value for key, value in vars(self).items() if key != "optimizer"}
        return copy.deepcopy(state)

    def _state_checks(self) -> dict[str, Callable[[str, str, Any], None]]:
        """The check of each entry a state_dict may hold, by name (subclasses add theirs).

        Each check is ``check(owner, label, value)`` and raises TypeError for a
        wrong type and ValueError for a wrong value.
        """
        rates = functools.partial(_check_rates, groups=len(self.optimizer.param_groups))
        count = functools.partial(_check_int, low=0)
        return {"base_lrs": rates, "_last_lr": rates, "last_epoch": count, "_step_count": count}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state returned by :meth:`state_dict` (copies it in).

        Every entry is checked before any is loaded, so a state that does not
        fit leaves the scheduler as it was. torch's bookkeeping entries
        (``_is_initial``, ``_get_lr_called_within_step``) are skipped; arrays
        (a state saved with ``tg.save`` and read by ``tg.load``) are read as the
        numbers and lists they hold. The
        optimizer's learning rates are not touched: load the optimizer's own
        state_dict too, as with torch.

        Raises
        ------
        TypeError
            ``state_dict`` is not a dict, or an entry has the wrong type.
        ValueError and RuntimeError (one exception that is both)
            An entry this scheduler does not have (such as ``"optimizer"``),
            ``base_lrs`` or ``_last_lr`` that do not match the optimizer's
            number of groups, or a value out of range (``step_size`` 0, a NaN
            or negative rate, ...).
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: expected a dict, got {type(state_dict).__name__}")
        checks = self._state_checks()
        loaded = {}
        for key, value in state_dict.items():
            if key in _TRANSIENT_STATE:
                continue
            if hasattr(value, "ndim") and hasattr(value, "tolist"):  # as tg.load gives it back
                value = value.item() if value.ndim == 0 else value.tolist()
            if key not in checks and (key == "optimizer" or key not in vars(self)):
                raise _UnfittingStateDict(
                    f"{name}: unknown entry {key!r}; the state holds {sorted(checks)}"
                )
            try:
                if key in checks:  # else a subclass's own attribute: loaded as saved (torch)
                    checks[key](name, key, value)
            except TypeError:  # a wrong type stays a TypeError (InvalidParameterError is both)
                raise
            except ValueError as error:
                raise _UnfittingStateDict(str(error)) from None
            loaded[key] = copy.deepcopy(value)
        vars(self).update(loaded)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Chainable, as torch's: at each epoch that is a non-zero multiple of
    ``step_size`` the group's current lr is multiplied by ``gamma``; other
    epochs leave it alone. Untouched, that is
    ``lr(epoch) = base_lr * gamma ** (epoch // step_size)``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between decays (> 0).
    gamma : float
        Decay factor: finite and >= 0 (torch takes any float, but a NaN or
        negative lr is refused here).
    last_epoch : int
        See :class:`LRScheduler`.

    Examples
    --------
    >>> import tinygrad_dlcv as tg
    >>> from tinygrad_dlcv.optim import SGD
    >>> opt = SGD([tg.zeros(2, requires_grad=True)], lr=1.0)
    >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for epoch in range(5):
    ...     rates.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> rates
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_int("StepLR", "step_size", step_size, low=1)
        _check_rate("StepLR", "gamma", gamma)
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def _state_checks(self) -> dict[str, Callable[[str, str, Any], None]]:
        return {
            **super()._state_checks(),
            "step_size": functools.partial(_check_int, low=1),
            "gamma": _check_rate,
        }

    def get_lr(self) -> list[float]:
        """Return each group's lr times ``gamma`` at a non-zero multiple of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        """``base_lr * gamma ** (epoch // step_size)``."""
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from ``base_lr`` to ``eta_min`` along a half cosine.

    Untouched, ``lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``;
    past ``T_max`` it rises again (period ``2 * T_max``), as torch's does. Each
    step is torch's chainable rule, from the group's current lr::

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T))

    (T = T_max) except on the step out of a minimum, ``(t - 1 - T) % (2 T) == 0``,
    where the ratio's denominator is 0: there ``lr_t = lr_{t-1} + (base_lr -
    eta_min) * (1 - cos(pi / T)) / 2``. The construction's step keeps the
    current lr, also when resuming (``last_epoch >= 0``), as torch 2.13 does.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs from ``base_lr`` down to ``eta_min`` (> 0).
    eta_min : float
        Smallest learning rate (finite, >= 0).
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:  # noqa: N803  (torch's name)
        _check_int("CosineAnnealingLR", "T_max", T_max, low=1)
        _check_rate("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = int(T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def _state_checks(self) -> dict[str, Callable[[str, str, Any], None]]:
        return {
            **super()._state_checks(),
            "T_max": functools.partial(_check_int, low=1),
            "eta_min": _check_rate,
        }

    def get_lr(self) -> list[float]:
        """Return each group's next lr by torch's recursive cosine rule (see the class)."""
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:  # also when resuming (last_epoch >= 0), as torch 2.13
            return self._current_lrs()
        if (t - 1 - t_max) % (2 * t_max) == 0:  # out of a minimum: 1 + cos(pi) = 0 below
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]

    def _closed_form_lr(self) -> list[float]:
        """``eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``."""
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]
