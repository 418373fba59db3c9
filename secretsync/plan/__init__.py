"""Planning: read the remote side (`reading.read_remote`), compare it with the desired state
(`planner`, pure: no I/O), and save or check a plan file (`planfile`).

May import: the shared top-level modules and `sourcecraft` (the client, for reading).
"""
