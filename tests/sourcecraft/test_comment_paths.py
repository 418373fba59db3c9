"""Pull request comment paths come from the same strict builder as every other path: a
pull request or comment id that is not a plain name never becomes a URL."""

import pytest

from secretsync.errors import ConfigError
from secretsync.sourcecraft import paths


def test_comment_paths_are_built_from_checked_segments():
    assert paths.pull_comments("acme", "infra", "42") == "/repos/acme/infra/pulls/42/comments"
    assert paths.pull_comment("1234") == "/pull_comments/id:1234"


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", "42?x=1", "%2e%2e", ""])
def test_a_comment_id_or_pull_request_that_is_not_a_name_is_never_sent(bad):
    with pytest.raises(ConfigError):
        paths.pull_comment(bad)
    with pytest.raises(ConfigError):
        paths.pull_comments("acme", "infra", bad)
