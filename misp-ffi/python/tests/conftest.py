"""Shared fixtures: paths into the repository's test data."""

from pathlib import Path

import pytest

#: The repository root (misp-ffi/python/tests -> root).
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def root() -> Path:
    return ROOT
