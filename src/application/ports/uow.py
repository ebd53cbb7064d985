"""The unit of work: one transaction per use case.

Repositories (one port per aggregate, declared beside the use cases that need them) and the job
queue all work inside the current unit of work; they add and flush, and only the use case
commits. Leaving a use case without ``commit()`` rolls everything back, including jobs it
enqueued (they are outbox rows in the same transaction), so a failed request sends nothing.

Why not one UoW object that lists every repository (the cosmicpython shape): with five feature
areas each adding repositories, that class becomes the one file everyone edits. Here each
repository is its own port, bound by the container to the same request-scoped session, and the
UoW port only decides the transaction's fate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class UnitOfWork(Protocol):
    async def commit(self) -> None:
        """Makes everything done in this unit durable, then runs the after-commit hooks."""
        ...

    async def rollback(self) -> None: ...

    async def flush(self) -> None:
        """Sends pending writes so that constraints are checked now (without committing)."""
        ...

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Registers work to run only once the commit succeeded (e.g. waking the job runner)."""
        ...

    async def autocommit(self) -> None:
        """Until the next ``commit()`` or ``rollback()``, each statement takes effect on its own:
        no transaction is held open between statements, so reading locks nothing (on SQLite, a
        writing transaction holds the one write lock from its first statement). Only for work
        that reads and then makes at most one write that is atomic by itself (a guarded
        update); ``commit()`` then ends the mode with nothing left to send, ``rollback()`` ends
        it undoing nothing. Asked after this unit of work already began, it changes nothing
        (the work keeps its one transaction); a backend without the notion may ignore it."""
        ...
