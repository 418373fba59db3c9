"""Reports: a plan or an apply result rendered as JSON (a public contract, see
`schemas/report.schema.json`), Markdown (a pull request comment) or terminal text (`render`).

May import: the shared top-level modules (`models`, `names`) only. Pure: no I/O.
"""
