"""Checks of the plain arguments public functions take: counts, rates, tolerances, paths.

One place for the contract's rule: a wrong type is a TypeError, a bad value a
ValueError, and the message names the function and the argument. A wrong type
raises :class:`InvalidParameterError`, which is a ValueError too, so code
written against scikit-learn (whose estimators raise ValueError for any bad
parameter) catches it as well.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type, such as ``n_clusters="3"``.

    Both a TypeError (the rule for a wrong type) and a ValueError (what
    scikit-learn raises for any bad parameter, through its own
    InvalidParameterError of the same two bases), so either ``except`` works.
    """


def check_int(value: Any, name: str, who: str, low: int) -> int:
    """``value`` as an int >= ``low``; bools and floats such as 2.0 or 2.9 are refused.

    Raises InvalidParameterError for a wrong type, ValueError below ``low``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{who}: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{who}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def check_real(value: Any, name: str, who: str, low: float = 0.0, positive: bool = False) -> float:
    """``value`` as a finite float >= ``low`` (> ``low`` with ``positive``).

    NaN and infinities are refused: as a rate, a tolerance or a bound they
    would silently spoil every result. Raises InvalidParameterError for a
    wrong type (bools included), ValueError for a bad value.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{who}: {name} must be a real number, got {value!r}")
    if not (math.isfinite(value) and (value > low if positive else value >= low)):
        bound = "" if low == -math.inf else f" {'>' if positive else '>='} {low}"
        raise ValueError(f"{who}: {name} must be a finite number{bound}, got {value!r}")
    return float(value)


def check_bool(value: Any, name: str, who: str) -> bool:
    """``value`` as a bool; only True and False (NumPy's too) are taken: ``bool("no")``
    is True, which is why a flag is never converted silently."""
    if not isinstance(value, (bool, numpy.bool_)):
        raise InvalidParameterError(f"{who}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_path(value: Any, name: str, who: str) -> Path:
    """``value`` (a str or ``os.PathLike``) as a Path; anything else, None included,
    is an InvalidParameterError that names the function (Python's own error would not)."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidParameterError(
            f"{who}: {name} must be a str or os.PathLike path, got {type(value).__name__}"
        )
    try:
        path = Path(value)
    except TypeError:  # a PathLike that yields bytes
        raise InvalidParameterError(f"{who}: {name} must be a text path, got {value!r}") from None
    if value == "":
        # Path("") is ".": writing there would fill (or clear files in) the working folder.
        raise ValueError(f"{who}: {name} is empty; give a file or folder path")
    return path
