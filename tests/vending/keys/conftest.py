"""Fixtures of the key-custody tests: a SoftHSM token and a module logged in to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsgas.vending.keys.hsm import Pkcs11SecurityModule
from tests.vending.keys.softhsm import SoftHsm, init_token, write_conf


@pytest.fixture(scope="session")
def softhsm_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This process's SoftHSM config (set before the library is first loaded)."""
    conf = write_conf(tmp_path_factory.mktemp("softhsm"))
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


@pytest.fixture(scope="session")
def softhsm(softhsm_conf: Path) -> SoftHsm:
    """This process's token (the library sees the tokens there were when it loaded, so
    tests share one; every import makes objects with a fresh random id)."""
    return init_token(softhsm_conf)


@pytest.fixture(scope="session")
def hsm(softhsm: SoftHsm) -> Iterator[Pkcs11SecurityModule]:
    """A module logged in to this test's token."""
    module = Pkcs11SecurityModule(
        library=softhsm.library, token_label=softhsm.label, pin=softhsm.pin
    )
    yield module
    module.close()
