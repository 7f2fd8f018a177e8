"""PCA against scikit-learn: variances, components (sign rule included), projections."""

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv.cluster import NotFittedError
from tinygrad_dlcv.decomposition import PCA

sklearn_decomposition = pytest.importorskip("sklearn.decomposition")


def correlated(n, d, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    # Distinct, well separated variances make every component unique up to sign.
    scales = np.geomspace(10.0, 0.1, d)
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return ((rng.normal(size=(n, d)) * scales) @ basis.T + rng.normal(size=d)).astype(dtype)


def host(array):
    """A NumPy copy of a NumPy or CuPy array."""
    return array.get() if hasattr(array, "get") else np.asarray(array)


def assert_same_up_to_sign(ours, reference, **tolerance):
    signs = np.sign((ours * reference).sum(axis=1))
    np.testing.assert_allclose(ours, reference * signs[:, None], **tolerance)


@pytest.mark.parametrize("n, d", [(300, 8), (200, 30), (12, 40)])
@pytest.mark.parametrize("k", [1, 3, None])
def test_matches_sklearn(n, d, k):
    X = correlated(n, d)
    ours = PCA(k).fit(X)
    ref = sklearn_decomposition.PCA(k, svd_solver="full").fit(X)
    kept = ref.n_components_
    assert ours.n_components_ == kept and ours.components_.shape == (kept, d)
    # The smallest variances of wide data are ~0: compare them absolutely.
    np.testing.assert_allclose(
        ours.explained_variance_, ref.explained_variance_, rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    meaningful = min(kept, n - 1)  # centered wide data has rank n - 1 at most
    assert_same_up_to_sign(
        ours.components_[:meaningful], ref.components_[:meaningful], rtol=1e-7, atol=1e-9
    )
    projected = ours.transform(X)[:, :meaningful]
    assert_same_up_to_sign(projected.T, ref.transform(X)[:, :meaningful].T, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(
        ours.inverse_transform(ours.transform(X)),
        ref.inverse_transform(ref.transform(X)),
        rtol=1e-7,
        atol=1e-7,
    )


def test_sign_rule_is_deterministic():
    X = correlated(400, 10, seed=1)
    model = PCA(5).fit(X)
    components = model.components_
    biggest = np.abs(components).argmax(axis=1)
    assert np.all(components[np.arange(5), biggest] > 0)  # largest |entry| positive
    # The rule fixes the sign whatever the solver returned: -X has the same covariance.
    np.testing.assert_allclose(PCA(5).fit(-X).components_, components, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(PCA(5).fit(X).components_, components)
    ref = sklearn_decomposition.PCA(5, svd_solver="full").fit(X)
    np.testing.assert_allclose(components, ref.components_, rtol=1e-7, atol=1e-9)  # same rule


def test_components_are_orthonormal_and_sorted():
    model = PCA(6).fit(correlated(500, 12, seed=2))
    np.testing.assert_allclose(model.components_ @ model.components_.T, np.eye(6), atol=1e-12)
    assert np.all(np.diff(model.explained_variance_) <= 0)
    assert 0 < model.explained_variance_ratio_.sum() <= 1


@pytest.mark.parametrize("n, d", [(100, 7), (5, 9)])
def test_full_rank_reconstruction_is_exact(n, d):
    X = correlated(n, d, seed=3)
    model = PCA().fit(X)
    np.testing.assert_allclose(model.inverse_transform(model.transform(X)), X, atol=1e-10)
    assert model.explained_variance_ratio_.sum() == pytest.approx(1.0, rel=1e-12)


def test_fit_transform_equals_fit_then_transform():
    X = correlated(200, 6, seed=4)
    np.testing.assert_allclose(PCA(3).fit_transform(X), PCA(3).fit(X).transform(X), atol=1e-12)


def test_float32_stays_float32_and_agrees():
    X = correlated(2000, 20, seed=5, dtype=np.float32)
    ours = PCA(4).fit(X)
    ref = sklearn_decomposition.PCA(4, svd_solver="full").fit(X.astype(np.float64))
    for name in ("components_", "explained_variance_", "explained_variance_ratio_", "mean_"):
        assert getattr(ours, name).dtype == np.float32
    assert ours.transform(X).dtype == np.float32
    assert ours.inverse_transform(ours.transform(X)).dtype == np.float32
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-4
    )
    assert_same_up_to_sign(ours.components_, ref.components_, atol=1e-4)


def test_data_far_from_the_origin_keeps_its_precision():
    # Means of 1e4 against a spread of ~1: X^T X - N mean mean^T would cancel in float32.
    X = correlated(3000, 6, seed=7) + 1e4
    ours = PCA(3).fit(X.astype(np.float32))
    ref = sklearn_decomposition.PCA(3, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-3)
    assert_same_up_to_sign(ours.components_, ref.components_, atol=1e-3)
    projected = ours.transform(X.astype(np.float32))
    assert_same_up_to_sign(projected.T, ref.transform(X).T, atol=2e-2)


def test_tensor_input(device):
    X = correlated(150, 5, seed=6)
    expected = PCA(2).fit(X)
    model = PCA(2).fit(tg.tensor(X, dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(model.components_), expected.components_, atol=1e-10)
    projected = model.transform(tg.tensor(X, dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(projected), expected.transform(X), atol=1e-10)


@pytest.mark.parametrize("n_components", [0, -1, 9, 2.5, True, "2"])
def test_bad_n_components(n_components):
    with pytest.raises(ValueError, match="n_components") as caught:
        PCA(n_components).fit(correlated(20, 8))
    wrong_type = not isinstance(n_components, int) or isinstance(n_components, bool)
    assert isinstance(caught.value, TypeError) == wrong_type


def test_bad_input_and_use_before_fit():
    with pytest.raises(ValueError, match="2 samples"):
        PCA().fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        PCA().fit(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    for method in ("transform", "inverse_transform"):
        with pytest.raises(NotFittedError, match="fit") as caught:
            getattr(PCA(1), method)(np.ones((2, 2)))
        assert isinstance(caught.value, AttributeError) and isinstance(caught.value, ValueError)
    model = PCA(2).fit(correlated(30, 4))
    with pytest.raises(ValueError, match="features"):
        model.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="components"):
        model.inverse_transform(np.ones((3, 3)))
    assert model.get_params() == {"n_components": 2, "whiten": False, "device": None}
    assert model.set_params(n_components=3) is model and model.n_components == 3
    with pytest.raises(ValueError):
        model.set_params(svd_solver="full")  # not a parameter here


def test_constant_data_gives_no_nan():
    model = PCA(2).fit(np.ones((10, 3)))
    assert np.isfinite(model.explained_variance_ratio_).all()
    assert np.isfinite(model.components_).all()


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99, 0.999999])
def test_a_float_n_components_keeps_the_fewest_components_as_sklearn(fraction):
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) * np.array([10, 5, 3, 2, 1, 0.5, 0.2, 0.1]) + 5
    ours = PCA(fraction).fit(X)
    theirs = decomposition.PCA(fraction, svd_solver="full").fit(X)
    assert ours.n_components_ == theirs.n_components_ == ours.components_.shape[0]


@pytest.mark.parametrize("bad", [1.0, 0.0, -0.5, float("nan")])
def test_a_float_n_components_outside_0_1_is_a_value_error(bad):  # (and a TypeError, as sklearn)
    with pytest.raises(ValueError, match="n_components"):
        PCA(bad).fit(np.random.default_rng(0).normal(size=(20, 3)))


def test_whiten_as_sklearn():
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)) * np.array([4, 3, 2, 1, 0.5, 0.1]) + 2
    ours = PCA(3, whiten=True).fit(X)
    theirs = decomposition.PCA(3, whiten=True, svd_solver="full").fit(X)
    projected, expected = ours.transform(X), theirs.transform(X)
    signs = np.sign((projected * expected).sum(axis=0))
    np.testing.assert_allclose(projected * signs, expected, atol=1e-12)
    np.testing.assert_allclose(projected.std(axis=0, ddof=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ours.fit_transform(X) * signs, expected, atol=1e-12)
    np.testing.assert_allclose(
        ours.inverse_transform(projected), theirs.inverse_transform(expected), atol=1e-12
    )
    with pytest.raises(TypeError, match="whiten"):
        PCA(2, whiten="yes").fit(X)


@pytest.mark.parametrize("scale", [1e19, 1e30, 1e-30])
@pytest.mark.parametrize("shape", [(200, 5), (4, 10)])
def test_float32_data_whose_squares_leave_the_range_is_fitted_as_sklearn(scale, shape):
    """The covariance of float32 data of size 1e19 overflows (NaN components), of size
    1e-30 underflows to 0; scikit-learn's SVD never squares the data."""
    sklearn_decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(5)
    X = (rng.normal(size=shape) * np.arange(1, shape[1] + 1)).astype(np.float32)
    X *= np.float32(scale)
    ours = PCA(2).fit(X)
    theirs = sklearn_decomposition.PCA(2).fit(X.astype(np.float64))
    np.testing.assert_allclose(np.abs(ours.components_), np.abs(theirs.components_), atol=1e-5)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-5
    )
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-5)
    assert np.isfinite(ours.transform(X)).all()
