"""Where a tournament's matches run: sequentially, on local processes (loky), on a Dask or a Ray cluster.

:func:`open_backend` checks and connects the backend *before* the tournament writes anything (a missing Ray,
an unreachable Dask scheduler or ``--n-jobs 0`` is a ``ValueError`` naming the fix), and yields a function
``run(fn, tasks)`` that yields ``fn(*task)`` for every task as results finish (any order).

Plugins. :func:`import_plugins` imports user modules (``--import MODULE``) so their ``register_learner`` /
``register`` calls take effect; the tournament's task function calls it first in every worker, on every
backend, so a rule or game defined in the user's module is known wherever a match runs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

BACKENDS = ("loky", "dask", "ray", "sequential")


def import_plugins(modules: tuple[str, ...] | list[str]) -> None:
    """Import every module in ``modules`` (already imported ones are not run again)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(
                f"cannot import plugin module {name!r} (--import): {exc}; check the name and that its folder is on "
                "PYTHONPATH (or install it)"
            ) from None


def workers(n_jobs: int) -> int:
    """Worker count for ``--n-jobs`` (joblib's convention: −1 = every core, −2 = all but one, ...)."""
    cores = os.cpu_count() or 1
    count = n_jobs if n_jobs > 0 else cores + 1 + n_jobs
    if n_jobs == 0 or count < 1:
        raise ValueError(
            f"--n-jobs {n_jobs} leaves no worker: pass a positive number of workers, or -1 for all {cores} cores"
        )
    return count


@contextmanager
def open_backend(backend: str, n_jobs: int = -1, address: str | None = None) -> Iterator[Callable[..., Iterator]]:
    """A checked, connected backend as ``run(fn, tasks)``; the cluster (if one was started) closes on exit."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    n = workers(n_jobs)
    if backend == "sequential":
        yield lambda fn, tasks: (fn(*t) for t in tasks)
    elif backend == "loky":
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n, backend="loky", return_as="generator_unordered")
        yield lambda fn, tasks: parallel(delayed(fn)(*t) for t in tasks)
    elif backend == "dask":
        with _dask_client(n, address) as client:
            yield lambda fn, tasks: _dask_results(client, fn, tasks)
    else:
        with _ray_session(address) as ray:
            yield lambda fn, tasks: _ray_results(ray, fn, tasks)


def run_tasks(
    fn: Callable[..., Any],
    tasks: list[tuple],
    backend: str = "loky",
    n_jobs: int = -1,
    address: str | None = None,
) -> Iterator[Any]:
    """Run ``fn(*task)`` for every task on ``backend``, yielding results as they finish (any order)."""
    if not tasks:
        return
    with open_backend(backend, n_jobs, address) as run:
        yield from run(fn, tasks)


@contextmanager
def _dask_client(n: int, address: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(
            "--backend dask needs dask[distributed], which is not installed: pip install 'stackenv[dask]'"
        ) from None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        address = cluster.scheduler_address
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ValueError(
            f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}): start it (dask scheduler) and "
            "its workers, or drop --address for a local cluster"
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_results(client, fn, tasks):
    from dask.distributed import as_completed

    for fut in as_completed([client.submit(fn, *t, pure=False) for t in tasks]):
        yield fut.result()


@contextmanager
def _ray_session(address: str | None):
    try:
        import ray
    except ImportError:
        raise ValueError("--backend ray needs Ray, which is not installed: pip install 'stackenv[ray]'") from None
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        except (ConnectionError, RuntimeError) as exc:
            raise ValueError(f"cannot start or reach Ray at {address or 'a local runtime'}: {exc}") from None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _ray_results(ray, fn, tasks):
    remote = ray.remote(fn)
    pending = [remote.remote(*t) for t in tasks]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])
