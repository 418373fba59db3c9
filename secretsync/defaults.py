"""The defaults a user can see in `--help`, in one home: the CLI's options, `JobSettings`,
the client and the applier read them from here. Imports nothing."""

from __future__ import annotations

DEFAULT_PARALLELISM = 16  # requests in flight at most
DEFAULT_OPERATION_TIMEOUT_S = 300.0  # deadline for each asynchronous operation
DEFAULT_MAX_DELETES = 10  # a plan deleting more is refused unless the limit is raised
DEFAULT_REQUEST_TIMEOUT_S = 30.0  # one HTTP request: connect, send, wait and read together
