"""One policy loader (seat/policies.py) for the three policy files: read once per version,
PolicyError naming the file, a file broken mid-shift keeps the version read before."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest

from seat import callbacks, sla, workorders
from seat.config import DATA_DIR, Settings
from seat.errors import PolicyError
from seat.policies import PolicyFile

KINDS = {
    "complaints": sla.COMPLAINT_POLICY,
    "callbacks": callbacks.CALLBACK_POLICY,
    "work_orders": workorders.WORK_ORDER_POLICY,
}


@pytest.fixture
def deployment(tmp_path, settings: Settings) -> Settings:
    """A deployment with its own copies of the shipped policies."""
    folder = tmp_path / "policy"
    folder.mkdir()
    for kind in KINDS:
        (folder / f"{kind}.toml").write_text(
            (DATA_DIR / "policy" / f"{kind}.toml").read_text("utf-8"), encoding="utf-8"
        )
    for loader in KINDS.values():
        loader.forget()
    yield replace(settings, policy_dir=folder)
    for loader in KINDS.values():
        loader.forget()


def _touch_later(path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("kind", list(KINDS))
def test_read_once_per_version(kind, deployment):
    loader = KINDS[kind]
    first = loader.load(deployment)
    assert loader.load(deployment) is first
    _touch_later(loader.path(deployment))
    again = loader.load(deployment)
    assert again is not first and again == first


@pytest.mark.parametrize("kind", list(KINDS))
def test_broken_mid_shift_keeps_the_version_read_before(kind, deployment, caplog):
    loader = KINDS[kind]
    good = loader.load(deployment)
    path = loader.path(deployment)
    path.write_text("this is = not [ toml", encoding="utf-8")
    _touch_later(path)
    with caplog.at_level(logging.WARNING, logger="seat.policies"):
        assert loader.load(deployment) is good
        assert loader.load(deployment) is good
    warnings = [r.getMessage() for r in caplog.records if r.name == "seat.policies"]
    assert len(warnings) == 1 and str(path) in warnings[0]  # logged once per broken version


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("damage", ["broken", "missing"])
def test_never_readable_is_an_error_naming_the_file(kind, damage, deployment):
    loader = KINDS[kind]
    path = loader.path(deployment)
    if damage == "missing":
        path.unlink()
    else:
        path.write_text("this is = not [ toml", encoding="utf-8")
    with pytest.raises(PolicyError, match=str(path)):
        loader.load(deployment)


def test_the_three_modules_load_through_the_one_loader(deployment):
    assert sla.load_policy(deployment) is sla.COMPLAINT_POLICY.load(deployment)
    assert callbacks.load_policy(deployment) is callbacks.CALLBACK_POLICY.load(deployment)
    assert workorders.load_policy(deployment) is workorders.WORK_ORDER_POLICY.load(deployment)
    assert all(isinstance(loader, PolicyFile) for loader in KINDS.values())
