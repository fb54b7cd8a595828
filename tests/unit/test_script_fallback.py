"""A broken edit of a call script falls back to the last good copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from seat.callbacks import DEFAULT_SCRIPTS
from seat.scripts import load_with_fallback

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "scripts"


def test_broken_script_falls_back_to_last_good_copy(tmp_path):
    scripts_dir, cache = tmp_path / "scripts", tmp_path / "cache"
    shutil.copytree(SHIPPED, scripts_dir)
    scripts, problems = load_with_fallback(scripts_dir, cache)
    assert set(scripts) == {"inbound", *dict(DEFAULT_SCRIPTS).values()} and problems == []
    assert (cache / "inbound.toml").is_file()

    (scripts_dir / "inbound.toml").write_text("[script]\nid = 'inbound'\n", encoding="utf-8")
    scripts, problems = load_with_fallback(scripts_dir, cache)
    assert set(scripts) == {"inbound", *dict(DEFAULT_SCRIPTS).values()}
    assert len(problems) == 1
    assert problems[0].startswith("inbound.toml:") and "last good copy" in problems[0]
    # The cache still holds the good copy, not the broken one.
    assert "need_category" in (cache / "inbound.toml").read_text(encoding="utf-8")


def test_broken_script_without_a_good_copy_is_only_reported(tmp_path):
    scripts_dir = tmp_path / "scripts"
    scripts_dir.mkdir()
    (scripts_dir / "x.toml").write_text("not toml [", encoding="utf-8")
    scripts, problems = load_with_fallback(scripts_dir, tmp_path / "cache")
    assert scripts == {} and problems[0].startswith("x.toml: not valid TOML")
