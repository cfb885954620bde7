"""``bastion token`` and ``bastion db``: the whole flow on both backends, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bastion.auth import Permission, TokenStore
from bastion.cli.tokens import db_app, token_app
from bastion.store import Database

#: The newest migration shipped (the tests follow new migrations without edits).
HEAD = Database("sqlite://").head_revision()

app = typer.Typer()
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")


def run(url: str | None, *args: str, config: Path | None = None) -> tuple[int, str, str]:
    env = {"BASTION_DATABASE_URL": url, "BASTION_CONFIG": None}
    argv = list(args) + (["--config", str(config)] if config else [])
    result = CliRunner().invoke(app, argv, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_create_list_revoke(database_url: str) -> None:
    code, out, err = run(
        database_url, "token", "create", "--name", "shop", "--role", "site_owner",
        "--zone", "Shop.Example", "--zone", "blog.example", "--rate-limit", "25",
        "--expires-days", "30",
    )  # fmt: skip
    assert code == 0, err
    token = out.split("token: ")[1].split()[0]
    token_id = out.split("id:")[1].split()[0]
    assert "not shown again" in err and token not in err

    db = Database(database_url)
    principal = TokenStore(db).authenticate(token)
    assert principal is not None and principal.token_id == token_id
    assert principal.zones == {"shop.example", "blog.example"} and principal.rate_limit == 25
    assert principal.has(Permission.WAF_SCORE, "shop.example")

    code, out, _ = run(database_url, "token", "list")
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["ID", "NAME", "ROLES"]
    assert token_id in out and "blog.example,shop.example" in out and "active" in out
    assert token not in out and token.rsplit("_", 1)[1] not in out

    code, out, _ = run(database_url, "token", "revoke", token_id)
    assert (code, out.strip()) == (0, f"revoked token {token_id}")
    assert TokenStore(db).authenticate(token) is None
    code, out, _ = run(database_url, "token", "revoke", token_id)
    assert (code, out.strip()) == (0, f"token {token_id} was already revoked")

    code, out, _ = run(database_url, "token", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["id"] == token_id and listed["status"] == "revoked"
    code, out, err = run(database_url, "token", "list", "--active")
    assert (code, out) == (0, "") and "no tokens" in err
    db.dispose()


def test_create_migrates_an_empty_database_and_prints_json(database_url: str) -> None:
    code, out, _ = run(database_url, "db", "current")
    assert code == 0 and out.startswith("none (empty database")
    code, out, err = run(database_url, "token", "create", "--name", "ci", "--role", "ingest",
                         "--role", "analyst", "--json")  # fmt: skip
    assert code == 0, err
    created = json.loads(out)
    assert created["token"].startswith(f"bst_{created['id']}_")
    assert created["roles"] == ["analyst", "ingest"] and created["created_by"] == "cli"
    code, out, _ = run(database_url, "db", "current")
    assert (code, out.strip()) == (0, f"{HEAD} (head)")


def test_db_upgrade_with_a_config_file(tmp_path: Path) -> None:
    db_path = tmp_path / "cfg.db"
    config = tmp_path / "bastion.toml"
    config.write_text(f'database_url = "sqlite:///{db_path}"\n')
    code, out, err = run(None, "db", "upgrade", config=config)
    assert code == 0, err
    assert out.strip() == f"database sqlite:///{db_path} is at revision {HEAD} (head)"
    assert Database(f"sqlite:///{db_path}").current_revision() == HEAD
    code, out, _ = run(None, "db", "upgrade", config=config)  # idempotent
    assert code == 0


def _error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bastion: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--role", "root"], "unknown role 'root'"),
        (["--name", "x", "--role", "site_owner"], "needs at least one zone"),
        (["--name", " ", "--role", "admin"], "non-empty name"),
        (["--name", "x", "--role", "admin", "--rate-limit", "-3"], "rate limit"),
        (["--name", "x", "--role", "admin", "--expires-days", "0"], "--expires-days"),
        (["--name", "x", "--role", "site_owner", "--zone", "a:80"], "not a hostname"),
    ],
)
def test_bad_requests_are_one_line_and_touch_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db_path = tmp_path / "never.db"
    line = _error(*run(f"sqlite:///{db_path}", "token", "create", *args))
    assert message in line
    assert not db_path.exists()


def test_unreachable_database_is_one_line() -> None:
    line = _error(*run("postgresql://postgres:secret@127.0.0.1:1/x", "token", "list"))
    assert "database" in line and "Connection refused" in line and "secret" not in line
    line = _error(*run("postgresql://postgres@127.0.0.1:1/x", "db", "upgrade"))
    assert "Connection refused" in line


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    assert "database_url" in _error(*run("mysql://x/y", "token", "list"))
    assert "does not exist" in _error(*run(None, "db", "current", config=tmp_path / "nope.toml"))


def test_missing_or_empty_database(tmp_path: Path, postgres_url: str) -> None:
    missing = tmp_path / "missing.db"
    assert "does not exist" in _error(*run(f"sqlite:///{missing}", "token", "list"))
    assert not missing.exists()
    assert "db upgrade" in _error(*run(postgres_url, "token", "revoke", "0123456789abcdef"))


def test_unknown_token_id(database_url: str) -> None:
    run(database_url, "db", "upgrade")
    assert "no token with id" in _error(*run(database_url, "token", "revoke", "feedfacefeedface"))
