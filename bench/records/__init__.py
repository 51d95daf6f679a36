"""Records: the one format (schema), the one store that reads and writes every JSON-lines file,
machine and code facts, the folders bench may write, and records as DataFrames (frame)."""
