"""config.policy_file: its paths are cached per environment, the file's presence is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from seat.config import Settings, config_path, policy_file


def _settings(tmp_path: Path) -> Settings:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "callbacks.toml").write_text("")
    return Settings(database_url="sqlite://", policy_dir=shipped)


def test_a_deployment_copy_added_or_removed_is_seen_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "etc" / "config.toml"))
    settings = _settings(tmp_path)
    shipped = settings.policy_dir / "callbacks.toml"
    assert policy_file(settings, "callbacks") == shipped
    own = tmp_path / "etc" / "policy" / "callbacks.toml"
    own.parent.mkdir(parents=True)
    own.write_text("")
    assert policy_file(settings, "callbacks") == own
    own.unlink()
    assert policy_file(settings, "callbacks") == shipped


@pytest.mark.parametrize("variable", ["SEAT_CONFIG", "XDG_CONFIG_HOME", "HOME"])
def test_the_config_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv("SEAT_CONFIG", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    settings = _settings(tmp_path)
    for n in (1, 2):
        place = tmp_path / f"place{n}"
        value = str(place / "config.toml") if variable == "SEAT_CONFIG" else str(place)
        monkeypatch.setenv(variable, value)
        own = config_path().parent / "policy" / "callbacks.toml"
        assert own.is_relative_to(place)
        own.parent.mkdir(parents=True, exist_ok=True)
        own.write_text("")
        assert policy_file(settings, "callbacks") == own  # not the first place's copy
