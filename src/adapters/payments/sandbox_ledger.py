"""The sandbox processor's books: checkouts, payments, refunds, disputes, payouts, reversals,
the idempotency keys it has seen and the webhook deliveries it still owes.

Kept in memory; when a path is given, every change is written to that JSON file atomically
(a temporary file renamed over the old one), so a restarted laptop keeps its sandbox history
and a crash mid-write never leaves half a file.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

_SECTIONS = ("checkouts", "payments", "refunds", "disputes", "payouts", "reversals", "idempotency")


class SandboxLedger:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.RLock()
        self._data: dict[str, Any] = {name: {} for name in _SECTIONS}
        self._data["outbox"] = []
        if path is not None and path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            for name in _SECTIONS:
                self._data[name] = dict(loaded.get(name, {}))
            self._data["outbox"] = list(loaded.get("outbox", []))

    @property
    def path(self) -> Path | None:
        return self._path

    def get(self, section: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._data[section].get(key)
            return copy.deepcopy(found) if found is not None else None

    def put(self, section: str, key: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._data[section][key] = copy.deepcopy(record)

    def keys(self, section: str) -> list[str]:
        with self._lock:
            return list(self._data[section])

    def values(self, section: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(v) for v in self._data[section].values()]

    def enqueue(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._data["outbox"].append(copy.deepcopy(event))

    def outbox(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data["outbox"])

    def remove_from_outbox(self, event_id: str) -> None:
        with self._lock:
            self._data["outbox"] = [e for e in self._data["outbox"] if e.get("id") != event_id]

    def save(self) -> None:
        """Writes the books to the JSON file, if there is one."""
        if self._path is None:
            return
        with self._lock:
            content = json.dumps(self._data, sort_keys=True, indent=1)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, self._path)
