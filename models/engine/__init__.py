"""The torch engine every neural family shares.

- ``neural``: :class:`NeuralClassifier`, the base of the torch families (data preparation,
  candidate selection) and ``fit_together``, which fits several estimators as one batched model;
- ``trainer``: the one training loop over stacked members (seeds x candidates), early stopping;
- ``flat_optim``: AdamW / SGD over parameters held as views into one flat buffer;
- ``manual_backward``: the hand-written backward pass for plain ReLU MLPs (autograd elsewhere).

Nothing is imported here, so that ``import models`` stays free of torch.
"""
