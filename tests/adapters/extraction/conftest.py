"""Fixtures for the extraction tests: ``docs`` is the document generator module
(``tests/fixtures/documents/make.py``), loaded by path because an installed SDK ships a
top-level ``tests`` package that shadows ours."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from adapters.extraction.registry import ExtractorRegistry

_NAME = "canon_document_fixtures"


def load_documents() -> ModuleType:
    if _NAME not in sys.modules:
        path = Path(__file__).parents[2] / "fixtures" / "documents" / "make.py"
        spec = importlib.util.spec_from_file_location(_NAME, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


@pytest.fixture(scope="session")
def docs() -> ModuleType:
    return load_documents()


@pytest.fixture
def registry() -> ExtractorRegistry:
    return ExtractorRegistry()
