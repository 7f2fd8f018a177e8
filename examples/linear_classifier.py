"""A linear classifier, scores = W x + b, trained by softmax cross-entropy; W's rows as templates.

Run: python examples/linear_classifier.py [--mnist DIR] [--out DIR]
With --mnist (a folder holding MNIST's IDX files, e.g. ../shared/data/mnist) it learns the
digits and draws each row of W as a 28 x 28 image; without it, it separates three 2-D blobs.
"""

import argparse
from pathlib import Path

import numpy as np

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim, plot
from tinygrad_dlcv.data import DataLoader, load_mnist, make_blobs
from tinygrad_dlcv.nn import functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--mnist", metavar="DIR", help="folder with MNIST (t10k-* files suffice)")
parser.add_argument("--out", default="examples_out", help="folder for the pictures")
parser.add_argument("--quick", action="store_true", help="fewer samples and epochs")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

if args.mnist:  # the test split's first 8000 digits train, its last 2000 test
    X, y = load_mnist(args.mnist, split="test", flatten=True, normalize=True)
    n_train = 2000 if args.quick else 8000
    X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[8000:], y[8000:]
else:
    X, y = make_blobs(600, centers=3, seed=0)
    X_train, y_train, X_test, y_test = X[:450], y[:450], X[450:], y[450:]
n_classes = int(y.max()) + 1

tg.manual_seed(0)
model = nn.Linear(X.shape[1], n_classes)  # W: (classes, features), one row per class
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)
for epoch in range(2 if args.quick else 6):
    for xb, yb in loader:  # minibatch SGD on the mean cross-entropy
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    with tg.no_grad():
        scores = model(tg.tensor(X_test))
        accuracy = float((scores.argmax(axis=1).numpy() == y_test).mean())
        loss = F.cross_entropy(scores, y_test).item()
    print(f"epoch {epoch + 1}: test loss {loss:.4f}, test accuracy {accuracy:.3f}")

# Row k of W scores how much x looks like class k. Softmax ignores a vector added to every
# row, so compare rows centred over the classes with the class means centred the same way.
W = model.weight.numpy()
means = np.stack([X_train[y_train == k].mean(axis=0) for k in range(n_classes)])
Wc, Mc = W - W.mean(axis=0), means - means.mean(axis=0)
cosine = (Wc @ Mc.T) / np.outer(np.linalg.norm(Wc, axis=1), np.linalg.norm(Mc, axis=1))
matches = int((cosine.argmax(axis=1) == np.arange(n_classes)).sum())
print(f"{matches} of {n_classes} rows of W point most towards their own class's mean")

if args.mnist:
    names = [f"digit {k}" for k in range(10)]
    plot.class_templates(W, (28, 28), names, path=out / "class_templates.png")
    print(f"wrote {out / 'class_templates.png'}")
else:
    plot.decision_boundary(model, X, y, path=out / "linear_boundary.png")
    for k in range(n_classes):
        print(f"class {k}: row of W {W[k].round(2)}, class mean {means[k].round(1)}")
    print(f"wrote {out / 'linear_boundary.png'}")
