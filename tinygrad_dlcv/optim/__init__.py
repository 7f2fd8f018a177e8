"""Optimizers and learning-rate schedulers with ``torch.optim``'s update rules.

>>> import tinygrad_dlcv as tg
>>> from tinygrad_dlcv import optim
>>> w = tg.tensor([3.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.5, momentum=0.9)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w.tolist()
[0.0]

``optim.lr_scheduler`` holds ``StepLR`` and ``CosineAnnealingLR``.
"""

from . import lr_scheduler
from .optimizers import SGD, Adam, AdamW, Optimizer

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
