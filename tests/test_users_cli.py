"""`moderation users create`: a short password is refused before it is asked a
second time, and scripts may pass it by option or environment."""
from __future__ import annotations

from typer.testing import CliRunner

from moderation_service.cli import app


def _users(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MODERATION_NEW_USER_PASSWORD", raising=False)
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)


def test_a_short_password_is_refused_before_the_confirmation(tmp_path, monkeypatch):
    _users(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["users", "create", "--username", "alice"],
                                input="short\nlong enough 1\nlong enough 1\n")
    assert result.exit_code == 0, result.output
    prompts = result.output.split("Password (at least 10 characters): ")
    assert len(prompts) == 3, result.output  # asked, refused, asked again
    assert "invalid" in prompts[1] and "Repeat for confirmation" not in prompts[1]
    assert result.output.count("Repeat for confirmation") == 1
    assert "created reviewer alice" in result.output


def test_the_password_by_option_or_environment(tmp_path, monkeypatch):
    _users(tmp_path, monkeypatch)
    runner = CliRunner()
    short = runner.invoke(app, ["users", "create", "--username", "bob", "--password", "short"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    by_option = runner.invoke(app, ["users", "create", "--username", "bob", "--password", "long enough 2"])
    assert by_option.exit_code == 0, by_option.output
    monkeypatch.setenv("MODERATION_NEW_USER_PASSWORD", "long enough 3")
    by_env = runner.invoke(app, ["users", "create", "--username", "carol", "--role", "senior"])
    assert by_env.exit_code == 0 and "created senior carol" in by_env.output
    listed = runner.invoke(app, ["users", "list"]).output
    assert "bob\treviewer" in listed and "carol\tsenior" in listed
