"""Registers this directory as the `payment_testkit` package (the processors' HTTP doubles and
the contract harnesses). Two installed SDKs ship a top-level package named `tests` that shadows
this repository's `tests` directory on import, so the kit gets a name of its own, by path."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from pathlib import Path


def register_payment_testkit() -> None:
    if "payment_testkit" in sys.modules:
        return
    location = str(Path(__file__).resolve().parent)
    spec = importlib.machinery.ModuleSpec("payment_testkit", None, is_package=True)
    spec.submodule_search_locations = [location]
    package = types.ModuleType("payment_testkit")
    package.__spec__ = spec
    package.__path__ = [location]
    sys.modules["payment_testkit"] = package


register_payment_testkit()
