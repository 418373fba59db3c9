"""Reports: a plan or an apply result rendered as JSON (a public contract, see
`schemas/report.schema.json`, `json_report`), Markdown (a pull request comment,
`markdown_report`) or terminal text (`text_report`); what they share is in `outcomes`.

May import: the shared top-level modules only. Pure: no I/O.
"""
