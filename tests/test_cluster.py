"""KMeans, HierarchicalKMeans, SoftKMeans and pairwise_distances.

scikit-learn is the oracle for Lloyd's algorithm (same init, tol=0: same
centers, labels, inertia and iteration count); scipy's cdist is the oracle
for distances and for L1 / Lp assignments.
"""

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv.cluster import (
    HierarchicalKMeans,
    KMeans,
    NotFittedError,
    SoftKMeans,
    pairwise_distances,
)

sklearn_cluster = pytest.importorskip("sklearn.cluster")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
cdist = pytest.importorskip("scipy.spatial.distance").cdist

MNIST = Path(__file__).parents[2] / "shared" / "data" / "mnist"


def blobs(n=400, k=4, d=3, std=1.5, seed=0):
    X, y = sklearn_datasets.make_blobs(
        n_samples=n, centers=k, n_features=d, cluster_std=std, random_state=seed
    )
    return X, y


def some_rows(X, k, seed):
    return X[np.random.default_rng(seed).choice(len(X), size=k, replace=False)].copy()


def host(array):
    """A NumPy copy of a NumPy or CuPy array."""
    return array.get() if hasattr(array, "get") else np.asarray(array)


def minkowski(p):
    return {"metric": "minkowski", "p": p}


# --------------------------------------------------------------------------- against scikit-learn


@pytest.mark.parametrize(
    "n, k, d, std, seed",
    [(400, 4, 3, 2.5, 0), (600, 6, 5, 3.0, 1), (300, 3, 2, 4.0, 2), (1000, 8, 10, 5.0, 3)],
)
def test_lloyd_matches_sklearn_with_the_same_init(n, k, d, std, seed):
    X, _ = blobs(n, k, d, std, seed)
    init = some_rows(X, k, seed)
    ours = KMeans(k, init=init, tol=0).fit(X)
    ref = sklearn_cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)
    assert ours.n_iter_ == ref.n_iter_
    assert isinstance(ours.inertia_, float)


@pytest.mark.parametrize("tol, max_iter", [(1e-2, 300), (1e-4, 300), (0.0, 3)])
def test_tolerance_and_max_iter_stop_where_sklearn_stops(tol, max_iter):
    X, _ = blobs(800, 6, 4, 3.5, 7)
    init = some_rows(X, 6, 7)
    ours = KMeans(6, init=init, tol=tol, max_iter=max_iter).fit(X)
    ref = sklearn_cluster.KMeans(
        6, init=init, n_init=1, algorithm="lloyd", tol=tol, max_iter=max_iter
    ).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


def test_float32_data_agrees_with_sklearn():
    X, _ = blobs(2000, 5, 8, 1.0, 4)
    X = X.astype(np.float32)
    init = some_rows(X, 5, 4)
    ours = KMeans(5, init=init, tol=0).fit(X)
    ref = sklearn_cluster.KMeans(5, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    assert ours.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-4)


def test_empty_cluster_is_reseeded_like_sklearn():
    X, _ = blobs(300, 3, 2, 1.0, 5)
    init = some_rows(X, 3, 5)
    init[1] = [1e3, 1e3]  # far from every sample: cluster 1 is empty after the first assignment
    ours = KMeans(3, init=init, tol=0).fit(X)
    ref = sklearn_cluster.KMeans(3, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    assert np.isfinite(ours.cluster_centers_).all()
    assert np.all(np.bincount(ours.labels_, minlength=3) > 0)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


@pytest.mark.parametrize(
    "X, init, center, labels",
    [
        ([[4.0], [4.0], [0.0], [2.0]], [[6.0], [0.0], [7.0]], "mean", [0, 0, 1, 2]),
        ([[2.0], [1.0], [2.0], [2.0]], [[-1.0], [8.0]], "median", [0, 1, 0, 0]),
    ],
)
def test_labels_fit_the_centers_after_a_reseed_in_the_converged_iteration(X, init, center, labels):
    # The labels repeat (converged), but that iteration's update re-seeded an empty
    # cluster onto a sample: the labels must be redone for the moved center.
    model = KMeans(len(init), init=np.array(init), center=center, track_history=True).fit(X)
    np.testing.assert_array_equal(model.labels_, labels)
    np.testing.assert_array_equal(model.predict(np.array(X)), labels)
    assert model.inertia_ == 0.0
    np.testing.assert_array_equal(model.history_[-1]["labels"], labels)


@pytest.mark.parametrize("metric", ["manhattan", 3, 1.5])
@pytest.mark.parametrize("center", ["mean", "median"])
def test_empty_clusters_never_give_nan(metric, center):
    X, _ = blobs(200, 2, 3, 1.0, 6)
    init = np.vstack([X[:2], np.full((3, 3), 500.0)])  # three centers far away from everything
    model = KMeans(5, init=init, metric=metric, center=center, tol=0).fit(X)
    assert np.isfinite(model.cluster_centers_).all()
    assert np.all(np.bincount(model.labels_, minlength=5) > 0)


# --------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    "metric, scipy_metric",
    [("euclidean", {"metric": "euclidean"}), ("manhattan", {"metric": "cityblock"})]
    + [(p, minkowski(p)) for p in (3, 1.5)],
)
def test_pairwise_distances_match_cdist(metric, scipy_metric):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(70, 6)), rng.normal(size=(40, 6))
    got = pairwise_distances(X, Y, metric=metric)
    np.testing.assert_allclose(got, cdist(X, Y, **scipy_metric), rtol=1e-9, atol=1e-9)
    assert got.shape == (70, 40) and got.dtype == np.float64
    own = pairwise_distances(X, metric=metric)
    np.testing.assert_allclose(own, cdist(X, X, **scipy_metric), rtol=1e-9, atol=1e-7)
    assert np.all(np.diag(own) == 0)


@pytest.mark.parametrize("p", [1, 3, 4, 2.5, 7, 20])
@pytest.mark.parametrize(
    "shape",
    [(3000, 40, 5), (3000, 4, 8), (500, 30, 30)],
    ids=["few centers (one at a time)", "few features (one at a time)", "square"],
)
def test_p_norm_distances_and_labels_match_cdist_whichever_way_they_are_summed(p, shape):
    n, d, k = shape
    rng = np.random.default_rng(1)
    X, C = rng.normal(size=(n, d)), rng.normal(size=(k, d))
    expected = cdist(X, C, **minkowski(p)) if p != 1 else cdist(X, C, "cityblock")
    np.testing.assert_allclose(pairwise_distances(X, C, metric=p), expected, rtol=1e-12)
    np.testing.assert_allclose(
        pairwise_distances(X.astype(np.float32), C.astype(np.float32), metric=p),
        cdist(X.astype(np.float32), C.astype(np.float32), **minkowski(p))
        if p != 1
        else cdist(X.astype(np.float32), C.astype(np.float32), "cityblock"),
        rtol=2e-6,
    )
    model = KMeans(k, init=C, max_iter=1, tol=0, metric=p).fit(X)
    # labels_ fit the final centers: the nearest of them by brute force in float64
    brute = cdist(X, model.cluster_centers_, **minkowski(p)).argmin(axis=1)
    np.testing.assert_array_equal(model.labels_, brute)
    np.testing.assert_array_equal(model.predict(X), brute)


def test_pairwise_distances_are_never_negative():
    # Large offsets make ||x||^2 - 2 x.y + ||y||^2 cancel: rounding must not go below 0.
    rng = np.random.default_rng(1)
    X = (1e4 + rng.normal(scale=1e-3, size=(50, 8))).astype(np.float32)
    distances = pairwise_distances(X, X[::-1].copy())
    assert distances.dtype == np.float32
    assert np.all(distances >= 0) and np.isfinite(distances).all()
    assert np.all(pairwise_distances(X) >= 0)


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_large_p_assigns_the_nearest_center_when_powers_overflow_or_underflow(scale):
    # |x - c|^100 overflows float64 past |x - c| = 1200 and underflows below 1e-3: every
    # center's sum was inf (or 0) and argmin picked the first center, SoftKMeans gave NaN.
    X = np.array([[0.0], [0.1], [0.5], [0.51], [1.0]]) * scale
    init = np.array([[0.05], [0.505]]) * scale
    want = [0, 0, 1, 1, 1]  # 1.0 is nearer 0.505 than 0.05
    model = KMeans(2, init=init, metric=100, max_iter=1).fit(X)
    np.testing.assert_array_equal(model.labels_, want)
    np.testing.assert_array_equal(model.predict(np.array([[0.9 * scale]])), [1])
    soft = SoftKMeans(2, init=init, metric=100, beta=1.0, max_iter=1).fit(X)
    assert np.isfinite(soft.responsibilities_).all()
    np.testing.assert_allclose(soft.responsibilities_.sum(axis=1), 1.0)
    if scale == 1e4:  # unreachable rows: all the weight on the nearest center
        np.testing.assert_array_equal(soft.responsibilities_.argmax(axis=1), want)
    # Distances themselves are computed as SciPy computes them (inf where d^p overflows).
    with np.errstate(over="ignore", under="ignore"):
        np.testing.assert_allclose(
            pairwise_distances(X, init, metric=100), cdist(X, init, "minkowski", p=100), rtol=1e-12
        )


def test_large_p_soft_objective_is_finite_and_nothing_warns():
    # A responsibility of exactly 0 times an overflowed d^p made the objective NaN.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [5000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow here is expected and handled: no warnings
        soft = SoftKMeans(2, init=np.array([[1.5], [5000.0]]), metric=100, max_iter=5).fit(X)
        hard = KMeans(2, init=np.array([[1.5], [5000.0]]), metric=100, max_iter=5).fit(X)
    assert soft.inertia_ == pytest.approx(2 * 1.5**100 + 2 * 0.5**100)
    assert hard.inertia_ == pytest.approx(soft.inertia_)


def test_large_p_kmeans_plus_plus_seeds_do_not_depend_on_the_scale():
    # d^100 was 0 (or inf) for every sample at scale 2^-20 (2^14): every k-means++ draw
    # fell on the first sample, and the clusters came out [50, 50, 100, 200].
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    X = np.concatenate([corner + rng.normal(size=(100, 2)) for corner in corners])
    labels = []
    for scale in (1.0, 2.0**14, 2.0**-20):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = KMeans(4, metric=100, random_state=0).fit(X * scale)
        assert sorted(np.bincount(model.labels_, minlength=4)) == [100, 100, 100, 100]
        labels.append(model.labels_)
    np.testing.assert_array_equal(labels[0], labels[1])
    np.testing.assert_array_equal(labels[0], labels[2])


@pytest.mark.parametrize("scale", [1.0, 2.0**14, 2.0**-20])
def test_large_p_reseeds_an_empty_cluster_with_the_farthest_sample(scale):
    # With every d^100 inf (or 0) the "farthest" sample was simply the first one.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [30.0]]) * scale
    init = np.array([[1.5], [10.5], [500.0]]) * scale  # the third center gets no sample
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = KMeans(3, init=init, metric=100).fit(X)
    np.testing.assert_array_equal(model.labels_, [0, 0, 0, 0, 1, 1, 2])
    np.testing.assert_allclose(model.cluster_centers_.ravel(), np.array([1.5, 10.5, 30.0]) * scale)


def test_large_p_keeps_small_distances_and_finite_inertia():
    # A global rescaling tried here once turned 0.5 into 0 next to 1000, and made a
    # finite inertia (3e70) inf: the plain sums are kept wherever they are finite.
    X = np.array([[0.0], [0.5], [1000.0]])
    np.testing.assert_allclose(pairwise_distances(X, metric=100)[0], [0.0, 0.5, 1000.0])
    model = KMeans(2, metric=100, init=np.array([[5.0], [3005.0]])).fit(
        np.array([[0.0], [10.0], [3000.0], [3010.0]])
    )
    assert model.inertia_ == pytest.approx(4 * 5.0**100)


def test_float32_distances_of_far_away_close_points_are_accurate():
    # ||x||^2 - 2 x.y + ||y||^2 in float32 leaves ~3 digits at ||x|| = 1000: 0.001 became 0.
    X = np.array([[0.0, 0.0], [1000.0, 0.0], [1000.001, 0.0]], np.float32)
    expected = cdist(X.astype(np.float64), X.astype(np.float64))
    result = pairwise_distances(X)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    far = np.random.default_rng(3).normal(size=(200, 4)).astype(np.float32) * 0.01 + 100
    far = np.vstack([far, np.zeros((1, 4), np.float32)])
    expected = cdist(far.astype(np.float64), far.astype(np.float64))
    np.testing.assert_allclose(pairwise_distances(far), expected, rtol=1e-5, atol=1e-6)


def test_large_p_does_not_overflow_float32():
    # 20^30 overflows float32, the distance 20 does not (SciPy sums the powers in float64).
    X = np.array([[0.0, 0.0], [20.0, 0.0], [0.01, 0.0]], np.float32)
    result = pairwise_distances(X, metric=30)
    np.testing.assert_allclose(result, cdist(X.astype(np.float64), X, "minkowski", p=30), 1e-6)
    assert result.dtype == np.float32
    model = KMeans(2, init=X[:2], metric=30).fit(X)
    assert np.isfinite(model.inertia_) and np.isfinite(model.transform(X)).all()
    np.testing.assert_allclose(model.transform(X)[1], [20.0 - 0.005, 0.0], atol=1e-5)


def test_predict_and_transform_agree_with_fit_far_from_the_origin():
    # Two float32 clusters 0.01 apart near (1000, 1000): fit centers the data; so must predict.
    rng = np.random.default_rng(4)
    spread = rng.normal(size=(100, 2)) * 0.002
    X = (spread + np.repeat([[1000, 1000], [1000.01, 1000]], 50, axis=0)).astype(np.float32)
    model = KMeans(2, init=X[[0, 75]], tol=0).fit(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    centers = model.cluster_centers_.astype(np.float64)
    np.testing.assert_allclose(model.transform(X), cdist(X.astype(np.float64), centers), atol=2e-6)
    soft = SoftKMeans(2, beta=1e4, init=X[[0, 75]]).fit(X)
    np.testing.assert_array_equal(soft.predict(X), soft.labels_)
    # Only the float32 rounding of the stored centers (ulp 6e-5 at 1000) separates them.
    np.testing.assert_allclose(soft.predict_proba(X), soft.responsibilities_, atol=1e-2)


def test_pairwise_distances_bad_input():
    with pytest.raises(ValueError, match="features"):
        pairwise_distances(np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="metric"):
        pairwise_distances(np.ones((3, 2)), metric="cosine")
    with pytest.raises(ValueError, match="2-D"):
        pairwise_distances(np.ones(3))


@pytest.mark.parametrize("metric, p", [("manhattan", 1), (3, 3)])
def test_lp_assignments_equal_brute_force(metric, p):
    X, _ = blobs(500, 5, 4, 3.0, 8)
    model = KMeans(5, init=some_rows(X, 5, 8), metric=metric, tol=0).fit(X)
    brute = cdist(X, model.cluster_centers_, **minkowski(p))
    np.testing.assert_array_equal(model.labels_, brute.argmin(axis=1))
    assert model.inertia_ == pytest.approx(float((brute.min(axis=1) ** p).sum()), rel=1e-10)
    fresh = np.random.default_rng(9).normal(scale=6.0, size=(300, 4))
    brute_fresh = cdist(fresh, model.cluster_centers_, **minkowski(p))
    np.testing.assert_array_equal(model.predict(fresh), brute_fresh.argmin(axis=1))
    np.testing.assert_allclose(model.transform(fresh), brute_fresh, rtol=1e-10)


def test_median_centers_are_coordinate_wise_medians():
    X, _ = blobs(401, 3, 4, 2.0, 9)
    X[:5] += 1e3  # outliers: they drag a mean, not a median
    model = KMeans(3, init=some_rows(X, 3, 9), metric="manhattan", center="median", tol=0)
    model.fit(X)
    assert model.n_iter_ < model.max_iter
    for cluster in range(3):
        members = X[model.labels_ == cluster]
        np.testing.assert_allclose(
            model.cluster_centers_[cluster], np.median(members, axis=0), rtol=1e-12, atol=1e-12
        )


# --------------------------------------------------------------------------- initialisations


def test_random_init_picks_distinct_samples():
    X, _ = blobs(200, 4, 3, 2.0, 10)
    model = KMeans(7, init="random", max_iter=1, random_state=0, track_history=True).fit(X)
    start = model.history_[0]["centers"]
    matches = [np.flatnonzero((X == row).all(axis=1)) for row in start]
    assert all(len(found) == 1 for found in matches)
    assert len({int(found[0]) for found in matches}) == 7


def test_uniform_init_lies_in_the_bounding_box():
    X, _ = blobs(200, 4, 3, 2.0, 11)
    model = KMeans(20, init="uniform", max_iter=1, random_state=0, track_history=True).fit(X)
    start = model.history_[0]["centers"]
    assert np.all(start >= X.min(axis=0)) and np.all(start <= X.max(axis=0))
    assert not any((X == row).all(axis=1).any() for row in start)  # not samples
    spread = start.max(axis=0) - start.min(axis=0)
    assert np.all(spread > 0.5 * (X.max(axis=0) - X.min(axis=0)))  # fills the box


def test_kmeans_plus_plus_is_deterministic_and_spread_out():
    X, y = blobs(1000, 6, 2, 0.3, 12)
    centers = np.array([X[y == c].mean(axis=0) for c in range(6)])
    for seed in range(5):
        first = KMeans(6, random_state=seed, max_iter=1, track_history=True).fit(X)
        again = KMeans(6, random_state=seed, max_iter=1, track_history=True).fit(X)
        start = first.history_[0]["centers"]
        np.testing.assert_array_equal(start, again.history_[0]["centers"])
        assert all((X == row).all(axis=1).any() for row in start)  # k-means++ picks samples
        blob_of_each = cdist(start, centers).argmin(axis=1)
        assert len(set(blob_of_each.tolist())) == 6  # one seed in every blob
    other = KMeans(6, random_state=99, max_iter=1, track_history=True).fit(X)
    assert not np.array_equal(other.history_[0]["centers"], start)


def test_random_state_none_follows_manual_seed():
    X, _ = blobs(300, 4, 3, 2.0, 13)
    tg.manual_seed(123)
    first = KMeans(4, init="random").fit(X).cluster_centers_
    tg.manual_seed(123)
    np.testing.assert_array_equal(KMeans(4, init="random").fit(X).cluster_centers_, first)


def test_early_stop_on_well_separated_blobs():
    X, y = blobs(1000, 5, 4, 0.2, 14)
    model = KMeans(5, random_state=0).fit(X)
    assert model.n_iter_ <= 3
    # Every cluster is exactly one blob.
    assert len({(a, b) for a, b in zip(model.labels_.tolist(), y.tolist(), strict=True)}) == 5


def test_n_init_keeps_the_lowest_inertia():
    X = np.random.default_rng(15).uniform(size=(400, 2))
    generator = np.random.default_rng(0)  # shared: runs draw one after another, as n_init does
    inertias = [KMeans(8, init="random", random_state=generator).fit(X).inertia_ for _ in range(6)]
    best = KMeans(8, init="random", n_init=6, random_state=0).fit(X)
    assert max(inertias) > min(inertias)
    assert best.inertia_ == pytest.approx(min(inertias), rel=1e-12)


def test_history_records_every_iteration():
    X, _ = blobs(500, 4, 2, 2.5, 16)
    init = some_rows(X, 4, 16)
    model = KMeans(4, init=init, tol=0, track_history=True).fit(X)
    history = model.history_
    assert len(history) == model.n_iter_ + 1
    np.testing.assert_array_equal(history[0]["centers"], init)
    np.testing.assert_allclose(history[-1]["centers"], model.cluster_centers_)
    np.testing.assert_array_equal(history[-1]["labels"], model.labels_)
    for step, entry in enumerate(history):
        assert entry["centers"].shape == (4, 2) and entry["labels"].shape == (500,)
        nearest = cdist(X, entry["centers"]).argmin(axis=1)
        np.testing.assert_array_equal(entry["labels"], nearest)  # labels the centers induce
        if step:
            previous = history[step - 1]["labels"]
            means = np.array([X[previous == c].mean(axis=0) for c in range(4)])
            np.testing.assert_allclose(entry["centers"], means, rtol=1e-12, atol=1e-12)
    assert not hasattr(KMeans(4, init=init).fit(X), "history_")


# --------------------------------------------------------------------------- API, dtypes, errors


def test_estimator_api():
    X, _ = blobs(200, 3, 2, 1.0, 17)
    model = KMeans(3, random_state=0)
    assert model.fit(X) is model
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.labels_.dtype == np.int64
    np.testing.assert_array_equal(KMeans(3, random_state=0).fit_predict(X), model.labels_)
    distances = model.transform(X)
    np.testing.assert_allclose(distances, cdist(X, model.cluster_centers_), rtol=1e-9, atol=1e-9)
    params = model.get_params()
    assert params["n_clusters"] == 3 and params["random_state"] == 0
    assert params["metric"] == "euclidean" and params["center"] == "mean"
    assert set(params) == {
        "n_clusters",
        "init",
        "n_init",
        "max_iter",
        "tol",
        "metric",
        "center",
        "random_state",
        "device",
        "track_history",
    }
    assert model.set_params(n_clusters=4, metric="manhattan") is model
    assert model.n_clusters == 4 and model.metric == "manhattan"
    with pytest.raises(ValueError, match="bogus"):
        model.set_params(bogus=1)
    assert "n_clusters=4" in repr(model)
    sklearn_base = pytest.importorskip("sklearn.base")
    assert sklearn_base.clone(model).get_params() == model.get_params()


@pytest.mark.parametrize("estimator", [KMeans(2), HierarchicalKMeans(2, 2), SoftKMeans(2)])
@pytest.mark.parametrize("method", ["predict", "transform"])
def test_use_before_fit_is_a_value_and_attribute_error(estimator, method):
    with pytest.raises(NotFittedError, match="fit") as caught:
        getattr(estimator, method)(np.ones((3, 2)))
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, AttributeError)


@pytest.mark.parametrize(
    "params, data, message",
    [
        ({"n_clusters": 0}, None, "n_clusters"),
        ({"n_clusters": -2}, None, "n_clusters"),
        ({"n_clusters": 2.5}, None, "n_clusters"),
        ({"n_clusters": "3"}, None, "n_clusters"),
        ({"n_clusters": 11}, None, "larger than the number of samples"),
        ({"metric": "cosine"}, None, "metric"),
        ({"metric": 0.5}, None, "metric"),
        ({"init": "farthest"}, None, "init"),
        ({"init": np.zeros((2, 2))}, None, r"shape"),
        ({"init": np.zeros((3, 3))}, None, r"shape"),
        ({"init": np.zeros(6)}, None, "2-D"),
        ({"center": "mode"}, None, "center"),
        ({"tol": -1.0}, None, "tol"),
        ({"max_iter": 0}, None, "max_iter"),
        ({"n_init": 0}, None, "n_init"),
        ({}, np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 2.0]]), "NaN"),
        ({}, np.array([[1.0, np.inf], [0.0, 1.0], [2.0, 2.0]]), "infinity"),
        ({}, np.ones(10), "2-D"),
        ({}, np.ones((10, 2, 2)), "2-D"),
    ],
)
def test_bad_input_is_a_value_error(params, data, message):
    X = np.random.default_rng(0).normal(size=(10, 3)) if data is None else data
    with pytest.raises(ValueError, match=message):
        KMeans(**{"n_clusters": 2, **params}).fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {"n_clusters": "3"},
        {"n_clusters": 2.5},
        {"metric": None},
        {"tol": "x"},
        {"max_iter": 1.5},
        {"track_history": "no"},
        {"random_state": "x"},
    ],
)
def test_a_parameter_of_the_wrong_type_is_a_type_and_value_error(params):
    # TypeError as the contract says for a wrong type; also ValueError, as scikit-learn raises.
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(TypeError, match=next(iter(params))) as caught:
        KMeans(**{"n_clusters": 2, **params}).fit(X)
    assert isinstance(caught.value, ValueError)


def test_predict_with_wrong_feature_count():
    model = KMeans(2, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((4, 2)))


def test_refit_without_history_drops_the_old_history():
    X = np.random.default_rng(5).normal(size=(40, 2))
    model = KMeans(2, random_state=0, track_history=True).fit(X)
    assert len(model.history_) == model.n_iter_ + 1
    model.set_params(track_history=False).fit(X[:10])
    assert not hasattr(model, "history_")


@pytest.mark.parametrize("dtype, expected", [(np.float64, np.float64), (np.float32, np.float32)])
def test_outputs_keep_the_float_dtype(dtype, expected):
    X, _ = blobs(200, 3, 2, 1.0, 18)
    model = KMeans(3, random_state=0, track_history=True).fit(X.astype(dtype))
    assert model.cluster_centers_.dtype == expected
    assert model.transform(X.astype(dtype)).dtype == expected
    assert model.history_[0]["centers"].dtype == expected
    assert model.labels_.dtype == np.int64 and model.predict(X).dtype == np.int64
    assert isinstance(model.inertia_, float) and isinstance(model.n_iter_, int)


def test_another_librarys_float64_array_keeps_float64():
    """A torch tensor (any object with __array__) is an array, not a list of Python
    numbers: its float64 is kept, as scikit-learn keeps it."""
    torch = pytest.importorskip("torch")
    from tinygrad_dlcv.decomposition import PCA

    X, _ = blobs(60, 3, 4, 1.0, 20)
    data = torch.from_numpy(X.astype(np.float64))
    model = KMeans(3, init=X[:3], tol=0).fit(data)
    assert model.cluster_centers_.dtype == np.float64
    np.testing.assert_array_equal(
        model.cluster_centers_, KMeans(3, init=X[:3], tol=0).fit(X).cluster_centers_
    )
    assert PCA(2).fit(data).components_.dtype == np.float64
    assert pairwise_distances(data).dtype == np.float64
    assert pairwise_distances(data.float()).dtype == np.float32


def test_sparse_data_is_refused_by_name():
    sparse = pytest.importorskip("scipy.sparse")
    X, _ = blobs(30, 3, 2, 1.0, 21)
    with pytest.raises(TypeError, match="sparse matrices are not supported"):
        KMeans(3).fit(sparse.csr_matrix(X))


def test_integer_data_gives_the_default_float_dtype():
    X = np.random.default_rng(1).integers(0, 50, size=(100, 2))
    model = KMeans(3, random_state=0).fit(X)
    assert model.cluster_centers_.dtype == np.float32


def test_tensor_input_gives_the_same_result(device):
    X, _ = blobs(300, 3, 2, 1.0, 19)
    init = some_rows(X, 3, 19)
    expected = KMeans(3, init=init, tol=0).fit(X)
    model = KMeans(3, init=init, tol=0).fit(tg.tensor(X, dtype=tg.float64, device=device))
    assert type(model.cluster_centers_) is type(tg.zeros(1, device=device).data)  # X's backend
    assert model.cluster_centers_.dtype == np.float64
    np.testing.assert_allclose(host(model.cluster_centers_), expected.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(host(model.labels_), expected.labels_)
    assert model.inertia_ == pytest.approx(expected.inertia_, rel=1e-10)
    predicted = model.predict(tg.tensor(X, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(host(predicted), expected.labels_)


# --------------------------------------------------------------------------- hierarchical


def nested_blobs(per_leaf=60, seed=20):
    """3 far-apart groups of 3 close blobs each: 9 leaves, exactly two levels."""
    rng = np.random.default_rng(seed)
    tops = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    offsets = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    centers = (tops[:, None, :] + offsets[None]).reshape(9, 2)
    y = np.repeat(np.arange(9), per_leaf)
    return centers[y] + rng.normal(scale=0.5, size=(len(y), 2)), y


def test_hierarchical_finds_every_leaf_and_predicts_consistently():
    X, y = nested_blobs()
    model = HierarchicalKMeans(branching=3, depth=2, random_state=0).fit(X)
    assert model.cluster_centers_.shape == (9, 2)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert len({(a, b) for a, b in zip(model.labels_.tolist(), y.tolist(), strict=True)}) == 9
    for leaf in range(9):  # leaf centers are the means of their samples
        np.testing.assert_allclose(model.cluster_centers_[leaf], X[model.labels_ == leaf].mean(0))
    fresh, fresh_y = nested_blobs(per_leaf=5, seed=21)
    mapping = dict(zip(y.tolist(), model.labels_.tolist(), strict=True))
    np.testing.assert_array_equal(model.predict(fresh), [mapping[v] for v in fresh_y.tolist()])
    assert model.inertia_ == pytest.approx(
        float(((X - model.cluster_centers_[model.labels_]) ** 2).sum())
    )


def test_hierarchical_leaf_count_and_tiny_nodes():
    X = np.random.default_rng(22).normal(size=(2000, 4))
    model = HierarchicalKMeans(branching=4, depth=3, random_state=0).fit(X)
    assert model.cluster_centers_.shape == (64, 4)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert np.all(np.bincount(model.labels_, minlength=64) > 0)
    few = HierarchicalKMeans(branching=3, depth=3, random_state=0).fit(X[:5])
    assert few.cluster_centers_.shape[0] <= 5  # nodes with fewer samples than branching
    np.testing.assert_array_equal(few.predict(X[:5]), few.labels_)
    assert np.isfinite(few.cluster_centers_).all()


def test_hierarchical_bad_parameters():
    X = np.ones((10, 2))
    for params in ({"branching": 1}, {"depth": 0}, {"branching": 2.5}, {"init": np.ones((2, 2))}):
        with pytest.raises(ValueError):
            HierarchicalKMeans(**params).fit(X)
    assert set(HierarchicalKMeans().get_params()) >= {"branching", "depth", "metric"}


# --------------------------------------------------------------------------- soft k-means


def test_soft_responsibilities_sum_to_one():
    X, _ = blobs(300, 3, 2, 2.0, 23)
    model = SoftKMeans(3, beta=0.5, random_state=0).fit(X)
    resp = model.responsibilities_
    assert resp.shape == (300, 3)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(resp >= 0)
    np.testing.assert_allclose(model.predict_proba(X), resp, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), resp.argmax(axis=1))
    np.testing.assert_array_equal(model.labels_, resp.argmax(axis=1))
    # Soft means: each center is the responsibility-weighted mean (at convergence).
    model = SoftKMeans(3, beta=0.5, random_state=0, tol=0, max_iter=500).fit(X)
    resp = model.responsibilities_
    means = (resp.T @ X) / resp.sum(axis=0)[:, None]
    np.testing.assert_allclose(model.cluster_centers_, means, rtol=1e-6, atol=1e-6)


def test_soft_assignments_become_hard_as_beta_grows():
    X, _ = blobs(400, 4, 2, 2.0, 24)
    init = some_rows(X, 4, 24)
    hard = KMeans(4, init=init, tol=0).fit(X)
    stiff = SoftKMeans(4, beta=1e6, init=init, tol=0).fit(X)
    assert np.isfinite(stiff.responsibilities_).all()
    np.testing.assert_allclose(stiff.responsibilities_, np.eye(4)[hard.labels_], atol=1e-9)
    np.testing.assert_allclose(stiff.cluster_centers_, hard.cluster_centers_, rtol=1e-9)
    # The softer the assignment, the less certain the most responsible cluster.
    certainty = [
        SoftKMeans(4, beta=beta, init=init).fit(X).responsibilities_.max(axis=1).mean()
        for beta in (0.01, 0.1, 1.0, 10.0)
    ]
    assert certainty == sorted(certainty) and certainty[0] < 0.5 < certainty[-1]


def test_soft_bad_parameters():
    X = np.ones((10, 2))
    for params in ({"beta": 0.0}, {"beta": -1.0}, {"n_clusters": 0}, {"metric": "cosine"}):
        with pytest.raises(ValueError):
            SoftKMeans(**{"n_clusters": 2, **params}).fit(X)
    model = SoftKMeans(2, random_state=0).fit(np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(ValueError, match="beta"):  # set after fit: checked where it is used
        model.set_params(beta=-5.0).predict_proba(X)


# --------------------------------------------------------------------------- real data


def read_idx(path, magic, header):
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    assert int.from_bytes(raw[:4], "big") == magic
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


def test_kmeans_on_mnist_has_useful_purity():
    images_path = MNIST / "t10k-images-idx3-ubyte.gz"
    labels_path = MNIST / "t10k-labels-idx1-ubyte.gz"
    if not (images_path.exists() and labels_path.exists()):
        pytest.skip(f"MNIST test set not found in {MNIST}")
    images = read_idx(images_path, 2051, 16).reshape(-1, 784).astype(np.float32) / 255
    digits = read_idx(labels_path, 2049, 8).astype(np.int64)
    assert images.shape == (10000, 784) and digits.shape == (10000,)
    model = KMeans(10, random_state=0, n_init=1, max_iter=50).fit(images)
    majority = sum(np.bincount(digits[model.labels_ == c], minlength=10).max() for c in range(10))
    purity = majority / len(digits)
    print(f"MNIST k-means purity (K=10, random_state=0): {purity:.4f}")
    assert purity > 0.5


# --------------------------------------------------------------------------- review fixes


def test_pairwise_distances_of_x_with_itself_has_an_exact_zero_diagonal():
    X = np.random.default_rng(0).normal(size=(200, 10)) * 30 + 100
    assert np.diag(pairwise_distances(X, X)).max() == 0.0  # as scikit-learn for Y is X
    assert np.diag(pairwise_distances(X)).max() == 0.0


def test_a_list_y_or_init_is_read_in_the_datas_float_dtype():
    spatial = pytest.importorskip("scipy.spatial")
    X = np.random.default_rng(0).normal(size=(50, 2))
    Y = [[0.1, 0.2], [1.3, -0.7]]
    np.testing.assert_allclose(
        pairwise_distances(X, Y), spatial.distance.cdist(X, np.array(Y)), rtol=1e-14
    )
    fitted = KMeans(2, init=[[0.1, 0.2], [-0.3, 0.7]], max_iter=1, track_history=True).fit(X)
    assert fitted.history_[0]["centers"].tolist() == [[0.1, 0.2], [-0.3, 0.7]]


def test_soft_kmeans_with_a_beta_that_overflows_float32_is_hard_kmeans_not_nan():
    X = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    soft = SoftKMeans(4, beta=1e38, init=X[:4], max_iter=5).fit(X)
    assert not np.isnan(soft.responsibilities_).any()
    np.testing.assert_allclose(soft.responsibilities_.sum(axis=1), 1.0, rtol=1e-6)
    assert set(np.unique(soft.responsibilities_)) <= {0.0, 1.0}


def test_random_state_may_be_a_legacy_random_state_and_n_init_auto_as_sklearn():
    X = np.random.default_rng(2).normal(size=(300, 2))
    first = KMeans(3, random_state=np.random.RandomState(0)).fit(X)
    again = KMeans(3, random_state=np.random.RandomState(0)).fit(X)
    np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)
    from tinygrad_dlcv.cluster import _runs

    assert _runs("k-means++", "auto") == 1 and _runs("random", "auto") == 10
    assert _runs(X[:3], "auto") == 1 and _runs("random", 4) == 4
    assert KMeans(3, n_init="auto", init="random", random_state=0).fit(X).inertia_ > 0
    with pytest.raises(ValueError, match="n_init"):
        KMeans(3, n_init="many").fit(X)


def test_soft_kmeans_n_init_keeps_the_run_with_the_lowest_soft_objective():
    X = sklearn_datasets.make_blobs(300, 2, centers=5, random_state=3)[0]
    # The n_init runs draw their starts one after another from one generator.
    shared = np.random.default_rng(0)
    runs = [SoftKMeans(5, beta=2.0, init="random", random_state=shared).fit(X) for _ in range(4)]
    many = SoftKMeans(5, beta=2.0, init="random", n_init=4, random_state=0).fit(X)
    objectives = [run.inertia_ for run in runs]
    assert len(set(objectives)) > 1  # the starts differ, so choosing matters
    assert many.inertia_ == min(objectives)
    best = runs[int(np.argmin(objectives))]
    np.testing.assert_array_equal(many.cluster_centers_, best.cluster_centers_)
    assert many.get_params()["n_init"] == 4
    with pytest.raises(ValueError, match="n_init"):
        SoftKMeans(3, n_init=0).fit(X)


def test_score_is_minus_the_objective_on_x_as_scikit_learn():
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    X, _ = blobs(300, k=3, d=4, seed=3)
    init = X[:3].copy()
    ours = KMeans(3, init=init, tol=0).fit(X)
    theirs = sklearn_cluster.KMeans(3, init=init, n_init=1, tol=0, algorithm="lloyd").fit(X)
    other = X[::-1] + 0.5
    assert ours.score(other) == pytest.approx(theirs.score(other), rel=1e-10)
    assert ours.score(X) == pytest.approx(-ours.inertia_, rel=1e-10)
    manhattan = KMeans(3, init=init, metric="manhattan").fit(X)
    expected = np.abs(X - manhattan.cluster_centers_[manhattan.predict(X)]).sum()
    assert manhattan.score(X) == pytest.approx(-expected, rel=1e-10)
    with pytest.raises(NotFittedError):
        KMeans(3).score(X)


def test_scikit_learn_helpers_take_the_estimators():
    # check_is_fitted, pipelines and grid searches ask for __sklearn_tags__ (and a
    # grid search without a scorer for score): all raised AttributeError/TypeError.
    pytest.importorskip("sklearn")
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.utils.validation import check_is_fitted

    from tinygrad_dlcv.decomposition import PCA

    X, _ = blobs(200, k=3, d=4, seed=1)
    for estimator in (KMeans(3, random_state=0), SoftKMeans(3, random_state=0), PCA(2)):
        with pytest.raises(SklearnNotFitted):
            check_is_fitted(estimator)
        check_is_fitted(estimator.fit(X))
    pipeline = make_pipeline(PCA(2), KMeans(3, random_state=0)).fit(X)
    np.testing.assert_array_equal(pipeline.predict(X), pipeline[-1].labels_)
    search = GridSearchCV(KMeans(random_state=0), {"n_clusters": [1, 3]}, cv=2).fit(X)
    assert search.best_params_ == {"n_clusters": 3}
    assert KMeans(3).__sklearn_tags__().estimator_type == "clusterer"


@pytest.mark.parametrize(
    "params",
    [
        {"center": None},
        {"center": 1},
        {"init": None},
        {"init": 5},
        {"device": 0},
        {"device": "gpu"},
    ],
)
def test_parameters_of_a_wrong_type_or_value_are_both_value_and_type_errors(params):
    # As scikit-learn's InvalidParameterError, and every other parameter here.
    X, _ = blobs(40, k=2, d=2)
    with pytest.raises(ValueError) as caught:
        KMeans(2, **params).fit(X)
    assert isinstance(caught.value, TypeError)
    assert str(caught.value).startswith("KMeans.fit: ")
    assert next(iter(params)) in str(caught.value)


def test_soft_kmeans_with_a_beta_past_float32_is_hard_assignment_without_nan():
    X = np.array([[0, 0], [0, 1], [10, 10], [10, 11]], np.float32)
    model = SoftKMeans(2, beta=1e39, random_state=0).fit(X)  # -beta was -inf, 0 * inf NaN
    responsibilities = host(model.responsibilities_)
    assert np.isfinite(responsibilities).all()
    np.testing.assert_array_equal(responsibilities.sum(axis=1), 1.0)
    assert set(np.unique(responsibilities)) == {0.0, 1.0}
    labels = host(model.labels_)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    proba = host(model.set_params(beta=1e39).predict_proba(X))
    np.testing.assert_array_equal(proba, responsibilities)


def test_distances_whose_squares_overflow_are_inf_and_soft_kmeans_still_assigns():
    # ||x||^2 - 2 x.c + ||c||^2 gave inf - inf = NaN once the squares overflowed.
    X = np.array([[0, 0], [0, 1], [10, 10], [10, 11]], np.float32) * np.float32(1e19)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own word on the overflow
        model = SoftKMeans(2, random_state=0).fit(X)
        far = np.array([[0.0, 0.0], [0.0, 1e155], [1e155, 1e155]])
        distances = host(pairwise_distances(far))
    responsibilities = host(model.responsibilities_)
    assert not np.isnan(responsibilities).any()
    labels = host(model.labels_)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    expected = cdist(far, far)  # inf where the sum of squares overflows, as SciPy
    np.testing.assert_array_equal(distances, expected)


def test_hierarchical_kmeans_has_n_iter():
    X, _ = blobs(200, k=4, d=2)
    one_level = HierarchicalKMeans(branching=4, depth=1, random_state=0).fit(X)
    flat = KMeans(4, random_state=0).fit(X)  # one split: the same k-means
    assert one_level.n_iter_ == flat.n_iter_
    two_levels = HierarchicalKMeans(branching=2, depth=2, random_state=0).fit(X)
    assert isinstance(two_levels.n_iter_, int) and two_levels.n_iter_ >= 1


def test_fewer_distinct_points_than_clusters_warns_as_scikit_learn():
    from tinygrad_dlcv.cluster import ConvergenceWarning

    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\).*n_clusters \(3\)"):
        KMeans(3, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(2, random_state=0).fit(X)  # as many distinct points as clusters: quiet


def test_near_points_of_huge_norm_have_their_true_distances():
    # ||x||^2 overflowed for both points: inf - inf, though they are 0 or 1 apart.
    X = np.array([[1e160, 0.0], [1e160, 1.0], [-1e160, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the expected overflow is mended, not reported
        distances = host(pairwise_distances(X, X[[2, 0]]))
    np.testing.assert_array_equal(distances, cdist(X, X[[2, 0]]))


def test_pairwise_distances_with_p_inf_is_the_max_norm():
    rng = np.random.default_rng(22)
    X, Y = rng.normal(size=(40, 5)), rng.normal(size=(7, 5)) * 1e200
    for Y_given in (None, Y):
        got = pairwise_distances(X * 1e200, Y_given, metric=np.inf)
        want = cdist(X * 1e200, X * 1e200 if Y_given is None else Y, "chebyshev")
        np.testing.assert_allclose(got, want, rtol=1e-15)
    assert pairwise_distances(X.astype(np.float32), metric=float("inf")).dtype == np.float32
    with pytest.raises(ValueError, match="finite"):  # sums of d^inf: no estimator takes it
        KMeans(2, metric=np.inf).fit(X)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", 3])
def test_hierarchical_score_is_minus_the_inertia_of_its_own_routing(metric):
    X = np.random.default_rng(0).random((2000, 5))
    model = HierarchicalKMeans(branching=3, depth=2, random_state=0, metric=metric).fit(X)
    np.testing.assert_allclose(-model.score(X), model.inertia_, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@pytest.mark.parametrize("protocol", range(6))
def test_a_fitted_hierarchical_model_pickles_with_every_protocol(protocol):
    import pickle

    X = np.random.default_rng(0).normal(size=(100, 3))
    model = HierarchicalKMeans(branching=3, depth=2, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model, protocol=protocol))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_soft_kmeans_predict_names_itself_in_its_errors():
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = SoftKMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"SoftKMeans\.predict: X has 2 features"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match=r"SoftKMeans\.predict_proba: X has 2 features"):
        model.predict_proba(X[:, :2])


def test_soft_kmeans_probabilities_of_a_point_beyond_every_center():
    # d^2 overflows float32 for every center: the nearest takes it all (this crashed).
    X = np.array([[0, 0], [1, 1], [10, 10], [11, 11]], np.float32)
    model = SoftKMeans(2, random_state=0).fit(X)
    far = np.array([[3e19, 3e19]], np.float32)
    nearest = int(np.argmin(np.abs(model.cluster_centers_.astype(np.float64) - 3e19).sum(1)))
    np.testing.assert_array_equal(model.predict_proba(far)[0], np.eye(2)[nearest])
    assert model.predict(far).tolist() == [nearest]


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", 1.5, 3])
def test_kmeans_results_do_not_depend_on_the_number_of_cores(metric, monkeypatch):
    from tinygrad_dlcv import cluster

    X = (np.random.default_rng(0).standard_normal((60000, 40)) * 1000).astype(np.float32)
    results = []
    # 2 and 8 cores on this machine: both run BLAS on one thread inside each block (with
    # "1 core" OpenBLAS itself would still use the machine's threads, which a one-core
    # machine does not have).
    for cores in (2, 3, 8):
        monkeypatch.setattr(cluster, "_cpu_workers", lambda cores=cores: cores)
        model = KMeans(6, metric=metric, random_state=0, max_iter=4, n_init=1).fit(X)
        results.append((model.labels_, model.cluster_centers_, model.inertia_))
    for labels, centers, inertia in results[1:]:
        np.testing.assert_array_equal(labels, results[0][0])
        np.testing.assert_array_equal(centers, results[0][1])
        assert inertia == results[0][2]


@pytest.mark.parametrize("metric, tolerance", [("manhattan", 0.01), ("euclidean", 0.1)])
def test_centers_of_tight_far_clusters_keep_their_digits(metric, tolerance):
    # Two tight clusters at +-3e4 in float32. L1: the center sums are float64 bincounts
    # (a float32 one-hot GEMM was 0.69 off). L2: float32 GEMM blocks of 2^18 / K
    # samples (0.03 off; 10,485-sample blocks were 0.69 off; scikit-learn is further).
    rng = np.random.default_rng(0)
    n, d = 20000, 50
    side = rng.integers(0, 2, n)
    X = np.where(side[:, None] == 0, -3e4, 3e4) + 0.01 * rng.standard_normal((n, d))
    X = (X + 7 * rng.random((1, d))).astype(np.float32)
    init = np.stack([X[side == 0][0], X[side == 1][0]])
    model = KMeans(2, init=init, max_iter=5, tol=0, metric=metric).fit(X)
    exact = np.stack([X[model.labels_ == k].astype(np.float64).mean(0) for k in range(2)])
    np.testing.assert_allclose(model.cluster_centers_, exact, atol=tolerance)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the fit's own variance overflows
def test_euclidean_labels_and_predict_of_data_whose_squares_overflow_float32():
    # ||x||^2 and x.c pass float32's range at |x| ~ 1e19: the GEMM form gives inf - inf,
    # and argmin took the first NaN (labels_ and predict disagreed with transform).
    X = (np.random.default_rng(3).standard_normal((20, 3)) * 1e19).astype(np.float32)
    model = KMeans(20, init=X, max_iter=1).fit(X)
    expected = cdist(X.astype(np.float64), model.cluster_centers_.astype(np.float64)).argmin(1)
    np.testing.assert_array_equal(model.labels_, expected)
    np.testing.assert_array_equal(model.predict(X), expected)
    np.testing.assert_array_equal(model.transform(X).argmin(1), expected)
    huge = X.astype(np.float64) * 1e140  # the same in float64: squares past 1e308
    wide = KMeans(20, init=huge, max_iter=1).fit(huge)
    brute = cdist(huge / 1e150, wide.cluster_centers_ / 1e150).argmin(1)
    np.testing.assert_array_equal(wide.labels_, brute)
    np.testing.assert_array_equal(wide.predict(huge), brute)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_p_norm_labels_of_distances_whose_powers_are_subnormal():
    # p = 16: |0 - 6.06e-21|^16 and |0 - 6e-21|^16 both round to 5e-324, the least
    # subnormal, which keeps no digits to order them; the nearer center is the second.
    model = KMeans(2, init=np.array([[-6.06e-21], [6e-21]]), max_iter=1, metric=16)
    model.fit(np.array([[-6.06e-21], [6e-21]]))
    assert model.predict(np.array([[0.0]])).tolist() == [1]
    assert model.labels_.tolist() == [0, 1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_euclidean_predict_when_the_nearest_centers_entry_overflows():
    model = KMeans(2, init=np.array([[2e19], [-0.5e19]], np.float32), max_iter=1)
    model.fit(np.array([[2e19], [2e19], [-0.5e19], [-0.5e19]], np.float32))
    X = np.array([[0.85e19], [-0.85e19]], np.float32)
    expected = cdist(X.astype(np.float64), model.cluster_centers_.astype(np.float64)).argmin(1)
    np.testing.assert_array_equal(model.predict(X), expected)
