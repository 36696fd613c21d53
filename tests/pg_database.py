"""A fresh PostgreSQL database for a suite's server, when `cargo xtask test`
runs the suite on PostgreSQL (RUNLORE_SUITE_DB=postgres): made with the
throwaway cluster's own `createdb`, so the suites need no driver. Each
server gets a database of its own, as each SQLite server gets a data dir.
"""

import itertools
import os
import subprocess
import urllib.parse
from pathlib import Path

_COUNTER = itertools.count()


def server_db_args():
    """`["--db", URL]` for a fresh database, or `[]` on SQLite."""
    if os.environ.get("RUNLORE_SUITE_DB") != "postgres":
        return []
    admin = urllib.parse.urlsplit(os.environ["RUNLORE_TEST_POSTGRES_URL"])
    name = f"suite_{os.getpid()}_{next(_COUNTER)}"
    createdb = Path(os.environ["RUNLORE_TEST_PG_BIN"]) / "createdb"
    subprocess.run(
        [str(createdb), "-h", admin.hostname, "-p", str(admin.port), "-U", admin.username, name],
        check=True,
        timeout=60,
    )
    return ["--db", admin._replace(path=f"/{name}").geturl()]
