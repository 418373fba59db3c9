"""Review without secrets: `plan --base REF`, the structural plan. It compares the manifest
of the working tree with the manifest at a git revision, offline: no token, no environment
values, no network (`compare`), reading the revision with git itself (`gitrev`) and each
side's files under the confinement rules of `sources` (`sides`).

May import: the shared top-level modules, `manifest` (the loader) and `sources` (the .env
parser). Never `sourcecraft`, `http` or `plan.reading`: nothing here may talk to the API.
"""
