"""tinygrad_dlcv.serialization: save/load round trips, the atomic write, and
the refusal to unpickle."""

import os

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import serialization
from tinygrad_dlcv.serialization import load, save


def test_round_trip_dtypes_shapes_and_values(tmp_path):
    state = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([0.5, -1.5], dtype=np.float64),
        "steps": np.array(7, dtype=np.int64),
        "mask": np.array([[True, False]]),
        "small": np.arange(4, dtype=np.int8),
        "empty": np.zeros((0, 5), dtype=np.float32),
    }
    path = tmp_path / "state.npz"
    save(state, path)
    loaded = load(path)
    assert list(loaded) == list(state)  # order kept
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype
        assert loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key], value)


def test_tensors_scalars_and_lists(tmp_path, device):
    t = tg.tensor([[1.0, 2.0]], device=device, requires_grad=True) * 3
    state = {"t": t, "i": tg.arange(3, device=device), "lr": 0.1, "sizes": [1, 2, 3]}
    path = tmp_path / "t.npz"
    save(state, str(path))  # str paths too
    loaded = load(str(path))
    assert all(isinstance(v, np.ndarray) for v in loaded.values())
    np.testing.assert_array_equal(loaded["t"], [[3.0, 6.0]])
    assert loaded["t"].dtype == np.float32
    np.testing.assert_array_equal(loaded["i"], [0, 1, 2])
    assert loaded["i"].dtype == np.int64
    assert loaded["lr"].shape == () and loaded["lr"] == 0.1
    np.testing.assert_array_equal(loaded["sizes"], [1, 2, 3])


def test_file_lands_exactly_at_path_and_numpy_reads_it(tmp_path):
    path = tmp_path / "weights.bin"  # no .npz suffix: nothing appended
    save({"file": np.ones(2), "allow_pickle": np.zeros(1), "a.b/c": np.arange(2)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["file"], [1.0, 1.0])
        np.testing.assert_array_equal(archive["a.b/c"], [0, 1])
    assert set(load(path)) == {"file", "allow_pickle", "a.b/c"}


def test_overwrite_replaces_file(tmp_path):
    path = tmp_path / "s.npz"
    save({"a": np.ones(3)}, path)
    save({"b": np.zeros(2)}, path)
    loaded = load(path)
    assert list(loaded) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    path = tmp_path / "s.npz"
    save({"a": np.ones(1)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_failure_mid_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    real_write_array = np.lib.format.write_array
    calls = []

    def write_then_fail(fp, array, *args, **kwargs):
        real_write_array(fp, array, *args, **kwargs)  # some bytes reach the temp file
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(1000), "b": np.ones(1000), "c": np.ones(2)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    np.testing.assert_array_equal(load(path)["w"], [0.0, 1.0, 2.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_failure_at_rename_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"

    def failing_replace(src, dst):
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        save({"w": np.ones(2)}, path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_bad_value_does_not_touch_old_file(tmp_path):
    path = tmp_path / "model.npz"
    save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="save.*'opt.momentum'.*object"):
        save({"w": np.zeros(2), "opt": {"momentum": object()}}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_save_refuses_object_arrays_and_bad_keys(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="save.*'o'.*object array"):
        save({"o": np.array([1, None], dtype=object)}, path)
    with pytest.raises(TypeError, match="save: keys must be str, got 3"):
        save({3: np.ones(1)}, path)
    with pytest.raises(TypeError, match="save: expected a dict.*list"):
        save([np.ones(1)], path)
    for odd in (np.array(["2020-01-01"], dtype="datetime64[D]"), np.zeros(2, "i4,f4"), [1j]):
        with pytest.raises(TypeError, match="save: value for key 'd' has dtype"):
            save({"d": odd}, path)
    assert not path.exists()
    save({"names": np.array(["0.weight", "0.bias"]), "flag": np.array(True)}, path)
    assert load(path)["names"].tolist() == ["0.weight", "0.bias"]  # param_names, say


def test_save_into_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "x.npz"
    with pytest.raises(
        FileNotFoundError, match="save: cannot write .*x.npz.*does not exist"
    ) as info:
        save({"a": np.ones(1)}, target)
    assert ".x.npz." not in str(info.value)  # not the temporary file's name


def test_save_to_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="save: .* is a directory"):
        save({"a": np.ones(1)}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real.npz"
    save({"a": np.ones(2)}, real)
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    save({"b": np.zeros(3)}, link)
    assert link.is_symlink() and link.resolve() == real
    assert list(load(real)) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "real.npz"]


def test_load_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="load: .* is a directory"):
        load(tmp_path)


def test_load_refuses_pickled_object_array(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, ok=np.ones(2), obj=np.array([{"a": 1}, [2]], dtype=object))
    with pytest.raises(ValueError, match="'obj'.*object array.*unpickling"):
        load(path)


def test_load_refuses_a_pickle_file(tmp_path):
    path = tmp_path / "p.npz"
    np.save(path.with_suffix(".npy"), np.array([None], dtype=object), allow_pickle=True)
    os.replace(path.with_suffix(".npy"), path)
    with pytest.raises(ValueError, match="load.*never unpickles|load.*unpickl"):
        load(path)


def test_load_refuses_non_archives(tmp_path):
    npy = tmp_path / "single.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(ValueError, match="single .npy array"):
        load(npy)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(ValueError, match="junk.npz"):
        load(junk)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError) as error:  # NumPy's own words would blame pickled data
        load(text)
    assert "not an .npz archive" in str(error.value) and "pickled" not in str(error.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="load: no file at .*missing.npz"):
        load(tmp_path / "missing.npz")


def test_package_exports_save_and_load():
    if not hasattr(tg, "save"):
        pytest.skip("tinygrad_dlcv/__init__.py does not re-export save/load yet")
    assert tg.save is save and tg.load is load


def write_zip(path, members):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_load_refuses_a_member_that_is_not_npy(tmp_path):
    path = tmp_path / "notes.npz"
    write_zip(path, {"a.npy": b"", "notes.txt": b"x"})
    with pytest.raises(ValueError, match=r"load: .*notes.npz.*member 'notes.txt'.*not a .npy"):
        load(path)


@pytest.mark.parametrize("data", [b"garbage", b"\x93NUMPY\x01\x00garbage"], ids=["junk", "header"])
def test_load_refuses_a_garbage_npy_member(tmp_path, data):
    path = tmp_path / "bad.npz"
    write_zip(path, {"a.npy": data})
    with pytest.raises(ValueError, match=r"load: member 'a.npy' of .*bad.npz is not a valid .npy"):
        load(path)


def test_load_refuses_a_truncated_member(tmp_path):
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.arange(100))
    path = tmp_path / "cut.npz"
    write_zip(path, {"w.npy": buffer.getvalue()[:-40]})
    with pytest.raises(ValueError, match=r"load: member 'w.npy' of .*cut.npz"):
        load(path)


def test_an_optimizer_and_scheduler_checkpoint_goes_through_files_and_resumes_exactly(tmp_path):
    from tinygrad_dlcv import nn, optim
    from tinygrad_dlcv.nn import functional as F
    from tinygrad_dlcv.optim.lr_scheduler import StepLR

    X = tg.tensor(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    y = tg.tensor(np.arange(16) % 3)

    def make():
        tg.manual_seed(0)
        model = nn.MLP(4, [8], 3)
        params = list(model.parameters())
        groups = [{"params": params[:2]}, {"params": params[2:], "lr": 0.01}]
        optimizer = optim.Adam(groups, lr=1e-3)
        return model, optimizer, StepLR(optimizer, 2, 0.5)

    def train(model, optimizer, scheduler, steps):
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        return losses

    uninterrupted = train(*make(), 10)
    model, optimizer, scheduler = make()
    first = train(model, optimizer, scheduler, 5)
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        tg.save(obj.state_dict(), tmp_path / f"{name}.npz")  # nested dicts: dotted names
    assert "state.0.exp_avg" in tg.load(tmp_path / "optimizer.npz")
    assert "param_groups.1.lr" in tg.load(tmp_path / "optimizer.npz")
    resumed = make()
    for name, obj in zip(("model", "optimizer", "scheduler"), resumed, strict=True):
        obj.load_state_dict(tg.load(tmp_path / f"{name}.npz"))
    assert resumed[1].param_groups[0]["betas"] == (0.9, 0.999)
    assert first + train(*resumed, 5) == uninterrupted  # the decayed lr and Adam's moments too


def test_plain_sgd_state_with_no_entries_saves_and_loads(tmp_path):
    from tinygrad_dlcv import optim

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    sgd = optim.SGD([w], lr=0.1, nesterov=False)
    tg.save(sgd.state_dict(), tmp_path / "sgd.npz")
    again = optim.SGD([w], lr=0.5)
    again.load_state_dict(tg.load(tmp_path / "sgd.npz"))
    assert again.param_groups[0]["lr"] == 0.1 and again.param_groups[0]["nesterov"] is False


def test_a_zero_d_parameters_optimizer_state_and_colliding_names(tmp_path):
    from tinygrad_dlcv import nn, optim

    neuron = nn.Neuron(3)  # its bias is 0-d, and so are its Adam moments
    adam = optim.Adam(neuron.parameters(), lr=0.1)
    for _ in range(2):
        adam.zero_grad()
        neuron(tg.ones(4, 3)).sum().backward()
        adam.step()
    tg.save(adam.state_dict(), tmp_path / "adam.npz")
    again = optim.Adam(neuron.parameters(), lr=0.1)
    again.load_state_dict(tg.load(tmp_path / "adam.npz"))
    assert again.state_dict()["state"][1]["step"] == 2
    np.testing.assert_array_equal(
        again.state_dict()["state"][1]["exp_avg"], adam.state_dict()["state"][1]["exp_avg"]
    )
    with pytest.raises(ValueError, match="both stored as 'a.b'"):
        save({"a.b": np.array([1.0]), "a": {"b": np.array([2.0])}}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()
