"""Background tasks: work a handler hands off, run once its answer is out.

``background.run(coro)`` (or ``background.run(fn, *args, **kwargs)``) inside
an ``async def`` or ``def`` handler schedules the work for after the
response: the answer asks the core to say when its last byte has been
handed to the kernel (SPIKARD_RESPONSE_WRITTEN), and only then do the tasks
start, in the order they were scheduled, in the request's context. If the
client leaves before that, they start when the exchange ends: the work the
handler accepted is never dropped. A coroutine (or an ``async def``
function) runs on the event loop, a plain function on the loop's default
executor, where it may block. An exception is logged to the ``spikard``
logger with the task's name, never lost. A handler that raises, or is
cancelled because its client left before it answered, sends no answer of its
own, and its tasks are discarded. A graceful stop waits for running tasks up
to ``ServerConfig.shutdown_timeout``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Union

__all__ = ["run"]

logger = logging.getLogger("spikard")

Task = Union[Coroutine[Any, Any, Any], "functools.partial[Any]"]

# The tasks of the current request: set by its first run(), in the
# request's own context copy, so a request that schedules none pays nothing.
PENDING: contextvars.ContextVar[list[Task] | None] = contextvars.ContextVar(
    "spikard_background", default=None
)
# True in the dispatcher's base context, so in every request.
IN_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "spikard_in_request", default=False
)


def run(task: Coroutine[Any, Any, Any] | Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Schedule ``task`` to run after the current request's response is sent.

    ``task`` is a coroutine (``background.run(send_mail(user))``) or a
    function with its arguments (``background.run(write_log, line)``).
    """
    if inspect.iscoroutine(task):
        if args or kwargs:
            task.close()  # never to be awaited: closed, so no warning follows the error
            raise TypeError("background.run(coroutine) takes no further arguments")
        item: Task = task
    elif callable(task):
        item = functools.partial(task, *args, **kwargs)
    else:
        raise TypeError(
            f"background.run() takes a coroutine or a callable, not {type(task).__name__}"
        )
    if not IN_REQUEST.get():
        discard([item])
        raise RuntimeError("background.run() called outside a request handler")
    pending = PENDING.get()
    if pending is None:
        pending = []
        PENDING.set(pending)
    pending.append(item)


def discard(tasks: list[Task]) -> None:
    """Drop tasks that will never run (their handler raised)."""
    for item in tasks:
        if inspect.iscoroutine(item):
            item.close()


def _name(item: Task) -> str:
    target = item.func if isinstance(item, functools.partial) else item
    return getattr(target, "__qualname__", repr(target))


def start(
    loop: asyncio.AbstractEventLoop, tasks: list[Task], context: contextvars.Context
) -> asyncio.Task[None]:
    """Run ``tasks`` one after another on ``loop``, in ``context``; the Task is returned."""
    return loop.create_task(_run_all(loop, tasks), context=context)


async def _run_all(loop: asyncio.AbstractEventLoop, tasks: list[Task]) -> None:
    for i, item in enumerate(tasks):
        try:
            if isinstance(item, functools.partial):
                if inspect.iscoroutinefunction(item.func):
                    await item()
                else:
                    await loop.run_in_executor(None, contextvars.copy_context().run, item)
            else:
                await item
        except asyncio.CancelledError:
            discard(tasks[i + 1 :])
            raise
        except Exception:
            logger.exception("background task %s failed", _name(item))
