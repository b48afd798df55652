"""The callbacks a transaction runs once it is over (db.base.Transaction.after_commit)."""

from __future__ import annotations

import logging

from hearth.db.base import AfterTransaction

log = logging.getLogger("hearth.db")


class AfterTransactionCallbacks:
    """Held by each open transaction; the database runs one list when the transaction ends.
    The lists are made on first use: most transactions have no callbacks."""

    on_commit: list[AfterTransaction] | None = None
    on_rollback: list[AfterTransaction] | None = None

    def after_commit(self, callback: AfterTransaction) -> None:
        if self.on_commit is None:
            self.on_commit = []
        self.on_commit.append(callback)

    def after_rollback(self, callback: AfterTransaction) -> None:
        if self.on_rollback is None:
            self.on_rollback = []
        self.on_rollback.append(callback)

    async def committed(self) -> None:
        if self.on_commit:
            await _run(self.on_commit, "after-commit")

    async def rolled_back(self) -> None:
        if self.on_rollback:
            await _run(self.on_rollback, "after-rollback")


async def _run(callbacks: list[AfterTransaction], what: str) -> None:
    # Callbacks may add more (an after-commit write of its own): run until none is left.
    while callbacks:
        callback = callbacks.pop(0)
        try:
            await callback()
        except Exception:
            # The transaction's outcome stands; one reaction failing must not hide it or the others.
            log.exception("%s callback failed", what)
