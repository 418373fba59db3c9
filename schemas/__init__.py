"""The JSON Schemas of the manifest and of the JSON report: the one copy in the repository.

Installed as `secretsync.schemas` (pyproject.toml maps this folder there), so the package reads
them with `importlib.resources.files("secretsync.schemas")`; editors and other tools use the
files here directly. No code lives here.
"""
