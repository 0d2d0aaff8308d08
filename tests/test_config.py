"""The configuration file: the example is valid, and every problem is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config
from bot.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.load(str(path), env=env or {})
    return info.value.problems


def test_the_example_file_is_valid_and_documents_every_key():
    settings = config.load(str(EXAMPLE), env={})
    assert settings.matrix.user_id == "@mentorbot:example.org"
    assert settings.program.council == ["@cy:example.org"]
    assert settings.storage.url == "sqlite+aiosqlite:///mentorbot.db"
    text = EXAMPLE.read_text()
    for section, cls in config.SECTIONS.items():
        for name in cls.__dataclass_fields__:
            assert f"\n{name} = " in text, f"[{section}] {name} is not in config.example.toml"


def test_without_a_file_the_shell_runs_on_the_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config.ENV_CONFIG, raising=False)
    settings = config.load(None, env={})
    assert settings.matrix is None and settings.discourse is None
    assert settings.storage.url == "sqlite+aiosqlite:///mentorbot.db"
    assert settings.program.commitment_months == 12
    assert settings.program.checkin_every_months == 12
    assert settings.program.new_mentee_checkin_every_months == 3
    assert settings.program.followup_days == 30
    assert settings.program.max_group_size == 5


def test_config_path_comes_from_the_flag_then_the_environment_then_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, '[program]\nname = "from cwd"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[program]\nname = "from env"\n')
    flag_file = tmp_path / "flag.toml"
    flag_file.write_text('[program]\nname = "from flag"\n')
    monkeypatch.delenv(config.ENV_CONFIG, raising=False)
    assert config.load(None).program.name == "from cwd"
    monkeypatch.setenv(config.ENV_CONFIG, str(env_file))
    assert config.load(None).program.name == "from env"
    assert config.load(str(flag_file)).program.name == "from flag"


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path):
    found = problems(tmp_path / "nope.toml")
    assert "nope.toml" in found[0] and "not found" in found[0]


def test_every_problem_names_file_section_and_key(tmp_path):
    path = write(
        tmp_path,
        """
[matrix]
homeserver = "matrix.example.org"
user_id = "mentorbot"
password = "pw"
mentors_room = "#mentors:example.org"
colour = "blue"

[program]
timezone = "Mars/Olympus"
commitment_months = "twelve"
council = ["@cy:example.org", "cy"]

[discourse]
url = "https://forum.example.org"
api_username = "bot"
""",
    )
    found = problems(path)
    text = "\n".join(found)
    assert f"{path}: [matrix] homeserver: bad URL 'matrix.example.org'" in text
    assert f"{path}: [matrix] user_id: bad Matrix ID 'mentorbot'" in text
    assert f"{path}: [matrix] colour: unknown key" in text
    assert f"{path}: [program] timezone: unknown time zone 'Mars/Olympus'" in text
    assert f"{path}: [program] commitment_months: wrong type: expected a whole number, got 'twelve'" in text
    assert f"{path}: [program] council: bad Matrix ID 'cy'" in text
    assert f"{path}: [discourse] api_key: missing key (or set MENTORBOT_DISCOURSE_API_KEY)" in text
    assert f"{path}: [discourse] announcements_category: missing key" in text
    assert f"{path}: [matrix] council_room: missing key" in text
    assert len(found) == 9, found


def test_unknown_section_and_invalid_toml(tmp_path):
    assert "[matrx]: unknown section" in problems(write(tmp_path, "[matrx]\nx = 1\n"))[0]
    assert "not valid TOML" in problems(write(tmp_path, "[program\nname = 1\n"))[0]


def test_matrix_needs_a_password_or_an_access_token(tmp_path):
    path = write(
        tmp_path,
        '[matrix]\nhomeserver = "https://m.example.org"\nuser_id = "@bot:example.org"\n'
        'mentors_room = "#mentors:example.org"\ncouncil_room = "#council:example.org"\n',
    )
    assert any("password / access_token: missing key" in p for p in problems(path))
    settings = config.load(str(path), env={"MENTORBOT_MATRIX_PASSWORD": "hunter2-from-env"})
    assert settings.matrix.password == "hunter2-from-env"


def test_secrets_come_from_the_environment_and_are_masked_in_the_summary(tmp_path):
    env = {
        "MENTORBOT_MATRIX_ACCESS_TOKEN": "syt_very_secret_token",
        "MENTORBOT_DISCOURSE_API_KEY": "discourse-secret-key",
    }
    settings = config.load(str(EXAMPLE), env=env)
    assert settings.matrix.access_token == "syt_very_secret_token"
    assert settings.discourse.api_key == "discourse-secret-key"
    summary = "\n".join(config.summary(settings))
    assert "syt_very_secret_token" not in summary and "discourse-secret-key" not in summary
    assert "access_token = ****** (from environment MENTORBOT_MATRIX_ACCESS_TOKEN)" in summary
    assert "password = (not set)" in summary


def test_a_database_password_is_masked(tmp_path):
    path = write(tmp_path, '[storage]\nurl = "postgresql+asyncpg://bot:s3cret@db.example.org/mentorbot"\n')
    summary = "\n".join(config.summary(config.load(str(path), env={})))
    assert "s3cret" not in summary and "postgresql+asyncpg://bot:***@db.example.org/mentorbot" in summary


@pytest.mark.parametrize("password", ["pa/ss:word", "pa%2Fss%3Aw%40rd", "p@ss/w:rd"])
def test_a_database_password_with_any_characters_is_never_shown(tmp_path, password):
    url = f"postgresql+asyncpg://bot:{password}@db.example.org/mentorbot"
    shown = config.mask_db_url(url)
    assert "ss" not in shown and "rd" not in shown and "word" not in shown, shown
    assert shown.endswith("@db.example.org/mentorbot")
    if "@" in password:  # not a URL SQLAlchemy reads as meant: refused, and still not shown
        found = problems(write(tmp_path, f'[storage]\nurl = "{url}"\n'))
        assert any("the user name or password holds an @; write it as %40" in p for p in found), found
        assert not any("ss/w" in p for p in found)


def test_the_database_url_can_come_from_the_environment(tmp_path):
    path = write(tmp_path, '[program]\nname = "x"\n')
    url = "postgresql+asyncpg://bot:env-s3cret@db.example.org/mentorbot"
    settings = config.load(str(path), env={"MENTORBOT_STORAGE_URL": url})
    assert settings.storage.url == url
    summary = "\n".join(config.summary(settings))
    assert "env-s3cret" not in summary
    assert "url = postgresql+asyncpg://bot:***@db.example.org/mentorbot (from environment MENTORBOT_STORAGE_URL)" \
        in summary
    found = problems(path, env={"MENTORBOT_STORAGE_URL": "mysql://bot:env-s3cret@x/y"})
    assert any(p.startswith("environment MENTORBOT_STORAGE_URL: unsupported database URL") for p in found), found
    assert not any("env-s3cret" in p for p in found)


def test_without_discourse_the_summary_says_what_that_means(tmp_path):
    path = write(tmp_path, '[program]\nname = "x"\n')
    summary = "\n".join(config.summary(config.load(str(path), env={})))
    assert "[discourse] not configured: announcements reach Matrix only and the Discourse relay is off" in summary


def test_a_mistyped_secret_is_never_echoed(tmp_path):
    path = write(tmp_path, '[matrix]\npassword = 123456789\n[discourse]\napi_key = ["sk-live-SECRET"]\n')
    text = "\n".join(problems(path))
    assert "123456789" not in text and "sk-live-SECRET" not in text
    assert "[matrix] password: wrong type: expected a string" in text


def test_database_urls_are_checked_without_showing_the_password(tmp_path):
    cases = {
        "postgres//bot:s3cret@db/x": "bad database URL",
        "sqlite:///x.db": "unsupported database URL 'sqlite:///x.db': use sqlite+aiosqlite:///mentorbot.db",
        "mysql+aiomysql://bot:s3cret@db/x": "unsupported database URL 'mysql+aiomysql://bot:***@db/x'",
        "sqlite+aiosqlite://": "name the file",
    }
    for url, message in cases.items():
        found = problems(write(tmp_path, f'[storage]\nurl = "{url}"\n'))
        assert len(found) == 1 and "[storage] url: " in found[0] and message in found[0], found
        assert "s3cret" not in found[0]


def test_rules_between_keys(tmp_path):
    path = write(
        tmp_path,
        '[program]\ndefault_capacity = 4\nmax_group_size = 2\n'
        '[discourse]\nurl = "https://f.example.org"\napi_username = "b"\napi_key = "k"\n'
        'announcements_category = 5\nrelay_category = 5\n'
        '[matrix]\nhomeserver = "https://m.example.org"\nuser_id = "@b:example.org"\npassword = "p"\n'
        'mentors_room = "#m:example.org"\ncommand_prefix = "@"\n',
    )
    text = "\n".join(problems(path))
    assert "[program] default_capacity: 4 is more than max_group_size (2)" in text
    assert "[discourse] relay_category: must differ from announcements_category" in text
    assert "[matrix] command_prefix: bad prefix '@'" in text


def test_room_ids_and_aliases(tmp_path):
    base = ('[matrix]\nhomeserver = "https://m.example.org"\nuser_id = "@b:example.org"\npassword = "p"\n'
            'council_room = "#council:example.org"\n')
    for good in ("!abc:example.org", "!BJlgtxgamwHzJFClNqz5tjv8rF4ET7uQnIUDxsSkJLA", "#mentors:example.org"):
        assert config.load(str(write(tmp_path, base + f'mentors_room = "{good}"\n')), env={}).matrix
    for bad in ("mentors", "#mentors", "!a b:example.org"):
        found = problems(write(tmp_path, base + f'mentors_room = "{bad}"\n'))
        assert any("[matrix] mentors_room: bad room" in p for p in found), found


def test_the_discourse_pace_stays_under_the_sites_limit(tmp_path):
    base = ('[discourse]\nurl = "https://forum.example.org"\napi_username = "bot"\napi_key = "k"\n'
            'announcements_category = 5\n')
    found = problems(write(tmp_path, base + "requests_per_minute = 90\nrelay_poll_seconds = 2\n"))
    assert any("[discourse] requests_per_minute: must be from 1 to 40, got 90" in p for p in found), found
    assert any("[discourse] relay_poll_seconds: must be at least 10 seconds, got 2" in p for p in found), found
    settings = config.load(str(write(tmp_path, base)))
    assert settings.discourse.requests_per_minute == 30 and settings.discourse.relay_poll_seconds == 120


def test_the_process_environment_sets_secrets_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTORBOT_MATRIX_ACCESS_TOKEN", "syt_from_the_process")
    monkeypatch.setenv("MENTORBOT_DISCOURSE_API_KEY", "")  # empty: as if not set, the file's key stays
    monkeypatch.setenv("MENTORBOT_PROGRAM_NAME", "not a variable the bot reads")
    monkeypatch.setenv("mentorbot_storage_url", "mysql://names/are/case-sensitive")
    settings = config.load(str(EXAMPLE))
    assert settings.matrix.access_token == "syt_from_the_process"
    assert settings.discourse.api_key == "CHANGE-ME" and settings.program.name == "Reps mentorship program"
    assert settings.secret_sources[("matrix", "access_token")] == "environment MENTORBOT_MATRIX_ACCESS_TOKEN"
    assert settings.secret_sources[("discourse", "api_key")] == str(EXAMPLE)


def test_a_secret_for_a_section_the_file_lacks_is_ignored(tmp_path):
    path = write(tmp_path, '[program]\nname = "x"\n')
    settings = config.load(str(path), env={"MENTORBOT_MATRIX_PASSWORD": "pw", "MENTORBOT_DISCOURSE_API_KEY": "k"})
    assert settings.matrix is None and settings.discourse is None and not settings.secret_sources


def test_secrets_never_show_in_a_repr_or_a_validation_error(tmp_path):
    env = {"MENTORBOT_MATRIX_PASSWORD": "hunter2-secret", "MENTORBOT_DISCOURSE_API_KEY": "discourse-secret-key",
           "MENTORBOT_STORAGE_URL": "postgresql+asyncpg://bot:db-s3cret@db.example.org/mentorbot"}
    settings = config.load(str(EXAMPLE), env=env)
    shown = repr(settings)
    for secret in ("hunter2-secret", "discourse-secret-key", "db-s3cret", "CHANGE-ME"):
        assert secret not in shown
    assert "postgresql+asyncpg://bot:***@db.example.org/mentorbot" in shown
    assert settings.matrix.password == "hunter2-secret" and f"{settings.matrix.password}" == "hunter2-secret"
    with pytest.raises(ValueError) as info:  # built in code, the settings are checked too
        config.MatrixSettings(homeserver="https://m.example.org", user_id="@b:example.org", password=["hunter2-secret"],
                              mentors_room="#m:example.org", council_room="#c:example.org")
    assert "hunter2-secret" not in str(info.value)


def test_a_rule_between_keys_is_reported_with_the_other_problems_of_its_section(tmp_path):
    path = write(tmp_path, '[program]\nmax_group_size = 2\ntimezone = "Nowhere"\n'
                           '[discourse]\nurl = "forum"\napi_username = "b"\napi_key = "k"\n'
                           'announcements_category = 5\nrelay_category = 5\n')
    text = "\n".join(problems(path))
    assert "[program] default_capacity: 3 is more than max_group_size (2)" in text
    assert "[program] timezone: unknown time zone 'Nowhere'" in text
    assert "[discourse] relay_category: must differ from announcements_category" in text
    assert "[discourse] url: bad URL 'forum'" in text


def test_wrong_shapes_are_named(tmp_path):
    found = problems(write(tmp_path, 'program = 5\n[limits]\ncommand_burst = 0\nx = 1\n'))
    text = "\n".join(found)
    assert "program: must be a section [program], not a single value" in text
    assert "[limits] command_burst: must be greater than 0, got 0" in text
    assert "[limits] x: unknown key (known keys: command_burst, commands_per_minute)" in text
    found = problems(write(tmp_path, '[program]\nreminders = ["24h", 5]\ncouncil = "@cy:example.org"\n'))
    assert any("[program] reminders: wrong type: expected a list of strings, got ['24h', 5]" in p for p in found)
    assert any("[program] council: wrong type: expected a list of strings, got '@cy:example.org'" in p for p in found)


def test_the_programs_language_must_be_one_the_bot_speaks(tmp_path):
    text = "\n".join(problems(write(tmp_path, '[program]\nlanguage = "fr"\n')))
    assert "[program] language: the bot does not speak 'fr': use one of en, de, pl, es, pt" in text
    assert config.load(str(write(tmp_path, '[program]\nlanguage = "pl"\n')), env={}).program.language == "pl"
