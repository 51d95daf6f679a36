"""The results page: pure functions of records (tables with their prose, leaderboard, plots, page);
nothing here fits a model."""
