"""Shared test helpers: writing scenario YAML to temporary files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

MINIMAL_YAML = """\
name: tiny
horizon_days: 30
products:
  part:
    unit: kg
    unit_value: 10
    sources: {CHN: 0.8, domestic: 0.2}
  widget:
    unit: piece
    unit_value: 100
    final_demand_per_day: 5
    sources: {domestic: 1}
    inputs: {part: 2}
"""
"""A small valid scenario (line numbers matter to tests that append to it)."""


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """Write (dedented) YAML text to a file in ``tmp_path`` and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
