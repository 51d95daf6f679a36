"""Helpers shared by more than one test module."""

# Small settings so each family fits in well under a second; behaviour, not accuracy.
TINY = {
    "seed_mlp": {"max_epochs": 2},
    "mlp": {"max_epochs": 3, "width": 16},
    "selu_mlp": {"max_epochs": 3, "width": 16, "n_layers": 8},
    "periodic_mlp": {"max_epochs": 3, "width": 16},
    "fourier_mlp": {"max_epochs": 3, "width": 16, "n_frequencies": 8},
    "spectral_mlp": {"max_epochs": 3, "width": 16},
    "tabm": {"max_epochs": 3, "d_block": 16, "k": 4},
    "catboost": {"params": {"iterations": 10}},
    "xgboost": {"params": {"n_estimators": 5}},
    "spectral_xgboost": {"params": {"n_estimators": 5}},
}
