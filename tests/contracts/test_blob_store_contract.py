"""The BlobStore contract, run against every adapter: in-memory, a local directory, and S3
through boto3 against a local S3 double (no S3 runs offline; the double speaks its wire format)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.blobs.local import LocalBlobStore
from adapters.blobs.memory import InMemoryBlobStore
from adapters.blobs.s3 import MIN_PART_SIZE, S3BlobStore
from application.catalogue.blobs import BlobStore
from application.errors import InvalidInput, NotFound, PayloadTooLarge


def _load(name: str, relative: str) -> object:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / relative)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S3Double = _load("s3_double", "adapters/blobs/s3_double.py").S3Double  # type: ignore[attr-defined]


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise PayloadTooLarge("over the limit", code="file-too-large")


class BlobStoreContract:
    """Subclass once per adapter and provide ``store`` (a fresh, empty store)."""

    async def test_starts_clean(self, store: BlobStore) -> None:
        assert not await store.exists("sources/s1/f1")
        with pytest.raises(NotFound) as missing:
            await store.read("sources/s1/f1")
        assert missing.value.code == "blob-not-found"

    async def test_put_read_exists_delete(self, store: BlobStore) -> None:
        size = await store.put("sources/s1/f1", chunks(b"hello ", b"", b"world"))
        assert size == 11
        assert await store.read("sources/s1/f1") == b"hello world"
        assert await store.exists("sources/s1/f1")
        await store.delete("sources/s1/f1")
        await store.delete("sources/s1/f1")  # deleting twice is fine
        assert not await store.exists("sources/s1/f1")

    async def test_put_replaces(self, store: BlobStore) -> None:
        await store.put("k/a", chunks(b"one"))
        await store.put("k/a", chunks(b"two!"))
        assert await store.read("k/a") == b"two!"

    async def test_a_failing_stream_leaves_nothing(self, store: BlobStore) -> None:
        with pytest.raises(PayloadTooLarge):
            await store.put("k/partial", failing(b"a" * 1000, b"b" * 1000))
        assert not await store.exists("k/partial")

    async def test_empty_blob(self, store: BlobStore) -> None:
        assert await store.put("k/empty", chunks()) == 0
        assert await store.read("k/empty") == b""

    @pytest.mark.parametrize("key", ["", "../x", "a//b", "a/./b", "/abs", "a\\b"])
    async def test_keys_cannot_escape(self, store: BlobStore, key: str) -> None:
        with pytest.raises(InvalidInput):
            await store.put(key, chunks(b"x"))


class TestInMemoryBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self) -> BlobStore:
        return InMemoryBlobStore()


class TestLocalBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> BlobStore:
        return LocalBlobStore(tmp_path / "blobs")

    async def test_no_temporary_files_are_left(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "blobs")
        await store.put("a/b", chunks(b"x"))
        with pytest.raises(PayloadTooLarge):
            await store.put("a/c", failing(b"y"))
        assert sorted(p.name for p in (tmp_path / "blobs" / "a").iterdir()) == ["b"]


@pytest.fixture(scope="module")
def s3() -> Iterator[object]:
    with S3Double() as double:
        yield double


class TestS3BlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, s3: object) -> BlobStore:
        s3.objects.clear()  # type: ignore[attr-defined]
        return S3BlobStore(
            bucket="canon",
            endpoint_url=s3.url,  # type: ignore[attr-defined]
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
            prefix="blobs",
            part_size=MIN_PART_SIZE,
        )

    async def test_large_uploads_are_multipart_and_aborted_on_failure(self, s3: object) -> None:
        store = S3BlobStore(
            bucket="canon",
            endpoint_url=s3.url,
            region="us-east-1",  # type: ignore[attr-defined]
            access_key_id="test",
            secret_access_key="test",
            part_size=MIN_PART_SIZE,
        )
        big = bytes(range(256)) * (MIN_PART_SIZE // 256) + b"tail"
        size = await store.put("big/one", chunks(big[:1000], big[1000:]))
        assert size == len(big)
        assert await store.read("big/one") == big
        assert any("uploadId" in r and "partNumber" in r for r in s3.requests)  # type: ignore[attr-defined]
        with pytest.raises(PayloadTooLarge):
            await store.put("big/two", failing(big))
        assert s3.uploads == {}  # type: ignore[attr-defined]
        assert not await store.exists("big/two")

    async def test_the_prefix_is_applied(self, s3: object) -> None:
        store = S3BlobStore(
            bucket="canon",
            endpoint_url=s3.url,
            region="us-east-1",  # type: ignore[attr-defined]
            access_key_id="test",
            secret_access_key="test",
            prefix="tenant-a",
        )
        await store.put("x/y", chunks(b"z"))
        assert s3.objects[("canon", "tenant-a/x/y")] == b"z"  # type: ignore[attr-defined]


async def test_an_unreachable_s3_is_an_external_service_error() -> None:
    import socket

    import boto3
    from botocore.config import Config

    from application.errors import ExternalServiceError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )
    store = S3BlobStore(bucket="canon", client=client)
    with pytest.raises(ExternalServiceError) as down:
        await store.read("k/a")
    assert down.value.code == "blob-store-unavailable"
    with pytest.raises(ExternalServiceError):
        await store.put("k/a", chunks(b"x"))
