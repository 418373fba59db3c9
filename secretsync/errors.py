"""The one exception tree of secretsync, and the exit-code table.

    SecretsyncError                 every user-facing failure; exit 1 unless it says otherwise
    ├── ManifestError               the manifest file: YAML, schema, names (many problems at once)
    ├── SourceError                 env vars, files, .env files behind the values (many at once)
    ├── ConfigError                 flags, API URL, token variable, saved-plan file
    ├── ApiError                    SourceCraft answered with an error (after retries)
    │   └── AuthError               401/403: names the token variable to check
    ├── TransportError              no answer from SourceCraft (after retries)
    ├── RevisionError               `plan --base`: git, the repository, or the base revision
    │   └── BaseRefError            the REF is malformed or names no commit (exit 64)
    ├── PlanMismatchError           `apply --plan` found the world differs from the reviewed plan
    ├── DeletionLimitError          the plan deletes more than --max-deletes allows
    └── AbortedError                the user answered "no" at the confirmation prompt

Only the CLI (`secretsync.cli`) catches these. Messages never contain a secret value or the
token: values live in `models.Secret`, whose str/repr is redacted, and no error is ever built
from a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2  # only `plan --detailed-exitcode`
EXIT_COMMENT_FAILED = 3  # only `plan --comment-required`: the plan ran, its comment failed
EXIT_USAGE = 64  # bad flags or arguments (EX_USAGE), never 2
EXIT_INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with an input file, pinned to a place: `file:line:col: key.path: msg`."""

    file: str
    line: int | None = None
    col: int | None = None
    key_path: str = ""
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        prefix = f"{where}: "
        if self.key_path:
            prefix += f"{self.key_path}: "
        return prefix + self.message


class SecretsyncError(Exception):
    """Base of every error secretsync reports to a user (never with a traceback)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The lines printed to stderr, the first one saying what is wrong."""
        out = [f"error: {self.message}"]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


class _ProblemsError(SecretsyncError):
    what = "input"

    def __init__(self, problems: Iterable[Problem], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        n = len(self.problems)
        message = str(self.problems[0]) if n == 1 else f"{n} problems in the {self.what}"
        super().__init__(message, hint=hint)

    def lines(self) -> list[str]:
        if len(self.problems) == 1:
            return super().lines()
        out = [f"error: {p}" for p in self.problems]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


class ManifestError(_ProblemsError):
    what = "manifest"


class SourceError(_ProblemsError):
    what = "value sources"


class ConfigError(SecretsyncError):
    pass


class ApiError(SecretsyncError):
    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        error_code: str = "",
        message: str = "",
        request_id: str = "",
        hint: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error_code = error_code
        self.api_message = message
        self.request_id = request_id
        text = f"{method} {path} -> HTTP {status}"
        if error_code:
            text += f" {error_code}"
        if message:
            text += f": {message}"
        text += f" (request_id: {request_id or 'none'})"
        super().__init__(text, hint=hint)


class AuthError(ApiError):
    pass


class TransportError(SecretsyncError):
    def __init__(self, message: str, *, hint: str | None = None, reached: bool = False) -> None:
        super().__init__(message, hint=hint)
        # The server was reached, and what it sent was the problem (a certificate that cannot
        # be verified, an answer refused for its size): not a question of where the URL points.
        self.reached = reached


class RevisionError(SecretsyncError):
    pass


class BaseRefError(RevisionError):
    exit_code = EXIT_USAGE  # a bad --base argument, like any other bad argument


class PlanMismatchError(SecretsyncError):
    pass


class DeletionLimitError(SecretsyncError):
    pass


class AbortedError(SecretsyncError):
    pass
