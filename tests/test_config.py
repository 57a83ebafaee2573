"""Configuration: production refuses to start without its secrets; development makes its own."""
import json
import stat

import pytest

from config import ConfigError, DevelopmentConfig, ProductionConfig, development_secrets


def test_production_refuses_to_start_without_keys(monkeypatch):
    for name in ("SECRET_KEY", "MARAC_KEK", "MARAC_AUDIT_KEY", "DATABASE_URL", "MARAC_KEK_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as error:
        ProductionConfig.load()
    for name in ("SECRET_KEY", "MARAC_KEK", "MARAC_AUDIT_KEY", "DATABASE_URL"):
        assert name in str(error.value)


def test_production_create_app_fails_too(monkeypatch):
    from marac import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MARAC_ENV", "production")
    with pytest.raises(ConfigError):
        create_app()


def test_production_with_everything_set(monkeypatch, tmp_path):
    kek_file = tmp_path / "kek"
    kek_file.write_text("A" * 43 + "=")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MARAC_KEK_FILE", str(kek_file))
    monkeypatch.delenv("MARAC_KEK", raising=False)
    monkeypatch.setenv("MARAC_AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.invalid/marac")
    settings = ProductionConfig.load()
    assert settings["MARAC_KEK"] == "A" * 43 + "="
    assert settings["MFA_REQUIRED"] is True and settings["SESSION_COOKIE_SECURE"] is True and settings["HSTS"]


def test_development_generates_private_secrets(tmp_path):
    values = development_secrets(tmp_path)
    path = tmp_path / "dev-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(values) == {"SECRET_KEY", "MARAC_KEK", "MARAC_AUDIT_KEY"}
    assert development_secrets(tmp_path) == values == json.loads(path.read_text())
    assert development_secrets(tmp_path / "other") != values


def test_development_defaults_to_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = DevelopmentConfig.load()
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and "instance" in settings["SQLALCHEMY_DATABASE_URI"]
