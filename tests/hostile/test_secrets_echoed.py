"""Secrets through the CLI against a real loopback gateway: refused when unusable, and
masked in every form wherever a gateway echoes them (stdout, stderr, database, reports)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.hostile.scripted_gateway import scripted_gateway

pytestmark = pytest.mark.slow

TOKEN = "tok-Echo/Me+Please=9931xyz"
CLIENT_ID = "merchant-echo"
SECRET = "sec-Echo/Back+Secret=7720abc"


def forms(secret: str, client_id: str | None = None) -> list[str]:
    """Every form a secret can travel in that the product must never show."""
    found = [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]]
    if client_id is not None:
        for pair in (f"{client_id}:{secret}", f"{quote_plus(client_id)}:{quote_plus(secret)}"):
            encoded = base64.b64encode(pair.encode()).decode()
            found += [encoded, encoded.rstrip("=")]
    return found


def run(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFUSE_")}
    command = [sys.executable, "-m", "reconcile_tui", "--db", str(tmp_path / "r.db"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env={**clean, **env}, timeout=120
    )


def everything_written(tmp_path: Path, result: subprocess.CompletedProcess[str]) -> str:
    """stdout, stderr and every file the run left behind (database, reports), as text."""
    texts = [result.stdout, result.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRYPTOFUSE_TOKEN", TOKEN + "\n"),
        ("CRYPTOFUSE_TOKEN", TOKEN + " tail"),
        ("CRYPTOFUSE_CLIENT_SECRET", SECRET + "\x1b[2J"),
        ("CRYPTOFUSE_CLIENT_ID", CLIENT_ID + "\r"),
    ],
)
def test_a_secret_with_control_characters_is_refused_naming_the_variable_not_the_value(
    tmp_path, variable, value
):
    env = {
        "CRYPTOFUSE_API_URL": "http://127.0.0.1:9",
        "CRYPTOFUSE_CLIENT_ID": CLIENT_ID,
        "CRYPTOFUSE_CLIENT_SECRET": SECRET,
        variable: value,
    }
    result = run(tmp_path, "fetch", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert variable in result.stderr
    assert value.strip()[:12] not in result.stderr


def echo_authorization(status: int):
    def answer(headers, query):
        body = {
            "error": {
                "code": "authentication_failed",
                "message": f"bad header {headers.get('authorization', '')!r}",
                "details": {"authorization": headers.get("authorization", "")},
            }
        }
        return status, json.dumps(body).encode()

    return answer


@pytest.mark.parametrize("status", [401, 403])
def test_a_gateway_echoing_the_bearer_token_shows_it_nowhere(tmp_path, status):
    with scripted_gateway({"/user/balances/": echo_authorization(status)}) as url:
        result = run(
            tmp_path,
            "-vv",
            "check",
            "--output",
            str(tmp_path / "report.json"),
            env={"CRYPTOFUSE_API_URL": url, "CRYPTOFUSE_TOKEN": TOKEN},
        )
    assert result.returncode == 3, result.stderr
    assert "error: the gateway" in result.stderr
    assert "********" in result.stderr  # the echo is there, masked
    written = everything_written(tmp_path, result)
    for form in forms(TOKEN):
        assert form not in written


def test_a_token_endpoint_echoing_the_basic_header_shows_neither_secret_nor_its_base64(
    tmp_path,
):
    def echo_basic(headers, query):
        header = headers.get("authorization", "")
        body = {"error": "invalid_client", "error_description": f"refused {header}"}
        return 401, json.dumps(body).encode()

    with scripted_gateway({"/o/token/": echo_basic}) as url:
        result = run(
            tmp_path,
            "-vv",
            "fetch",
            env={
                "CRYPTOFUSE_API_URL": url,
                "CRYPTOFUSE_CLIENT_ID": CLIENT_ID,
                "CRYPTOFUSE_CLIENT_SECRET": SECRET,
            },
        )
    assert result.returncode == 3, result.stderr
    assert "authentication failed: refused Basic ********" in result.stderr
    written = everything_written(tmp_path, result)
    for form in forms(SECRET, CLIENT_ID):
        assert form not in written


def test_an_issued_token_echoed_in_a_successful_body_is_stored_and_reported_masked(tmp_path):
    # A careless gateway names the wallet after the request's Authorization header: the
    # run succeeds, and neither the database nor the report holds the token.
    def balances(headers, query):
        data = json.loads(
            (Path(__file__).parents[1] / "fixtures/api_page/balances.json").read_text()
        )
        data["balances"][0]["wallets"][0]["wallet_name"] = headers.get("authorization", "")
        return 200, json.dumps(data).encode()

    report = tmp_path / "report.json"
    with scripted_gateway({"/user/balances/": balances}) as url:
        result = run(
            tmp_path,
            "check",
            "--fail-on",
            "never",
            "--format",
            "json",
            "--output",
            str(report),
            env={
                "CRYPTOFUSE_API_URL": url,
                "CRYPTOFUSE_CLIENT_ID": CLIENT_ID,
                "CRYPTOFUSE_CLIENT_SECRET": SECRET,
            },
        )
    assert result.returncode == 0, result.stderr
    assert report.exists()
    written = everything_written(tmp_path, result)
    for form in forms("issued-TOKEN-5521-abcdef") + forms(SECRET, CLIENT_ID):
        assert form not in written


def test_a_password_in_the_gateways_url_is_neither_printed_nor_stored(tmp_path):
    # `fetch` printed `snapshot #1 from http://user:pAssW0rd@…`, the snapshot kept it, and
    # `export` wrote it out; only `check`'s report masked it.
    def balances(headers, query):
        return 200, (Path(__file__).parents[1] / "fixtures/api_page/balances.json").read_bytes()

    with scripted_gateway({"/user/balances/": balances}) as url:
        with_password = url.replace("http://", "http://teller:pW7q-Xdistinct@", 1)
        env = {"CRYPTOFUSE_API_URL": with_password, "CRYPTOFUSE_TOKEN": TOKEN}
        fetched = run(tmp_path, "fetch", env=env)
        again = run(tmp_path, "fetch", env=env)  # from the cache: the same masked URL
        checked = run(tmp_path, "check", "--offline", "--fail-on", "never", env=env)
        exported = run(tmp_path, "export", "--output", str(tmp_path / "out.json"), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "http://teller:********@" in fetched.stdout
    assert "(cached, " in again.stdout
    assert (checked.returncode, exported.returncode) == (0, 0)
    for result in (fetched, again, checked, exported):
        assert "pW7q-Xdistinct" not in everything_written(tmp_path, result)
