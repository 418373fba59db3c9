"""Fixtures of the source tests: each test runs in its own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
