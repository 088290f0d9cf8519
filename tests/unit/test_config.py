"""Settings from the environment: defaults, and a clear refusal of a bad value."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kassa.cli import app
from kassa.config import Settings


def test_pool_size_default_and_setting(monkeypatch):
    monkeypatch.delenv("KASSA_DATABASE_POOL_SIZE", raising=False)
    assert Settings.from_env().database_pool_size == 8
    monkeypatch.setenv("KASSA_DATABASE_POOL_SIZE", "3")
    assert Settings.from_env().database_pool_size == 3


@pytest.mark.parametrize("value", ["0", "-1", "many", "1001", "2.5"])
def test_a_bad_pool_size_stops_serve_with_its_name(monkeypatch, tmp_path, value):
    monkeypatch.setenv("KASSA_DATABASE_POOL_SIZE", value)
    result = CliRunner().invoke(app, ["serve", "--database", f"sqlite:///{tmp_path / 'k.sqlite3'}"])
    assert result.exit_code == 2
    said = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())  # unboxed, unwrapped
    assert "KASSA_DATABASE_POOL_SIZE must be a whole number from 1 to 1000" in said
