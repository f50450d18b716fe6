"""Network faults on real loopback sockets: bounded time, exit 3, nothing half-stored."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reconcile_tui.sandbox import SandboxConfig
from reconcile_tui.store.db import Store
from reconcile_tui.store.snapshots import load_snapshot
from tests.hostile.misbehaving_server import misbehaving

pytestmark = pytest.mark.slow


def run(
    db: Path, config: Path | None, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reconcile_tui", "--db", str(db)]
    if config is not None:
        command += ["--config", str(config)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFUSE_")}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env={**clean, **env}, timeout=120
    )


def snapshots(db: Path) -> int:
    if not db.exists():
        return 0
    return int(sqlite3.connect(db).execute("SELECT count(*) FROM snapshots").fetchone()[0])


@pytest.fixture
def fast_giving_up(tmp_path: Path) -> Path:
    config = tmp_path / "api.toml"
    config.write_text("[api]\nmax_attempts = 2\nread_timeout = 1\ndeadline = 4\n")
    return config


def test_a_connection_reset_mid_body_is_exit_3_and_stores_nothing(tmp_path, fast_giving_up):
    with misbehaving("reset") as url:
        result = run(
            tmp_path / "b.db",
            fast_giving_up,
            "fetch",
            env={"CRYPTOFUSE_API_URL": url, "CRYPTOFUSE_TOKEN": "tok-123456"},
        )
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert snapshots(tmp_path / "b.db") == 0


def test_a_slow_drip_past_the_deadline_is_exit_3_in_bounded_time(tmp_path, fast_giving_up):
    # The server would drip a byte every 0.1 s for a minute; the command's 4 s deadline
    # must cut it off (the message proves which limit stopped it).
    with misbehaving("drip") as url:
        result = run(
            tmp_path / "b.db",
            fast_giving_up,
            "fetch",
            env={"CRYPTOFUSE_API_URL": url, "CRYPTOFUSE_TOKEN": "tok-123456"},
        )
    assert result.returncode == 3, result.stderr
    assert "gave up after 4 s" in result.stderr
    assert snapshots(tmp_path / "b.db") == 0


def test_a_429_storm_fails_clearly_instead_of_waiting_forever(tmp_path, sandbox_factory):
    sandbox = sandbox_factory(SandboxConfig(fail_always=429, retry_after=3600))
    result = run(
        tmp_path / "b.db",
        None,
        "fetch",
        env={"CRYPTOFUSE_API_URL": sandbox.url, "CRYPTOFUSE_TOKEN": sandbox.token},
    )
    assert result.returncode == 3
    assert "429" in result.stderr
    assert "Retry-After" in result.stderr
    assert snapshots(tmp_path / "b.db") == 0


def test_tokens_renewed_during_a_long_run_keep_it_going(tmp_path, sandbox_factory):
    # Tokens live one second and every request waits 300 ms: renewals happen mid-run.
    sandbox = sandbox_factory(SandboxConfig(token_ttl=1, latency_ms=300, currencies=8))
    env = {
        "CRYPTOFUSE_API_URL": sandbox.url,
        "CRYPTOFUSE_CLIENT_ID": sandbox.client_id,
        "CRYPTOFUSE_CLIENT_SECRET": sandbox.client_secret,
    }
    config = tmp_path / "serial.toml"
    config.write_text("[api]\nconcurrency = 1\n")
    result = run(tmp_path / "b.db", config, "-v", "fetch", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("obtained an access token") >= 2
    assert snapshots(tmp_path / "b.db") == 1


# The child fetches; it kills itself at a chosen SQL statement of the save, or is killed
# from outside at a random moment of the network part.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from reconcile_tui.config import load_settings
    from reconcile_tui.workspace import Workspace

    db, kill_at = sys.argv[1], sys.argv[2]
    workspace = Workspace(load_settings(), db_path=Path(db))
    if kill_at != "-":
        def trace(sql):
            if kill_at in sql:
                os.kill(os.getpid(), signal.SIGKILL)
        workspace.store.conn.set_trace_callback(trace)
    print("fetching", flush=True)
    workspace.fetch(refresh=True)
    print("stored", flush=True)
    """
)


def complete_or_absent(db: Path, currencies: int) -> int:
    with Store(db) as store:
        assert store.integrity_problems() == []
        for (snapshot_id,) in store.query("SELECT id FROM snapshots"):
            held = store.query_one(
                "SELECT count(*) FROM snapshot_histories WHERE snapshot_id = ?", (snapshot_id,)
            )[0]
            balances = len(load_snapshot(store, snapshot_id).balances.balances)
            assert (held, balances) == (currencies, currencies)
        return int(store.query_one("SELECT count(*) FROM snapshots")[0])


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO snapshot_histories", "INSERT INTO snapshot_transactions", "COMMIT"],
)
def test_a_fetch_killed_while_saving_stores_all_of_the_snapshot_or_none(
    tmp_path, sandbox_server, statement
):
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    env = {
        **os.environ,
        "CRYPTOFUSE_API_URL": sandbox_server.url,
        "CRYPTOFUSE_TOKEN": sandbox_server.token,
    }
    db = tmp_path / "b.db"
    Store(db).close()
    result = subprocess.run(
        [sys.executable, str(child), str(db), statement],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert complete_or_absent(db, 5) == 0


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5, 0.9, 1.4])
def test_a_fetch_killed_at_a_random_moment_leaves_a_healthy_database(
    tmp_path, sandbox_factory, delay
):
    sandbox = sandbox_factory(SandboxConfig(latency_ms=150))
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    env = {**os.environ, "CRYPTOFUSE_API_URL": sandbox.url, "CRYPTOFUSE_TOKEN": sandbox.token}
    db = tmp_path / "b.db"
    Store(db).close()
    with subprocess.Popen(
        [sys.executable, str(child), str(db), "-"], stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "fetching"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert complete_or_absent(db, 5) in (0, 1)


def test_a_config_file_with_a_secret_readable_by_others_gets_a_warning(tmp_path, sandbox_server):
    config = tmp_path / "secret.toml"
    config.write_text(f'[api]\nurl = "{sandbox_server.url}"\ntoken = "{sandbox_server.token}"\n')
    config.chmod(0o644)
    loose = run(tmp_path / "b.db", config, "fetch", env={})
    assert loose.returncode == 0, loose.stderr
    assert (
        f"{config} holds a secret and can be read by other users; run: chmod 600 {config}"
        in loose.stderr
    )
    assert sandbox_server.token not in loose.stderr
    config.chmod(0o600)
    tight = run(tmp_path / "b.db", config, "fetch", "--refresh", env={})
    assert tight.returncode == 0
    assert "holds a secret" not in tight.stderr


def test_check_in_ci_needs_only_environment_variables_and_never_prompts(tmp_path, sandbox_server):
    result = subprocess.run(
        [sys.executable, "-m", "reconcile_tui", "--db", str(tmp_path / "b.db"), "check",
         "--format", "json", "--records", "sample_data/merchant.csv"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFUSE_")},
             "CRYPTOFUSE_API_URL": sandbox_server.url, "CRYPTOFUSE_TOKEN": sandbox_server.token},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["status"] == "discrepancies"
