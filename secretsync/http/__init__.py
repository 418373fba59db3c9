"""HTTP: the run's one `httpx.AsyncClient` and one request within a total deadline
(`client`), what one answer may cost (`limits`), which certificate authorities are trusted
(`tls`), strict request targets (`urlpath`), and the lean transport under the client
(`transport`, `connection`). Fenced fast paths, see each one's opening: the lean transport,
the URL shortcut in `urlpath` and the `send` override in `client`.

May import: nothing from secretsync but `__version__` (the User-Agent). Knows nothing of
SourceCraft.
"""
