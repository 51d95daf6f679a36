"""The spectral method: find where the labels repeat (direction, frequency, a phase jump, or a
polynomial phase) in the training data, then give those phase coordinates to a learner.

- ``search``: the periodogram search for frequency vectors and the cut where the phase jumps;
- ``phases``: the phase coordinates, linear in x or in a dictionary of degree-2 monomials;
- ``mlp``: ``spectral_mlp``, trainable sin/cos features started at the peaks, then an MLP;
- ``xgboost``: ``spectral_xgboost``, XGBoost on w.x and frac(w.x) beside x.

Nothing is imported here, so that ``models.spectral.search`` loads without torch.
"""
