"""A small S3 double on 127.0.0.1: the REST calls the S3 blob store makes (PutObject,
GetObject, HeadObject, DeleteObject and multipart uploads), in S3's wire format, path-style.

Signatures are not checked (boto3 signs every request; the double only needs to understand it).
``uploads`` exposes in-progress multipart uploads so a test can prove an aborted one left none.
(A plain module with a unique name: an installed SDK ships a top-level ``tests`` package.)
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class S3Double:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.uploads: dict[str, dict[int, bytes]] = {}
        self.requests: list[str] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _target(self) -> tuple[str, str, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                bucket, _, key = parts.path.lstrip("/").partition("/")
                return bucket, unquote(key), parse_qs(parts.query, keep_blank_values=True)

            def _body(self) -> bytes:
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length) if length else b""
                if self.headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
                    data = _decode_aws_chunked(data)
                return data

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _no_such_key(self) -> None:
                body = b"<Error><Code>NoSuchKey</Code><Message>No such key.</Message></Error>"
                self._send(404, body, {"Content-Type": "application/xml"})

            def do_PUT(self) -> None:
                bucket, key, query = self._target()
                double.requests.append(f"PUT {key} {sorted(query)}")
                data = self._body()
                etag = f'"{hashlib.md5(data).hexdigest()}"'  # noqa: S324 (S3's ETag is an MD5)
                if "uploadId" in query:
                    upload = double.uploads.get(query["uploadId"][0])
                    if upload is None:
                        return self._send(404, b"<Error><Code>NoSuchUpload</Code></Error>")
                    upload[int(query["partNumber"][0])] = data
                else:
                    double.objects[(bucket, key)] = data
                return self._send(200, b"", {"ETag": etag})

            def do_POST(self) -> None:
                bucket, key, query = self._target()
                double.requests.append(f"POST {key} {sorted(query)}")
                self._body()
                if "uploads" in query:
                    upload_id = uuid.uuid4().hex
                    double.uploads[upload_id] = {}
                    xml = (
                        f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{key}</Key>"
                        f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>"
                    )
                    return self._send(200, xml.encode(), {"Content-Type": "application/xml"})
                parts = double.uploads.pop(query["uploadId"][0])
                double.objects[(bucket, key)] = b"".join(parts[n] for n in sorted(parts))
                xml = f'<CompleteMultipartUploadResult><Key>{key}</Key><ETag>"x"</ETag>'
                xml += "</CompleteMultipartUploadResult>"
                return self._send(200, xml.encode(), {"Content-Type": "application/xml"})

            def do_GET(self) -> None:
                bucket, key, _ = self._target()
                data = double.objects.get((bucket, key))
                if data is None:
                    return self._no_such_key()
                return self._send(200, data, {"Content-Type": "application/octet-stream"})

            def do_HEAD(self) -> None:
                bucket, key, _ = self._target()
                data = double.objects.get((bucket, key))
                if data is None:
                    return self._send(404)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return None

            def do_DELETE(self) -> None:
                bucket, key, query = self._target()
                if "uploadId" in query:
                    double.uploads.pop(query["uploadId"][0], None)
                else:
                    double.objects.pop((bucket, key), None)
                return self._send(204)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> S3Double:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _decode_aws_chunked(data: bytes) -> bytes:
    """boto3 may send bodies in aws-chunked encoding: ``<hex size>;chunk-signature=...\\r\\n<data>\\r\\n``."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        line_end = data.index(b"\r\n", pos)
        size = int(data[pos:line_end].split(b";", 1)[0], 16)
        start = line_end + 2
        out += data[start : start + size]
        pos = start + size + 2
        if size == 0:
            break
    return bytes(out)
