"""Blobs in an S3-compatible bucket (AWS S3, MinIO, R2...) through boto3.

An upload is streamed: small blobs are one ``PutObject``; larger ones a multipart upload of
``part_size`` parts (S3's minimum is 5 MiB) that is aborted if the stream raises, so a failed
upload leaves no object and no orphaned parts. boto3 is synchronous: every call runs in a worker
thread so the event loop keeps serving requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from application.catalogue.blobs import check_key
from application.errors import ExternalServiceError, NotFound

MIN_PART_SIZE = 5 * 1024 * 1024


class S3BlobStore:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_size: int = 8 * 1024 * 1024,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must not be empty")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (the S3 minimum)")
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._part_size = part_size
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 4, "mode": "standard"}, s3={"addressing_style": "path"}),
        )

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self._prefix}/{key}" if self._prefix else key

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._client, method), Bucket=self._bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"no blob {kwargs.get('Key')!r}", code="blob-not-found") from None
            raise ExternalServiceError(
                f"the blob store refused {method}: {code}", code="blob-store-error"
            ) from exc
        except BotoCoreError as exc:
            raise ExternalServiceError(
                f"the blob store is unreachable: {exc}", code="blob-store-unavailable"
            ) from exc

    async def put(self, key: str, stream: AsyncIterable[bytes]) -> int:
        s3_key = self._key(key)
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        total = 0
        try:
            async for chunk in stream:
                buffer += chunk
                total += len(chunk)
                while len(buffer) >= self._part_size:
                    if upload_id is None:
                        created = await self._call("create_multipart_upload", Key=s3_key)
                        upload_id = str(created["UploadId"])
                    part, buffer = bytes(buffer[: self._part_size]), buffer[self._part_size :]
                    parts.append(await self._part(s3_key, upload_id, len(parts) + 1, part))
            if upload_id is None:
                await self._call("put_object", Key=s3_key, Body=bytes(buffer))
                return total
            if buffer:
                parts.append(await self._part(s3_key, upload_id, len(parts) + 1, bytes(buffer)))
            await self._call(
                "complete_multipart_upload", Key=s3_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            return total
        except BaseException:
            if upload_id is not None:
                # the bucket's lifecycle rule for incomplete uploads is the backstop
                with contextlib.suppress(ExternalServiceError):
                    await self._call("abort_multipart_upload", Key=s3_key, UploadId=upload_id)
            raise

    async def _part(self, s3_key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        answer = await self._call("upload_part", Key=s3_key, UploadId=upload_id, PartNumber=number, Body=body)
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def read(self, key: str) -> bytes:
        answer = await self._call("get_object", Key=self._key(key))
        body = answer["Body"]
        try:
            return bytes(await asyncio.to_thread(body.read))
        finally:
            body.close()

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Key=self._key(key))
        except NotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Key=self._key(key))
