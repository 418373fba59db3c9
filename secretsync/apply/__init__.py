"""Applying a plan: every PUT and DELETE, the polls of their operations, and the outcomes
(`applier`).

May import: the shared top-level modules and `sourcecraft` (the client and its pacing).
"""
