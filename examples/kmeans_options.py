"""k-means and its options: inits, L1 / L2 / p-norm metrics, median centers, the iterations.

Run: python examples/kmeans_options.py [--out DIR]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from tinygrad_dlcv import plot
from tinygrad_dlcv.cluster import KMeans
from tinygrad_dlcv.data import make_blobs

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="examples_out", help="folder for the pictures")
parser.add_argument("--quick", action="store_true", help="fewer points")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# 1. Each init with each metric, five seeds each. "random" picks K samples: two may fall in
#    one blob, and Lloyd's iterations cannot pull a center over to an empty blob (a local
#    minimum), so its worst run is far worse than its best; k-means++ spreads the first centers.
X, y = make_blobs(300 if args.quick else 3000, centers=5, seed=0)
print("inertia of the best and the worst of 5 runs, their mean number of iterations")
print(f"{'init':10} {'metric':10} {'best':>13} {'worst':>9} {'iterations':>10} {'time':>8}")
for init in ("k-means++", "random", "uniform"):
    for metric in ("euclidean", "manhattan", 3):  # inertia = sum of d(x, center)^p
        began = time.perf_counter()
        runs = [KMeans(5, init=init, metric=metric, random_state=s).fit(X) for s in range(5)]
        ms = (time.perf_counter() - began) * 1e3 / len(runs)
        inertia = [km.inertia_ for km in runs]
        iterations = np.mean([km.n_iter_ for km in runs])
        print(
            f"{init:10} {metric!s:10} {min(inertia):13.1f} {max(inertia):9.1f} "
            f"{iterations:10.1f} {ms:5.1f} ms"
        )

# 2. The remedy for a bad start: several runs (n_init), the lowest inertia wins.
best = KMeans(5, init="random", n_init=10, random_state=0).fit(X)
print(f"random init, best of 10 runs: inertia {best.inertia_:.1f}")

# 3. Median centers. Twelve far outliers: with means, one center is spent on them and two
#    blobs share a center; coordinate-wise medians (k-medians, the L1-optimal center) ignore them.
X3, y3 = make_blobs(300, centers=[(-5, 0), (5, 0), (0, 6)], seed=0)
outliers = np.random.default_rng(0).normal((25.0, -10.0), 1.0, size=(12, 2)).astype(np.float32)
X3 = np.concatenate([X3, outliers])
for center, metric in (("mean", "euclidean"), ("median", "manhattan")):
    km = KMeans(3, center=center, metric=metric, random_state=0).fit(X3)
    found = " ".join(f"({a:.1f}, {b:.1f})" for a, b in km.cluster_centers_)
    print(f"center={center:6} metric={metric:9}: centers {found}; blobs at (-5, 0) (5, 0) (0, 6)")

# 4. The iterations as the lecture draws them: assign, move, repeat. Panels and a GIF.
km = KMeans(5, init="random", random_state=3, track_history=True).fit(X)
plot.kmeans_history(X, km.history_, path=out / "kmeans_history.png")
plot.kmeans_history(X, km.history_, path=out / "kmeans_history.gif")
print(f"{km.n_iter_} iterations drawn: wrote {out / 'kmeans_history.png'} and .gif")
