"""Fixtures of the manifest tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    # Problems name the manifest as given; running from its folder gives "secretsync.yaml".
    monkeypatch.chdir(tmp_path)
