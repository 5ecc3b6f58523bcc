"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LAYOUTKIT_NO_PROGRESS", "1")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the test inside a fresh temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
