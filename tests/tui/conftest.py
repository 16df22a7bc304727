"""Fixtures for the workstation's tests: a seeded embedded market, frozen in time."""

from __future__ import annotations

import pytest

from lob.tui.app import WorkstationApp
from lob.tui.embedded import EmbeddedSource
from tests.tui.market import seeded_source

SIZE = (160, 48)


@pytest.fixture
def source() -> EmbeddedSource:
    return seeded_source()


@pytest.fixture
def app(source: EmbeddedSource) -> WorkstationApp:
    return WorkstationApp(source)
