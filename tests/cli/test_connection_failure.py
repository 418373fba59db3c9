"""A connection failure says where it tried to connect, and who chose that URL."""

from __future__ import annotations

import socket

import pytest

from tests.cli.test_cli import GOOD, run


@pytest.fixture
def closed_port():
    # A port nothing listens on: bound, then closed.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_no_answer_names_the_url_and_where_it_came_from(tmp_path, closed_port, how):
    (tmp_path / "secretsync.yaml").write_text(GOOD)
    url = f"http://127.0.0.1:{closed_port}"
    args = ["plan", "--api-url", url] if how == "flag" else ["plan"]
    env = {"APP_API_KEY": "v-1", "SOURCECRAFT_TOKEN": "tok-12345678"}
    if how == "env":
        env["SOURCECRAFT_API_URL"] = url
    result = run(tmp_path, *args, **env)
    assert result.returncode == 1
    origin = "--api-url" if how == "flag" else "SOURCECRAFT_API_URL"
    assert f"nothing answered at {url} (from {origin})" in result.stderr
    assert "Traceback" not in result.stderr and "tok-12345678" not in result.stderr
