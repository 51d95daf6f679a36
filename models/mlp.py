"""MLP families: the seed's network (bugs included), a plain ReLU MLP done right, a deep SELU MLP."""

from __future__ import annotations

from torch import nn

from models.engine.neural import NeuralClassifier
from models.engine.trainer import TrainConfig


class SeedMLP(NeuralClassifier):
    """The seed thread's ``FeedForward`` trained by its ``fitit``, reproduced faithfully.

    d -> d -> C with ReLU, a Softmax output fed to CrossEntropyLoss (which applies log-softmax
    again: bug 1), d = 2 hidden units (bug 2), SGD lr 1e-3 momentum 0.9, batch size 1, rows in
    order (DataLoader's default shuffle=False), 50 epochs, no scaling, no validation.
    """

    standardize = False

    def __init__(self, *, seed=0, device="auto", n_threads=None, max_epochs=50, lr=1e-3, momentum=0.9):
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.max_epochs = max_epochs
        self.lr = lr
        self.momentum = momentum

    patience = None
    val_fraction = 0.0

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            optimizer="sgd",
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=0.0,
            batch_size=1,
            max_epochs=self.max_epochs,
            patience=None,
            shuffle=False,
            outputs_probabilities=True,
        )

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        return nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, n_classes), nn.Softmax(dim=-1))


class MLP(NeuralClassifier):
    """ReLU MLP (default 3 x 256), AdamW, cross-entropy on logits, early stopping."""

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        n_layers=3,
        width=256,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-4,
        batch_size=256,
        max_epochs=200,
        patience=20,
        val_fraction=0.2,
    ):
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.n_layers = n_layers
        self.width = width
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        return mlp_layers(d, n_classes, self.n_layers, self.width, nn.ReLU, self.dropout, nn.Dropout)


class SeluMLP(MLP):
    """Self-normalising deep MLP (Klambauer et al. 2017): SELU, LeCun-normal init, AlphaDropout."""

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        n_layers=8,
        width=128,
        dropout=0.05,
        lr=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_epochs=300,
        patience=40,
        val_fraction=0.2,
    ):
        super().__init__(
            seed=seed,
            device=device,
            n_threads=n_threads,
            n_layers=n_layers,
            width=width,
            dropout=dropout,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            patience=patience,
            val_fraction=val_fraction,
        )

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        net = mlp_layers(d, n_classes, self.n_layers, self.width, nn.SELU, self.dropout, nn.AlphaDropout)
        for m in net:
            if isinstance(m, nn.Linear):  # LeCun normal: N(0, 1/fan_in)
                nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
                nn.init.zeros_(m.bias)
        return net


def mlp_layers(d_in, d_out, n_layers, width, activation, dropout, dropout_cls) -> nn.Sequential:
    """``n_layers`` hidden blocks of Linear -> activation [-> dropout], then a linear head."""
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(d_in if i == 0 else width, width), activation()]
        if dropout:
            layers.append(dropout_cls(dropout))
    layers.append(nn.Linear(width if n_layers else d_in, d_out))
    return nn.Sequential(*layers)
