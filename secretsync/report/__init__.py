"""Reports: a plan or an apply result rendered as JSON (a public contract, see
`schemas/report.schema.json`, `json_report`), Markdown (a pull request comment,
`markdown_report`) or terminal text (`text_report`); what they share is in `outcomes`. The
structural plan of `plan --base` the same three ways (`structural`, `structural_markdown`).

May import: the shared top-level modules and `review.records` only. Pure: no I/O.
"""
