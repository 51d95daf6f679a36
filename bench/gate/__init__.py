"""The regression gate: pure statistics (stats) apart from the git and subprocess work (git, ab);
A/B of two commits (ab), saved record sets (saved), history and bisect over commits (history)."""
