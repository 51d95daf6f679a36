"""TabM (Gorishniy et al., ICLR 2025) from the ``tabm`` package, with PLR periodic embeddings."""

from __future__ import annotations

from torch import nn

from models.mlp import MLP


class TabMClassifier(MLP):
    """``tabm.TabM.make`` + ``rtdl_num_embeddings.PeriodicEmbeddings``; loss is the mean over the
    k heads, prediction the mean of their probabilities (as the TabM paper trains it).

    Lighter than the package defaults (d_block 512, k 32, dropout 0.1) so that 5 seeds fit the CPU
    budget of ``bench all``; pass ``d_block=512, k=32`` for the paper's size. Dropout and weight
    decay are off: on sum_mod they kept it at chance in our runs. TabM is already an ensemble
    and cannot run under vmap, so seeds and sigmas are fitted one after another.
    """

    batchable = False

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        sigma=10.0,
        d_embedding=16,
        n_frequencies=32,
        k=16,
        n_blocks=2,
        d_block=128,
        dropout=0.0,
        lr=2e-3,
        weight_decay=0.0,
        batch_size=256,
        max_epochs=150,
        patience=40,
        val_fraction=0.2,
    ):
        super().__init__(
            seed=seed,
            device=device,
            n_threads=n_threads,
            dropout=dropout,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            patience=patience,
            val_fraction=val_fraction,
        )
        del self.n_layers, self.width  # TabM sizes itself with n_blocks x d_block
        self.sigma = sigma
        self.d_embedding = d_embedding
        self.n_frequencies = n_frequencies
        self.k = k
        self.n_blocks = n_blocks
        self.d_block = d_block

    def _candidates(self) -> list[dict]:
        sigmas = self.sigma if isinstance(self.sigma, (tuple, list)) else (self.sigma,)
        return [{"sigma": float(s)} for s in sigmas]

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        import tabm
        from rtdl_num_embeddings import PeriodicEmbeddings

        embed = PeriodicEmbeddings(
            d, self.d_embedding, n_frequencies=self.n_frequencies, frequency_init_scale=candidate["sigma"], lite=False
        )
        model = tabm.TabM.make(
            n_num_features=d,
            d_out=n_classes,
            num_embeddings=embed,
            k=self.k,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            dropout=self.dropout,
        )
        return nn.Sequential(model)  # (B, d) -> (B, k, C): k heads
