"""The SourceCraft API client: request shapes (`client`), answers read into records
(`answers`), retries (`retry`), pacing and the rate limiter (`throttle`), and the rules for
where the token may be sent (`endpoint`).

May import: the shared top-level modules and `http`. Never the manifest, plan or CLI.
"""
