"""``tg.save`` / ``tg.load``: a state dict to and from a NumPy ``.npz`` file.

The file is a plain ``.npz`` (a zip of ``.npy`` arrays, as ``numpy.savez``
writes), so ``numpy.load`` reads it too. Two promises:

- ``save`` is atomic: it writes a temporary file beside the target, syncs it
  to disk and renames it over the target. A failure at any point leaves the
  old file as it was and no temporary file behind.
- ``load`` never unpickles: an object array in the file (which could run
  arbitrary code when loaded) is refused with a ValueError.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy

from .arguments import check_path
from .backend import is_cuda_array, values_of
from .tensor import Tensor

__all__ = ["load", "save"]


def _to_numpy(key: str, value: Any) -> numpy.ndarray:
    """A host NumPy array for one state-dict value; object arrays are refused."""
    if isinstance(value, Tensor):
        array = value.numpy()
    elif is_cuda_array(value):
        array = value.get()
    else:
        try:
            array = numpy.asarray(values_of(value))
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"save: value for key {key!r} ({type(value).__name__}) is not an array ({error})"
            ) from None
    if array.dtype.hasobject:
        raise TypeError(
            f"save: value for key {key!r} ({type(value).__name__}) would be stored as an "
            f"object array, which needs pickling; give arrays of numbers or Tensors"
        )
    if array.dtype.kind not in "biufUS":  # records, dates, complex: no state of a model
        raise TypeError(
            f"save: value for key {key!r} has dtype {array.dtype}; give arrays of numbers, "
            "booleans or strings, or Tensors"
        )
    return array


def _flat_items(mapping: Mapping, prefix: str) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs of a state dict, nested ones flattened to dotted names.

    An optimizer's ``{"state": {0: {"exp_avg": a}}, "param_groups": [{"lr": ...}]}``
    becomes ``state.0.exp_avg``, ``param_groups.0.lr``, ...: every file stays plain
    arrays (nothing pickled), and ``Optimizer.load_state_dict`` takes the flat
    names back. A list of dicts counts as nested; any other list is one array.
    """
    items = []
    for key, value in mapping.items():
        if prefix and isinstance(key, int) and not isinstance(key, bool):
            key = str(key)  # a parameter's index inside a nested state
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be str, got {key!r} ({type(key).__name__})")
        name = prefix + key
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(item, Mapping) for item in value)
        ):
            value = dict(enumerate(value))
        if isinstance(value, Mapping):
            items.extend(_flat_items(value, name + "."))
        else:
            items.append((name, value))
    return items


def _write_npz(file: Any, arrays: dict[str, numpy.ndarray]) -> None:
    """Write ``arrays`` as an .npz archive to an open binary file (as numpy.savez does).

    Written by hand rather than through ``numpy.savez(file, **arrays)`` so that
    any key is allowed (``savez`` would take a key "file" or "allow_pickle" as
    its own argument) and nothing is ever pickled.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in arrays.items():
            with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, array, allow_pickle=False)


def _new_file_mode(path: Path) -> int:
    """Permissions for the saved file: those of the file it replaces, else 0o666 & ~umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save a state dict (name -> array or Tensor) to an ``.npz`` file, atomically.

    Parameters
    ----------
    state_dict : mapping of str to array-like or Tensor
        For example ``model.state_dict()``. Tensors (on any device) and CuPy
        arrays are copied to the host; numbers and lists become arrays. Nested
        dicts (an optimizer's ``state_dict()``) are stored under dotted names
        (``state.0.exp_avg``, ``param_groups.0.lr``), which the optimizers'
        ``load_state_dict`` reads back. An empty nested dict (the ``state``
        of an optimizer before its first step) has no arrays and so no names:
        it is not in the loaded dict, and ``load_state_dict`` reads it as empty.
    path : str or path
        The file to write, exactly as given (no ``.npz`` is appended). Its
        folder must exist. An existing file is replaced only once the new one
        is completely on disk; a symlink keeps pointing where it did, and the
        file it points to is replaced.

    Raises
    ------
    TypeError
        ``state_dict`` is not a mapping, a key is not a str, a value is not
        an array of numbers, booleans or strings (an object array would need
        pickling), or ``path`` is not a str or path.
    FileNotFoundError
        The folder of ``path`` does not exist (the message names ``path``).
    IsADirectoryError
        ``path`` is a directory.

    Examples
    --------
    >>> import tinygrad_dlcv as tg, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
    >>> save({"w": tg.ones(2, 3), "step": 10}, path)
    >>> sorted(load(path))
    ['step', 'w']
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"save: expected a dict of name -> array, got {type(state_dict).__name__}"
            + (" (pass model.state_dict())" if hasattr(state_dict, "state_dict") else "")
        )
    arrays = {}
    for key, value in _flat_items(state_dict, ""):
        if key in arrays:  # {"a.b": x, "a": {"b": y}}: one would silently replace the other
            raise ValueError(f"save: two entries are both stored as {key!r}")
        arrays[key] = _to_numpy(key, value)

    given = check_path(path, "path", "save")
    # Through a symlink the file it points to is replaced, not the link itself.
    path = given.resolve()
    if path.is_dir():
        raise IsADirectoryError(f"save: {given} is a directory; give the path of a file")
    mode = _new_file_mode(path)
    try:
        temp = tempfile.NamedTemporaryFile(
            mode="wb", delete=False, suffix=".npz", prefix=f".{path.name}.", dir=path.parent
        )
    except OSError as error:
        # The temporary file's own name would only puzzle: say which file could not be written.
        if isinstance(error, FileNotFoundError):
            reason = f"the folder {path.parent} does not exist"
        else:
            reason = f"cannot create a file in {path.parent} ({error.strerror or error})"
        raise type(error)(f"save: cannot write {given}: {reason}") from None
    try:
        with temp:
            _write_npz(temp, arrays)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp.name, mode)
        os.replace(temp.name, path)
    except BaseException:
        try:
            os.unlink(temp.name)
        except OSError:
            pass
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load(path: str | os.PathLike) -> dict[str, numpy.ndarray]:
    """Load a state dict written by :func:`save` (or any ``.npz`` of plain arrays).

    Parameters
    ----------
    path : str or path
        The ``.npz`` file.

    Returns
    -------
    dict of str to numpy.ndarray
        In the order the arrays were saved; pass it to
        ``model.load_state_dict``.

    Raises
    ------
    TypeError
        ``path`` is not a str or path.
    FileNotFoundError
        The file does not exist.
    IsADirectoryError
        ``path`` is a directory.
    ValueError
        The file is not an ``.npz`` archive, a member of it is not a valid
        ``.npy`` array (the message names the file and the member), or it
        holds an object array (loading it would need unpickling, which could
        run arbitrary code, so it is refused).
    """
    path = check_path(path, "path", "load")
    if path.is_dir():
        raise IsADirectoryError(f"load: {path} is a directory, not an .npz file")
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}")
    try:
        archive = numpy.load(path, allow_pickle=False)
    except ValueError as error:
        # NumPy takes any file that is neither a zip nor an .npy for a pickle, and says so.
        detail = "" if "pickle" in str(error) else f" ({error})"
        raise ValueError(
            f"load: {path} is not an .npz archive of plain arrays{detail}; load never unpickles"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is not a readable .npz archive ({error})") from None
    if not isinstance(archive, numpy.lib.npyio.NpzFile):
        raise ValueError(
            f"load: {path} holds a single .npy array, not an .npz archive of named arrays"
        )
    with archive:
        # Each member is read here rather than through ``archive[key]``: NumPy hands back
        # the raw bytes of a member that is not a .npy array instead of failing.
        return {
            key: _read_member(archive.zip, member, key, path)
            for member, key in _members(archive.zip, path)
        }


def _members(zip_file: zipfile.ZipFile, path: Path) -> list[tuple[str, str]]:
    """(member, key) of each array in the archive; a member that is not ``.npy`` is a ValueError."""
    members = []
    for member in zip_file.namelist():
        if not member.endswith(".npy"):
            raise ValueError(
                f"load: {path} holds member {member!r}, which is not a .npy array "
                "(an .npz state dict holds only .npy members)"
            )
        members.append((member, member[: -len(".npy")]))
    return members


def _read_member(zip_file: zipfile.ZipFile, member: str, key: str, path: Path) -> numpy.ndarray:
    """One ``.npy`` member as an array, never unpickled; anything else is a ValueError."""
    try:
        with zip_file.open(member) as stream:
            return numpy.lib.format.read_array(stream, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise ValueError(
                f"load: array {key!r} in {path} is an object array; loading it would need "
                "unpickling, which can run arbitrary code, so load refuses it"
            ) from None
        raise ValueError(
            f"load: member {member!r} of {path} is not a valid .npy array ({error})"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"load: member {member!r} of {path} is damaged ({error})") from None
