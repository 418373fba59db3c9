"""The manifest: `secretsync.yaml` read into a `Manifest` record (`loader.load_manifest`).

Owns YAML reading with positions (`yamlread`, and `yamlwalk`, its fenced fast path over the
parser's events; `yamldoc`, the read document and where aliases and merge keys lead;
`yamlscalar`, scalars and core tags), the JSON Schema and its errors (`schema`, with
`schemacheck`, the fenced fast validity check), and the rules the schema cannot say
(`loader`).

May import: the shared top-level modules and `sourcecraft.endpoint` (where the token may go).
Nothing that talks to the network.
"""
