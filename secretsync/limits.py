"""How much work a manifest may ask for, checked before the work is done.

Manifests and .env files come from pull requests. A small file can ask for a lot: 300 groups
reading one 20,000-key .env file are 6 million secrets from 177 KB (47-87 s and 2-3.5 GB
before these limits), and 3,000 misspelt set names each compared with 3,000 sets took minutes
to suggest a spelling. Each limit is well above any real job (the largest benchmarked job is
100,000 secrets, benchmarks/bench.py) and makes the cost grow with the size of the input, not
with its square or with its fan-out. Going over one is a located problem, exit 1.
"""

from __future__ import annotations

from typing import Final

# Secrets one run may plan: over every repository entry and group, the keys each group reads
# (a .env file read whole counts all its keys each time a group lists it).
MAX_SECRETS: Final = 250_000
# Entries of groups after `use:` copies each set's entries into every group using it.
MAX_EXPANDED_ENTRIES: Final = 250_000
# "did you mean" suggestions per run, each searched among at most this many names.
MAX_SUGGESTIONS: Final = 10
MAX_SUGGESTION_CANDIDATES: Final = 1_000
# A manifest with problems is read a second time with ruamel's pure parser, whose places are
# the ones users see (libyaml's differ for empty values), only up to this size.
EXACT_RECHECK_CHARS: Final = 64 * 1024
