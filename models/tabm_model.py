"""TabM (Gorishniy et al., ICLR 2025) from the ``tabm`` package, with PLR periodic embeddings."""

from __future__ import annotations

from torch import Tensor, nn

from models.engine.neural import NeuralClassifier
from models.periodic import SigmaCandidates, plr_embeddings


class TabMClassifier(SigmaCandidates, NeuralClassifier):
    """``tabm.TabM.make`` + ``rtdl_num_embeddings.PeriodicEmbeddings``; loss is the mean over the
    k heads, prediction the mean of their probabilities (as the TabM paper trains it).

    Lighter than the package defaults (d_block 512, k 32, dropout 0.1) so that 5 seeds fit the CPU
    budget of ``bench all``; pass ``d_block=512, k=32, arch_type="tabm"`` for the paper's size. Dropout and weight
    decay are off: on sum_mod they kept it at chance. The embedding frequencies step
    ``frequency_lr_scale`` times faster than the other weights, as in ``periodic_mlp``. Patience is
    long because validation accuracy sits at chance until the shared frequency bank locks on.
    ``arch_type`` "tabm-mini" (the paper's TabM-mini: only the first layer has per-head adapters)
    with k = 8 heads reached the held-out accuracy of "tabm" with k = 16 on the seed datasets at
    about half its time: TabM is compute-bound on a CPU, so only fewer FLOPs make it faster
    (results/bench_all_speed.md). Seeds train as one batched model (under vmap), like the other
    neural families; on a 2-core CPU that is no faster than one after another.
    """

    # PLR embeddings hold columns x frequencies x embedding parameters for each sigma candidate and
    # seed: at 3,000 columns that passed 2 GB (tests/models/test_memory.py); at 500, ~0.6 GB.
    max_features = 500

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        sigma=10.0,
        d_embedding=16,
        n_frequencies=96,
        frequency_lr_scale=30.0,
        arch_type="tabm-mini",
        k=8,
        n_blocks=2,
        d_block=128,
        dropout=0.0,
        lr=2e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=200,
        patience=100,
        val_fraction=0.2,
    ):
        self.seed = seed
        self.device = device
        self.n_threads = n_threads
        self.sigma = sigma
        self.d_embedding = d_embedding
        self.n_frequencies = n_frequencies
        self.frequency_lr_scale = frequency_lr_scale
        self.arch_type = arch_type
        self.k = k
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        import tabm

        embed = plr_embeddings(d, self.d_embedding, self.n_frequencies, candidate["sigma"], self.frequency_lr_scale)
        model = tabm.TabM.make(
            n_num_features=d,
            d_out=n_classes,
            num_embeddings=embed,
            arch_type=self.arch_type,
            k=self.k,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            dropout=self.dropout,
        )
        return nn.Sequential(NumericTabM(model))  # (B, d) -> (B, k, C): k heads


class NumericTabM(nn.Module):
    """``tabm.TabM.forward`` for numeric features only, without its ``torch.column_stack`` (which
    has no vmap rule): the same layers in the same order, so seeds can be stacked under vmap."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        m = self.model
        x = m.ensemble_view(m.num_module(x).flatten(1, -1))
        x = m.backbone(x)
        return x if m.output is None else m.output(x)
