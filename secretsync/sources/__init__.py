"""Value sources: the manifest's `env:`, `file:` and `dotenv:` entries resolved to bytes
(`resolve.resolve_sources`), with file confinement, and the .env parser (`dotenvfile`).

May import: the shared top-level modules only.
"""
