"""Local HTTP doubles of Anthropic's Messages API and OpenAI's Chat Completions API.

They listen on 127.0.0.1 (a free port) and speak the vendors' streaming wire formats, so the
adapters are tested through the real SDKs (pointed here with ``base_url``):

- Anthropic: ``POST /v1/messages`` with the key (``Authorization: Bearer`` as the 2.x SDK sends
  it, or ``x-api-key``) and ``anthropic-version``; server-sent
  events ``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``
  (``text_delta``), ``content_block_stop``, ``message_delta`` (stop reason, cumulative usage),
  ``message_stop``; failures as ``{"type": "error", "error": {"type", "message"}, "request_id"}``
  over HTTP (429, 500, 529...) or as an ``event: error`` inside the stream.
- OpenAI: ``POST /v1/chat/completions`` with ``Authorization: Bearer``; data-only events of
  ``chat.completion.chunk`` objects (a first chunk with the role, content chunks, a chunk with
  ``finish_reason``, a usage chunk with empty ``choices`` when
  ``stream_options.include_usage`` is set), then ``data: [DONE]``; failures as
  ``{"error": {"message", "type", "param", "code"}}``.

Output is counted in "double tokens" (whitespace-separated words, the leading space attached),
one per delta, and cut at ``max_tokens`` / ``max_completion_tokens`` with the vendor's stop
reason. Input tokens are the words of the system text and the messages.

A test scripts the next responses with `Reply` and `Failure` (``double.script.append(...)``);
without a script every request gets `default_text`. The real APIs advise a delay in
``retry-after`` (seconds); failures here may also send ``retry-after-ms``, which both SDKs read
first, so retry tests do not wait whole seconds.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

DEFAULT_TEXT = "A remarkable product is worth talking about [1]. Marketing starts with the product [2]."


@dataclass
class Reply:
    """One successful (or mid-stream failing) streamed answer."""

    text: str | None = None  # None: the double's default_text
    model: str | None = None  # the model id the vendor reports; None: a dated snapshot of the request's
    stall_before_seconds: float = 0.0  # silence before the response headers
    stall_after_deltas: int | None = None  # go silent after this many deltas...
    stall_seconds: float = 0.0  # ...for this long
    error_after_deltas: int | None = None  # send an in-stream error after this many deltas
    error_type: str = "overloaded_error"  # Anthropic error type / OpenAI error code for it
    drop_after_deltas: int | None = None  # close the connection mid-stream, no end marker
    refusal: bool = False  # stop as the provider's safety system does


@dataclass
class Failure:
    """An HTTP error response."""

    status: int
    error_type: str | None = None  # None: the vendor's usual type for the status
    message: str = "injected failure"
    retry_after_ms: int | None = 5
    retry_after_seconds: int | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def double_tokens(text: str) -> list[str]:
    tokens = re.findall(r"\s*\S+", text)
    trailing = text[len("".join(tokens)) :]
    if trailing and tokens:
        tokens[-1] += trailing
    elif trailing:
        tokens = [trailing]
    return tokens


class _RequestRejected(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


@dataclass
class _StreamDouble(ABC):
    api_key: str = "test-key"
    default_text: str = DEFAULT_TEXT
    script: list[Reply | Failure] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> _StreamDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                try:
                    double._handle(self)
                except (TimeoutError, BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout test): nothing left to send it.
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as exc:
            self._send_json(
                handler, 400, self._error_body("invalid_request_error", f"Invalid JSON: {exc}", 400)
            )
            return
        with self._lock:
            self.requests.append(Recorded(handler.path.split("?")[0], headers, body))
            step = self.script.pop(0) if self.script else Reply()
        try:
            self._check(handler.path.split("?")[0], headers, body)
        except _RequestRejected as exc:
            self._send_json(handler, exc.status, self._error_body(exc.error_type, exc.message, exc.status))
            return
        if isinstance(step, Failure):
            extra: dict[str, str] = {}
            if step.retry_after_ms is not None:
                extra["retry-after-ms"] = str(step.retry_after_ms)
            if step.retry_after_seconds is not None:
                extra["retry-after"] = str(step.retry_after_seconds)
            error_type = step.error_type or self._default_error_type(step.status)
            self._send_json(
                handler, step.status, self._error_body(error_type, step.message, step.status), extra
            )
            return
        if body.get("stream") is not True:
            # The adapters always stream; the vendors' non-streaming JSON answer is not modelled.
            self._send_json(
                handler, 400, self._error_body("invalid_request_error", "double: stream only", 400)
            )
            return
        if step.stall_before_seconds:
            time.sleep(step.stall_before_seconds)
        self._stream(handler, body, step)

    def _send_json(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in {**self._response_headers(), **(extra or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def _open_stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        for name, value in self._response_headers().items():
            handler.send_header(name, value)
        handler.end_headers()

    @staticmethod
    def _write_chunk(handler: BaseHTTPRequestHandler, text: str) -> None:
        data = text.encode()
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()

    @staticmethod
    def _end_stream(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    def _deltas(self, step: Reply, limit: int) -> tuple[list[str], bool]:
        tokens = double_tokens(step.text if step.text is not None else self.default_text)
        return tokens[:limit], len(tokens) > limit

    def _play(
        self,
        handler: BaseHTTPRequestHandler,
        deltas: list[str],
        step: Reply,
        send: Callable[[str], None],
        fail: Callable[[], None],
    ) -> bool:
        """Sends the deltas, misbehaving where `step` says; False if the stream was cut short."""
        for count, delta in enumerate(deltas):
            if count == step.drop_after_deltas:
                self._drop(handler)
                return False
            if count == step.error_after_deltas:
                fail()
                return False
            if count == step.stall_after_deltas:
                time.sleep(step.stall_seconds)
            send(delta)
        if step.error_after_deltas is not None and step.error_after_deltas >= len(deltas):
            fail()
            return False
        return True

    @staticmethod
    def _words(text: str) -> int:
        return len(text.split())

    # -- per vendor ---------------------------------------------------------------------------------

    @abstractmethod
    def _check(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        """Rejects what the vendor rejects (raise `_RequestRejected`)."""

    @abstractmethod
    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], step: Reply) -> None: ...

    @abstractmethod
    def _error_body(self, error_type: str, message: str, status: int) -> dict[str, Any]: ...

    @abstractmethod
    def _default_error_type(self, status: int) -> str: ...

    def _response_headers(self) -> dict[str, str]:
        return {}


@dataclass
class AnthropicDouble(_StreamDouble):
    """Anthropic's Messages API (``POST /v1/messages``)."""

    _STATUS_TYPES: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        504: "timeout_error",
        529: "overloaded_error",
    }

    def start(self) -> AnthropicDouble:
        super().start()
        return self

    def _response_headers(self) -> dict[str, str]:
        return {"request-id": f"req_{secrets.token_hex(12)}", "anthropic-organization-id": "org-double"}

    def _default_error_type(self, status: int) -> str:
        return self._STATUS_TYPES.get(status, "api_error")

    def _error_body(self, error_type: str, message: str, status: int) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": f"req_{secrets.token_hex(12)}",
        }

    def _check(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        if path != "/v1/messages":
            raise _RequestRejected(404, "not_found_error", f"Not found: {path}")
        # The 2.x SDK sends the key as a bearer token; older clients send ``x-api-key``.
        if self.api_key not in (
            headers.get("x-api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        ):
            raise _RequestRejected(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            raise _RequestRejected(400, "invalid_request_error", "anthropic-version: header is required")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise _RequestRejected(400, "invalid_request_error", "model: Field required")
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise _RequestRejected(400, "invalid_request_error", "max_tokens: must be at least 1")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _RequestRejected(400, "invalid_request_error", "messages: at least one message is required")
        for index, message in enumerate(messages):
            if message.get("role") not in ("user", "assistant"):
                raise _RequestRejected(
                    400,
                    "invalid_request_error",
                    f"messages.{index}.role: Input should be 'user' or 'assistant'",
                )
        if messages[0].get("role") != "user":
            raise _RequestRejected(
                400, "invalid_request_error", "messages: first message must use the user role"
            )
        if "temperature" in body:
            # As the API answers for Opus 4.7 and later models: the adapter must never send it.
            raise _RequestRejected(
                400, "invalid_request_error", "`temperature` is deprecated for this model."
            )

    def _input_tokens(self, body: dict[str, Any]) -> int:
        system = body.get("system") or ""
        texts = [system] if isinstance(system, str) else [block.get("text", "") for block in system]
        for message in body["messages"]:
            content = message["content"]
            texts.extend([content] if isinstance(content, str) else [b.get("text", "") for b in content])
        return sum(self._words(text) for text in texts)

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], step: Reply) -> None:
        deltas, truncated = self._deltas(step, body["max_tokens"])
        input_tokens = self._input_tokens(body)
        model = step.model or body["model"]

        def event(name: str, data: dict[str, Any]) -> None:
            self._write_chunk(handler, f"event: {name}\ndata: {json.dumps(data)}\n\n")

        self._open_stream(handler)
        usage = {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
            "service_tier": "standard",
        }
        message = {
            "id": f"msg_{secrets.token_hex(12)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        event("message_start", {"type": "message_start", "message": message})
        event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        event("ping", {"type": "ping"})

        def stream_error() -> None:
            event("error", self._error_body(step.error_type, "Overloaded", 529))
            self._end_stream(handler)

        def text_delta(text: str) -> None:
            delta = {"type": "text_delta", "text": text}
            event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})

        if not self._play(handler, deltas, step, text_delta, stream_error):
            return
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        stop_reason = "refusal" if step.refusal else "max_tokens" if truncated else "end_turn"
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": len(deltas),
                },
            },
        )
        event("message_stop", {"type": "message_stop"})
        self._end_stream(handler)


@dataclass
class OpenAIDouble(_StreamDouble):
    """OpenAI's Chat Completions API (``POST /v1/chat/completions``)."""

    _STATUS_TYPES: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        404: "invalid_request_error",
        429: "requests",
        500: "server_error",
        503: "server_error",
    }

    send_usage: bool = True  # False: a compatible server that ignores stream_options.include_usage

    def start(self) -> OpenAIDouble:
        super().start()
        return self

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _response_headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{secrets.token_hex(16)}",
            "openai-version": "2020-10-01",
            "openai-processing-ms": "12",
        }

    def _default_error_type(self, status: int) -> str:
        return self._STATUS_TYPES.get(status, "server_error")

    def _error_body(self, error_type: str, message: str, status: int) -> dict[str, Any]:
        code = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status)
        return {"error": {"message": message, "type": error_type, "param": None, "code": code}}

    def _check(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        if path != "/v1/chat/completions":
            raise _RequestRejected(404, "invalid_request_error", f"Invalid URL (POST {path})")
        if headers.get("authorization") != f"Bearer {self.api_key}":
            raise _RequestRejected(401, "invalid_request_error", "Incorrect API key provided.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise _RequestRejected(400, "invalid_request_error", "you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _RequestRejected(400, "invalid_request_error", "[] is too short - 'messages'")
        for message in messages:
            if message.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                raise _RequestRejected(400, "invalid_request_error", f"Invalid role: {message.get('role')!r}")
        if "stream_options" in body and not body.get("stream"):
            raise _RequestRejected(
                400,
                "invalid_request_error",
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            )
        if "max_tokens" in body and "max_completion_tokens" in body:
            raise _RequestRejected(400, "invalid_request_error", "Use max_completion_tokens only.")
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise _RequestRejected(400, "invalid_request_error", "max_completion_tokens must be at least 1")

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], step: Reply) -> None:
        limit = body.get("max_completion_tokens", body.get("max_tokens")) or 10_000
        deltas, truncated = self._deltas(step, limit)
        input_tokens = sum(self._words(m.get("content") or "") for m in body["messages"])
        model = step.model or f"{body['model']}-2025-08-07"
        completion_id = f"chatcmpl-{secrets.token_hex(12)}"
        created = int(time.time())
        finish_reason = "content_filter" if step.refusal else "length" if truncated else "stop"
        usage = {
            "prompt_tokens": input_tokens,
            "completion_tokens": len(deltas),
            "total_tokens": input_tokens + len(deltas),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        include_usage = self.send_usage and bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[dict[str, Any]], usage_value: dict[str, Any] | None = None) -> None:
            payload: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": None,
                "choices": choices,
                "obfuscation": secrets.token_urlsafe(6),
            }
            if include_usage:
                payload["usage"] = usage_value  # null on every chunk but the last
            self._write_chunk(handler, f"data: {json.dumps(payload)}\n\n")

        def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

        def stream_error() -> None:
            error = {"message": "The server is overloaded.", "type": "server_error", "param": None}
            self._write_chunk(
                handler, f"data: {json.dumps({'error': {**error, 'code': step.error_type}})}\n\n"
            )
            self._end_stream(handler)

        self._open_stream(handler)
        chunk(choice({"role": "assistant", "content": "", "refusal": None}))
        key = "refusal" if step.refusal else "content"
        if not self._play(handler, deltas, step, lambda delta: chunk(choice({key: delta})), stream_error):
            return
        chunk(choice({}, finish_reason))
        if include_usage:
            chunk([], usage)
        self._write_chunk(handler, "data: [DONE]\n\n")
        self._end_stream(handler)
