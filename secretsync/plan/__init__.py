"""Planning: read the remote side (`reading.read_remote`; slugs become ids in `resolving`, from
an org's listing when the manifest names many of its repositories), compare it with the
desired state (`planner`, pure: no I/O), and save or check a plan file (`planfile`).

May import: the shared top-level modules and `sourcecraft` (the client, for reading).
"""
