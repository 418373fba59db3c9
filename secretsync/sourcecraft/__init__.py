"""The SourceCraft API client: request shapes (`client`), every API path from names that pass
their rule (`paths`), answers read into records (`answers`), retries (`retry`), pacing and the
rate limiter (`throttle`), and the rules for where the token may be sent (`endpoint`).

May import: the shared top-level modules and `http`. Never the manifest, plan or CLI.
"""
