"""Building on a Ray cluster (`ragcli index PATHS --ray [ADDRESS]`, the `ray` extra).

A `RayRunner` is the second executor behind the build's two slow steps: the term-counting tasks of
`indexing.counting` (local processes with `--jobs`) and the embedding chunks of `retrieval.embedder`
(`embed_spread`). Each task is one Ray task; the driver (the `ragcli index` process) merges their
results with the same code as a local build, so the index is the same: ids and BM25 scores byte for
byte, vectors the ones the same batches give.

The driver ships the bytes. It walks the roots, reads and splits every file exactly as a local build
does (`readers/walk.py` stays the one place that opens corpus files, so only regular files inside the
roots are read) and sends passage texts to the workers, which need no access to the files: no shared
file system, and nothing a worker could be made to open. Reading and splitting stay on the driver,
which a local build of 1M passages does in well under two minutes; counting and embedding (nine hours
on this machine's CPU for 1M passages) are what is spread. Only what a build has to compute is sent: on
re-index the unchanged files' passages, counts and vectors are copied from the old index on the driver.

Ray retries a task whose worker died (`max_retries`); a task that still fails, or a cluster that cannot
be reached, stops the build with `ClusterError` (exit 13) before anything is published, so the previous
index stays as it was. Ray is imported here only.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ragcli.errors import ClusterError, InvalidOptionError, MissingExtraError
from ragcli.retrieval.base import Task
from ragcli.terminal_text import first_line

TASK_RETRIES = 3  # a task whose worker or node died is run again this many times
CONNECT_TIMEOUT = 10  # seconds for a cluster's address to answer
GCS_TIMEOUT = 5  # seconds for what answers there to answer as a Ray GCS (a real one: well under one)
GCS_HINT = "is this Ray's GCS port (6379 by default), not the dashboard's?"
JOIN_HINT = (
    "start it with `ray start --head`, or give its address (host:port); a cluster with token "
    "authentication needs its token here too (~/.ray/auth_token or RAY_AUTH_TOKEN)"
)
# auto found an address (RAY_ADDRESS, or the file the last `ray start` wrote) where no Ray runs now
STALE_HINT = "a Ray that ended without `ray stop` leaves its address behind: run `ray stop`, or unset RAY_ADDRESS"
SESSION_HINT = "set RAY_TMPDIR to a short folder that exists (Ray's socket paths must fit in about 100 bytes)"
# Ray's longest socket path below a session folder: session_<date, microseconds>_<pid>/sockets/plasma_store
SOCKET_TAIL = len("/session_2026-01-01_00-00-00_000000_4194304/sockets/plasma_store.99")
SOCKET_PATH_MAX = 103  # bytes in a Unix socket's path: 103 on macOS, 107 on Linux
SESSION_PREFIX = "rr-"  # short: the private Ray's session folder, under Ray's own temporary folder
WINDOW_PER_WORKER = 2  # tasks in flight per worker: the next one is queued while one runs


def _call(fn: Any, args: tuple[Any, ...]) -> Any:
    """A task as a Ray worker runs it: a module-level function of ragcli, pickled by reference."""
    return fn(*args)


class RayRunner:
    """A connection to a Ray cluster that runs a build's tasks on its workers, results in order."""

    def __init__(self, address: str, *, gpu: bool = False) -> None:
        try:
            import ray
        except ImportError:
            raise MissingExtraError("--ray needs Ray", hint="pip install 'ragcli[ray]'") from None
        self.ray = ray
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        if address != "auto":
            _check_reachable(address)
        # auto: the Ray this machine runs, else (None) a private one started for this build
        target = _running_cluster(ray) if address == "auto" else address
        if gpu and target is None:  # a private Ray has this machine's GPUs: none is said before it starts
            from ragcli.retrieval.embedder import check_cuda_here

            check_cuda_here()
        self._temp_dir: str | None = None
        # Ray's driver prints the cluster's error events ("a worker died…", with colour codes) on stdout,
        # whatever log_to_driver says: that would corrupt --json and put control sequences on a terminal.
        # A task lost that way is retried, or fails the build with ClusterError; the events are dropped.
        # (A private hook: the pinned Ray version has it; without it the events would print, no more.)
        self._printer = getattr(ray._private.worker, "print_to_stdstream", None)
        self._auth_env = _use_token(ray._raylet, private=target is None)
        try:  # whatever fails, the private Ray's folder, the hook and the environment are put back
            self._join(target, address)
        except BaseException:
            self.close()
            raise
        resources = ray.cluster_resources()
        self.workers = max(1, int(resources.get("CPU", 1)))
        self.gpus = int(resources.get("GPU", 0))
        self._remote = ray.remote(max_retries=TASK_RETRIES, num_cpus=1)(_call)

    def _join(self, target: str | None, address: str) -> None:
        """Connect to the cluster at `target`, or start a private Ray (None) in a session folder of the
        build's own, removed after: Ray's default is a shared folder it never cleans."""
        ray = self.ray
        if target is None:
            self._temp_dir = _session_folder(ray)
        if self._printer is not None:
            ray._private.worker.print_to_stdstream = _drop_event
        if target is not None:
            self._check_gcs(target, address)
        try:
            ray.init(
                address=target,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                configure_logging=True,
                ignore_reinit_error=True,
                _temp_dir=self._temp_dir,
            )
        except (OSError, RuntimeError, ValueError, ray.exceptions.AuthenticationError) as exc:
            # OSError: ConnectionError, TimeoutError, and OSError itself: a socket path too long (RAY_TMPDIR)
            where = "start a private Ray" if target is None else f"join the Ray cluster at {address}"
            raise ClusterError(
                f"cannot {where}: {first_line(exc)}",
                hint=SESSION_HINT if target is None and type(exc) is OSError else JOIN_HINT,
            ) from None

    def _check_gcs(self, target: str, address: str) -> None:
        """What answers at `target` must be a Ray GCS, asked with a deadline (and token, if any): an open
        port that is not one (the dashboard's, any HTTP server) kept `ray.init` waiting for minutes, its
        C++ core logging each try straight to stderr, which stays silenced meanwhile."""
        raylet = self.ray._raylet
        shorter = _set_env(raylet, {"RAY_gcs_rpc_server_connect_timeout_s": str(GCS_TIMEOUT)})
        try:
            with _stderr_to(os.devnull):
                raylet.InnerGcsClient.standalone(target, None, GCS_TIMEOUT * 1000)
        except self.ray.exceptions.RayError as exc:
            found = f" (found {target})" if address == "auto" else ""
            raise ClusterError(
                f"cannot join the Ray cluster at {address}{found}: it did not answer as a Ray GCS within "
                f"{GCS_TIMEOUT} s ({first_line(exc)})",
                hint=STALE_HINT if address == "auto" else GCS_HINT,
            ) from None
        finally:
            _restore_env(raylet, shorter)

    def check_gpus(self) -> None:
        """`--device cuda` on a cluster: its workers must have GPUs (checked before any work)."""
        if self.gpus == 0:
            raise InvalidOptionError("--device cuda: the Ray cluster has no GPU", hint="embed with --device cpu")

    def run(self, tasks: Iterable[Task], *, gpu: bool = False) -> Iterator[Any]:
        """Each task as a Ray task, a bounded number in flight (the tasks are produced lazily: the
        driver reads the next files while the workers count), results in the order of the tasks."""
        ray = self.ray
        remote = self._remote.options(num_gpus=1, num_cpus=0) if gpu else self._remote
        window = WINDOW_PER_WORKER * (max(1, self.gpus) if gpu else self.workers)
        pending: deque[Any] = deque()
        try:
            for fn, args in tasks:
                pending.append(remote.remote(fn, args))
                if len(pending) >= window:
                    yield self._get(pending.popleft())
            while pending:
                yield self._get(pending.popleft())
        finally:
            for ref in pending:  # an error or Ctrl-C: what was queued is not left running
                ray.cancel(ref, force=True)

    def _get(self, ref: Any) -> Any:
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, (MemoryError, OSError)) or not isinstance(cause, Exception):
                raise ClusterError(f"a Ray task failed on a worker: {first_line(cause or exc)}") from None
            # ragcli's own errors (a model that cannot load) keep their exit code; anything else is a bug
            raise cause from None
        except ray.exceptions.RayError as exc:  # a worker or node lost more often than the retries
            raise ClusterError(
                f"the Ray cluster lost a task after {TASK_RETRIES} retries: {first_line(exc)}",
                hint="the previous index is unchanged; run the build again",
            ) from None

    def close(self) -> None:
        """Disconnect (a cluster joined goes on running; a local Ray this build started stops)."""
        self.ray.shutdown()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
        if self._printer is not None:
            self.ray._private.worker.print_to_stdstream = self._printer
        _restore_env(self.ray._raylet, self._auth_env)


def _session_folder(ray: Any) -> str:
    """A new folder for a private Ray's session, under the folder Ray itself uses (RAY_TMPDIR, else
    TMPDIR on Linux, /tmp on macOS), or under /tmp where Ray's socket paths would not fit below it (a
    deep TMPDIR: Ray failed there). An explicit RAY_TMPDIR is the user's: kept, and said if too deep."""
    base = ray._common.utils.get_default_system_temp_dir()
    deepest = len(os.fsencode(base)) + len(f"/{SESSION_PREFIX}") + 8 + SOCKET_TAIL  # mkdtemp adds 8
    if "RAY_TMPDIR" not in os.environ and deepest > SOCKET_PATH_MAX:
        base = "/tmp"
    try:
        return tempfile.mkdtemp(prefix=SESSION_PREFIX, dir=base)
    except OSError as exc:
        raise ClusterError(
            f"cannot start a private Ray: {base}: {exc.strerror or type(exc).__name__}", hint=SESSION_HINT
        ) from None


def _running_cluster(ray: Any) -> str | None:
    """The address of the Ray this machine runs (RAY_ADDRESS, or the last `ray start`), as `ray.init()`
    finds it; None: none runs."""
    return ray._private.services.canonicalize_bootstrap_address(None)  # type: ignore[no-any-return]


def _use_token(raylet: Any, *, private: bool) -> dict[str, str | None]:
    """Token authentication as the cluster needs it, set in this process's environment (Ray reads it
    there; a private Ray's processes inherit it). Returns the variables' previous values.

    Joining: a token this machine has (~/.ray/auth_token, RAY_AUTH_TOKEN) is presented, as Ray does only
    for a cluster it found itself; a cluster without authentication accepts it too. A private Ray gets a
    token that lives in memory only: Ray would write ~/.ray/auth_token, which turns token authentication
    on for every later `ray start --head` on this machine, whose clusters ragcli then could not join.
    An explicit RAY_AUTH_MODE is the user's choice and left alone."""
    if "RAY_AUTH_MODE" in os.environ:
        return {}
    loader = raylet.AuthenticationTokenLoader.instance()
    wanted = {"RAY_AUTH_MODE": "token"}
    if not loader.has_token(ignore_auth_mode=True):
        if not private:
            return {}
        wanted["RAY_AUTH_TOKEN"] = secrets.token_hex(16)
    return _set_env(raylet, wanted)


def _set_env(raylet: Any, wanted: dict[str, str]) -> dict[str, str | None]:
    """Ray's settings from `wanted` environment variables, read again now (Ray caches its settings, the
    authentication mode among them). Returns the variables' previous values, for `_restore_env`."""
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    raylet.Config.initialize("")
    raylet.AuthenticationTokenLoader.instance().reset_cache()
    return previous


def _restore_env(raylet: Any, previous: dict[str, str | None]) -> None:
    """The environment as it was before `_set_env` (a library caller's later Ray is not changed)."""
    if not previous:
        return
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    raylet.Config.initialize("")
    raylet.AuthenticationTokenLoader.instance().reset_cache()


@contextmanager
def _stderr_to(path: str) -> Iterator[None]:
    """File descriptor 2 sent to `path` meanwhile: Ray's C++ core logs there directly, past sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _drop_event(data: Any, ignore_prefix: bool) -> None:
    """Where the cluster's error events go while ragcli is the driver: nowhere (see RayRunner)."""


def _check_reachable(address: str) -> None:
    """A cluster address (host:port) that does not answer fails in seconds: Ray itself keeps retrying
    for minutes, logging each try."""
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(
            f"cannot join the Ray cluster at {address}: {exc.strerror or type(exc).__name__}",
            hint="start it with `ray start --head`, or give its address (host:port)",
        ) from None


def _host_port(address: str) -> tuple[str, int]:
    """The host and port of `host:port` or `[IPv6]:port`. Anything else is a usage error before any
    work: a scheme (`http://`) or a host with colons went on to a DNS look-up, and `ray://` (Ray Client)
    needs `ray[client]`, which the `ray` extra does not install."""
    if address.startswith("ray://"):
        raise InvalidOptionError(
            f"--ray {address!r}: Ray Client addresses (ray://) are not supported",
            hint="give the cluster's GCS address, host:port (port 6379 by default)",
        )
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # a scheme or an IPv6 address without brackets
    if not host or not port.isdigit() or not 0 < int(port) < 65536:  # port 99999 was "connection refused"
        raise InvalidOptionError(f"--ray {address!r}: not auto or a host:port address", hint="e.g. --ray 10.0.0.5:6379")
    return host, int(port)
