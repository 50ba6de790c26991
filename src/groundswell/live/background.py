"""One coroutine served from an event loop on a daemon thread (the replay and status servers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any


class LoopThread:
    """Run ``make()`` in a fresh event loop on a daemon thread; :meth:`stop` cancels it.

    An exception the coroutine raises before ``ready`` is set is kept in
    :attr:`error` (and sets ``ready``) so the starter can report it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, make: Callable[[], Coroutine[Any, Any, Any]], ready: threading.Event,
              timeout: float = 10) -> bool:
        """Start serving; True once ``ready`` is set within ``timeout`` seconds."""
        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            task = loop.create_task(make())
            try:
                loop.run_until_complete(task)
            except asyncio.CancelledError:
                pass
            except BaseException as e:  # noqa: BLE001 - handed to the starter
                self.error = e
                ready.set()
            finally:
                pending = asyncio.all_tasks(loop)
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        return ready.wait(timeout)

    def stop(self, timeout: float = 10) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        def cancel() -> None:
            for t in asyncio.all_tasks(loop):
                t.cancel()

        if not loop.is_closed():
            loop.call_soon_threadsafe(cancel)
        thread.join(timeout)
        self._loop = self._thread = None
