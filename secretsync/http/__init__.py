"""HTTP: the run's one `httpx.AsyncClient` (`client`) and the lean transport under it
(`transport`, `connection`, `urlpath`: fenced fast paths, see each module's opening).

May import: nothing from secretsync but `__version__` (the User-Agent). Knows nothing of
SourceCraft.
"""
