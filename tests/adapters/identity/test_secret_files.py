"""Secret files: created once, 0600, never overwritten, refused when others can read them."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adapters.identity.secret_files import read_or_create_secret_file, read_secret_file
from application.errors import ServiceUnavailable


def test_created_once_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "secret"
    calls: list[int] = []

    def generate() -> bytes:
        calls.append(1)
        return b"first"

    assert read_or_create_secret_file(path, generate) == b"first"
    assert read_or_create_secret_file(path, lambda: b"second") == b"first"
    assert calls == [1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary file left behind


def test_concurrent_creators_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda n: read_or_create_secret_file(path, lambda: f"v{n}".encode()), range(64))
        )
    assert len(set(results)) == 1
    assert path.read_bytes() == results[0]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_file_others_can_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret"
    read_or_create_secret_file(path, lambda: b"x")
    path.chmod(mode)
    with pytest.raises(ServiceUnavailable) as caught:
        read_secret_file(path)
    assert caught.value.code == "secret-file-insecure"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.touch(mode=0o600)
    with pytest.raises(ServiceUnavailable) as caught:
        read_or_create_secret_file(path, lambda: b"never used")
    assert caught.value.code == "secret-file-invalid"
