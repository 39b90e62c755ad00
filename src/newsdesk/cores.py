"""How the desk shares the machine's cores between its own work and the entity workers."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext


def one_blas_thread() -> AbstractContextManager:
    """Returns a context in which BLAS libraries use one thread (a no-op without threadpoolctl).

    The stages multiply small matrices, where more threads only cost: OpenBLAS's threads spin
    while they wait, taking the cores the entity workers read on.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
