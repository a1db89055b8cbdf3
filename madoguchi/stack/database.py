"""The database the stack runs with: the project-local cluster, or an external server named by
config ``[database] url`` or ``DATABASE_URL``.

Usage from a shell: ``python -m madoguchi.stack.database start|stop|status [VAR_DIR] [PORT]``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from madoguchi.stack.pg_tools import ClusterError
from madoguchi.stack.postgres import DEFAULT_PORT, LocalCluster


@dataclass(frozen=True, slots=True)
class Database:
    """The database the service uses: a local cluster we manage, or an external server."""

    dsn: str
    display_dsn: str
    cluster: LocalCluster | None

    def stop(self) -> None:
        """Stop the local cluster; an external server (DATABASE_URL) is left alone."""
        if self.cluster is not None:
            self.cluster.stop()


def start_database(
    var_dir: Path,
    *,
    port: int = DEFAULT_PORT,
    url: str | None = None,
    timeout: float = 60.0,
) -> Database:
    """Entry point for the stack runner.

    ``url`` (e.g. config ``[database] url``) wins, then the ``DATABASE_URL`` environment variable;
    when both are empty, the local cluster in ``var_dir/pg`` is initialised/started on ``port``.
    """
    external = url or os.environ.get("DATABASE_URL") or ""
    if external:
        return Database(dsn=external, display_dsn=_mask_password(external), cluster=None)
    cluster = LocalCluster(Path(var_dir) / "pg", port=port)
    dsn = cluster.start(timeout=timeout)
    return Database(dsn=dsn, display_dsn=cluster.display_dsn, cluster=cluster)


def configured_dsn(var_dir: Path, *, port: int = DEFAULT_PORT, url: str | None = None) -> str:
    """The DSN ``start_database`` would use, without starting anything (for CLI tools).

    Raises ClusterError when the local cluster was never initialised.
    """
    external = url or os.environ.get("DATABASE_URL") or ""
    return external or LocalCluster(Path(var_dir) / "pg", port=port).dsn


def _mask_password(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in {"start", "stop", "status"}:
        print(
            "usage: python -m madoguchi.stack.database start|stop|status [VAR_DIR] [PORT]",
            file=sys.stderr,
        )
        return 2
    var_dir = Path(args[1]) if len(args) > 1 else Path("var")
    port = int(args[2]) if len(args) > 2 else DEFAULT_PORT
    cluster = LocalCluster(var_dir / "pg", port=port)
    try:
        if args[0] == "start":
            cluster.start()
            print(f"PostgreSQL running: {cluster.display_dsn}")
        elif args[0] == "stop":
            cluster.stop()
            print("PostgreSQL stopped")
        else:
            status = cluster.status()
            print(f"{status.state}: {status.detail}")
            return 0 if status.state == "running" else 3
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
