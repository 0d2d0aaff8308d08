"""The `mentorbot` command line, run as a user runs it: a real process, real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MENTORBOT = shutil.which("mentorbot", path=str(Path(sys.executable).parent)) or "mentorbot"


def mentorbot(*args: str, cwd: Path, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    full_env.update(env or {})
    result = subprocess.run(
        [MENTORBOT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=full_env, timeout=120
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def blocks(stdout: str) -> list[str]:
    return [b.strip() for b in stdout.split("\n\n") if b.strip()]


SCRIPT = """\
# A morning in the demo program.
% now 2027-03-01T09:00 Europe/Berlin
@ana:example.org> profile
@ana:example.org> profile timezone Europe/Lisbon
mentors @bob:example.org> !mentors
mentors @bob:example.org> good morning, everyone
council @cy:example.org> !mentor add @zoe:example.org 2
this line has no speaker
% advance 1w
@ana:example.org> helpp
other @eve:example.org> !help
"""


PROGRAM_WORK = ("Weekly digest", "Program report", "has waited", "has not found a mentor", "A meeting is overdue",
                "Overdue relationship", "Did the", "Reminder:", "was due by", "Feedback round", "commitment with",
                "did not answer in time")


def program_work(block: str) -> bool:
    first_line = block.split("\n", 1)[0]
    return any(mark in first_line for mark in PROGRAM_WORK)


def test_a_script_runs_end_to_end_through_the_cli(tmp_path):
    (tmp_path / "morning.txt").write_text(SCRIPT)
    result = mentorbot("shell", "--demo", "--script", "morning.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The demo is seeded at today's date, so when the script's clock jumps to 2027 the
    # program's own work of the months between (digests, reports, reminders, the
    # escalation of the demo's open request...) is printed too, in order; this test
    # is about the lines the script types.
    out = [b for b in blocks(result.stdout) if not program_work(b)]
    assert out[0] == "[clock] 2027-03-01 09:00 Europe/Berlin (Mon)"
    assert out[1].startswith("[dm @ana:example.org] Your profile (@ana:example.org)\nName: Ana")
    assert out[2] == "[dm @ana:example.org] Done: your time zone is Europe/Lisbon. Your local time now is 2027-03-01 08:00."
    assert out[3].startswith("[mentors] Mentors (3), with their mentees now of their capacity:\n• Bob: 1 of 3")
    # "good morning" has no prefix: chat, not a command, so no answer.
    assert out[4] == "[council] Done: @zoe:example.org is now a mentor, taking up to 2 mentees."
    assert out[5].startswith("[dm @zoe:example.org] Welcome, you are now a mentor")
    assert out[6] == ("(invites @zoe:example.org to the mentors room)\n"
                      "[mentors] Please welcome @zoe:example.org, who joins the mentors!")
    assert out[7] == "[clock] 2027-03-08 09:00 Europe/Berlin (Mon)"
    assert out[8].startswith("[dm @ana:example.org] I don't know the command `helpp`. Did you mean `help`?")
    # A room that is neither the program's nor a private DM runs no command: a pointer to a DM.
    assert out[9].startswith("[room !other:shell] I don't answer in this room.")
    assert len(out) == 10
    assert "error: line 8: start the line with who is speaking" in result.stderr
    # The embedded default database was created where the shell ran.
    assert (tmp_path / "mentorbot.db").exists()


def test_stdin_that_is_not_a_terminal_is_read_as_a_script(tmp_path):
    result = mentorbot("shell", cwd=tmp_path, stdin="% as @ana:example.org\nprofile name Ana\nprofile\n")
    assert result.returncode == 0
    out = blocks(result.stdout)
    assert out[0] == "[dm @ana:example.org] Done: I'll call you Ana."
    assert "Name: Ana" in out[1]


def test_data_survives_between_runs_and_the_demo_is_seeded_once(tmp_path):
    first = mentorbot("shell", "--demo", cwd=tmp_path, stdin="@eve:example.org> profile name Eve\n")
    assert first.returncode == 0
    second = mentorbot("shell", "--demo", cwd=tmp_path, stdin="@eve:example.org> profile\n")
    assert "Name: Eve" in second.stdout
    assert "demo not seeded" in second.stderr


def test_shell_directives_with_mistakes_are_explained(tmp_path):
    stdin = (
        "% now tomorrow\n% advance soon\n% teleport\nnowhere @x:example.org> hi\n% as bob\n"
        "% now 0001-01-01T00:00 Etc/GMT-14\n% now 9000-12-31T23:00 UTC\n% advance 2d\n@ana> help\n"
        "@ana:example.org> profile name Still Here\n"
    )
    result = mentorbot("shell", cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0
    assert "line 6: keep the clock between the years 1971 and 9000" in result.stderr
    assert "line 8: keep the clock between the years 1971 and 9000" in result.stderr
    assert "line 9: '@ana' is not a Matrix ID" in result.stderr
    assert "I'll call you Still Here" in result.stdout  # the script went on
    assert "line 1: 'tomorrow' is not a date and time; write it like 2027-03-01T09:00" in result.stderr
    assert "line 2: 'soon' is not a duration" in result.stderr
    assert "line 3: unknown directive %teleport" in result.stderr
    assert "line 4: unknown room 'nowhere'" in result.stderr
    assert "line 5: write it like `% as @ana:example.org`" in result.stderr


def test_check_config_passes_on_the_example_and_masks_secrets(tmp_path):
    # The example as an installed mentorbot gives it, without the source at hand.
    (tmp_path / "mine.toml").write_text(mentorbot("example", "config", cwd=tmp_path).stdout)
    result = mentorbot(
        "check-config", "--config", "mine.toml", cwd=tmp_path,
        env={"MENTORBOT_MATRIX_ACCESS_TOKEN": "syt_secret_value_123"},
    )
    assert result.returncode == 0, result.stderr
    # Valid, but the example's placeholder for the forum's key is not a key: said plainly.
    assert "The configuration is valid, with 1 warning." in result.stdout
    assert "warning: [discourse] api_key still holds a placeholder, not the real secret" in result.stdout
    assert "syt_secret_value_123" not in result.stdout
    assert "access_token = ****** (from environment MENTORBOT_MATRIX_ACCESS_TOKEN)" in result.stdout


def test_check_config_names_every_problem_and_exits_1(tmp_path):
    (tmp_path / "config.toml").write_text('[program]\ntimezone = "Nowhere/City"\nmax_group_size = 0\n[matrx]\n')
    result = mentorbot("check-config", cwd=tmp_path)
    assert result.returncode == 1
    assert "the configuration has 3 problems" in result.stderr
    assert "config.toml: [program] timezone: unknown time zone 'Nowhere/City'" in result.stderr
    assert "config.toml: [program] max_group_size: must be greater than 0, got 0" in result.stderr
    assert "config.toml: [matrx]: unknown section" in result.stderr


def test_check_config_without_any_file_says_how_to_make_one(tmp_path):
    result = mentorbot("check-config", cwd=tmp_path)
    assert result.returncode == 1
    assert ("config.toml: file not found (make one with `mentorbot example config > config.toml`, then edit it)"
            in result.stderr)


def test_the_files_that_ship_with_mentorbot_are_printed_as_they_are_in_the_package(tmp_path):
    from importlib.metadata import version

    help_text = mentorbot("--help", cwd=tmp_path).stdout
    assert "example" in help_text and "config, service, backup-service, backup-timer" in " ".join(help_text.split())
    shipped = {"config": ROOT / "bot" / "config.example.toml", "service": ROOT / "bot" / "systemd" / "mentorbot.service",
               "backup-service": ROOT / "bot" / "systemd" / "mentorbot-backup.service",
               "backup-timer": ROOT / "bot" / "systemd" / "mentorbot-backup.timer"}
    for name, path in shipped.items():
        result = mentorbot("example", name, cwd=tmp_path)
        assert result.returncode == 0 and result.stdout == path.read_text(encoding="utf-8"), name
    # One copy of the example: the one at the top of the source is a link to the package's.
    top = ROOT / "config.example.toml"
    assert top.is_symlink() and top.resolve() == shipped["config"].resolve()
    unknown = mentorbot("example", "nginx", cwd=tmp_path)
    assert unknown.returncode == 2 and "invalid choice: 'nginx' (choose from 'config', 'service'" in unknown.stderr
    assert mentorbot("--version", cwd=tmp_path).stdout == f"mentorbot {version('mentorbot')}\n"


def test_config_comes_from_the_environment_variable(tmp_path):
    (tmp_path / "elsewhere.toml").write_text('[program]\nname = "From the environment"\n')
    result = mentorbot("check-config", cwd=tmp_path, env={"MENTORBOT_CONFIG": "elsewhere.toml"})
    assert result.returncode == 0 and "From the environment" in result.stdout


def test_run_needs_a_matrix_section(tmp_path):
    (tmp_path / "config.toml").write_text('[program]\nname = "x"\n')
    result = mentorbot("run", cwd=tmp_path)
    # 78 (EX_CONFIG): the systemd unit does not restart a bot that cannot work as configured.
    assert result.returncode == 78 and "has no [matrix] section" in result.stderr


@pytest.mark.homeserver  # the Matrix side: a homeserver that goes away, or `mentorbot run` itself
@pytest.mark.sqlite_only  # its own embedded database, on either pass
def test_run_waits_for_an_unreachable_homeserver_and_a_forum_that_is_down_and_stops_cleanly_on_sigterm(tmp_path,
                                                                                                       fake):
    import signal
    import threading

    from tests.synapse import free_port

    fake.faults.down = True  # Discourse in maintenance: told, and waited for like the homeserver
    (tmp_path / "config.toml").write_text(
        f'[matrix]\nhomeserver = "http://127.0.0.1:{free_port()}"\nuser_id = "@bot:example.org"\n'
        'password = "pw-canary-1"\nmentors_room = "#mentors:example.org"\ncouncil_room = "#council:example.org"\nstore_path = "store"\n'
        f'[discourse]\nurl = "{fake.url}"\napi_username = "{fake.api_username}"\napi_key = "{fake.api_key}"\n'
        'announcements_category = 5\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    process = subprocess.Popen([MENTORBOT, "run"], cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=env)
    # Stopped once it is waiting for the homeserver (however long starting takes on a busy machine).
    lines: list[str] = []
    waiting = threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if "Trying again in 2 s" in line:  # the second try: it keeps trying
                waiting.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert waiting.wait(timeout=60), "".join(lines)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    reader.join(timeout=10)
    stderr = "".join(lines)
    assert process.returncode == 0, stderr
    assert (f"the Discourse site {fake.url} answers HTTP 503 (it may be starting, in maintenance or failing). The bot "
            "starts all the same; what goes to Discourse waits for it.") in stderr
    assert ("the homeserver http://127.0.0.1:" in stderr and " refuses connections (it may be down): is it running? "
            "Trying again in 1 s." in stderr)
    assert "pw-canary-1" not in stderr and fake.api_key not in stderr and "Traceback" not in stderr


def test_db_upgrade_migrates_once(tmp_path):
    (tmp_path / "config.toml").write_text('[storage]\nurl = "sqlite+aiosqlite:///data/program.db"\n')
    first = mentorbot("db", "upgrade", cwd=tmp_path)
    assert first.returncode == 0 and "upgraded from empty to revision" in first.stdout
    assert (tmp_path / "data" / "program.db").exists()
    second = mentorbot("db", "upgrade", cwd=tmp_path)
    assert second.returncode == 0 and "up to date" in second.stdout


def test_an_unusable_database_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("a file where a folder should be")
    (tmp_path / "config.toml").write_text('[storage]\nurl = "sqlite+aiosqlite:///blocker/x.db"\n')
    result = mentorbot("shell", cwd=tmp_path, stdin="")
    assert result.returncode == 1
    assert "mentorbot: cannot open the database sqlite+aiosqlite:///blocker/x.db" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["shell", "--help"], ["db", "upgrade", "--help"]])
def test_help_of_the_cli(tmp_path, args):
    result = mentorbot(*args, cwd=tmp_path)
    assert result.returncode == 0 and "usage: mentorbot" in result.stdout


@pytest.mark.homeserver  # the Matrix side: a homeserver that goes away, or `mentorbot run` itself
def test_run_refuses_a_database_it_cannot_write_and_is_not_restarted(tmp_path):
    from tests.synapse import free_port

    assert mentorbot("db", "upgrade", cwd=tmp_path).returncode == 0  # the embedded default, made and migrated
    (tmp_path / "config.toml").write_text(
        f'[matrix]\nhomeserver = "http://127.0.0.1:{free_port()}"\nuser_id = "@bot:example.org"\n'
        'password = "pw"\nmentors_room = "#mentors:example.org"\ncouncil_room = "#council:example.org"\n'
        # The same file, opened read-only (as a file the bot's user may not write would be).
        f'[storage]\nurl = "sqlite+aiosqlite:///file:{tmp_path / "mentorbot.db"}?mode=ro&uri=true"\n'
    )
    result = mentorbot("run", cwd=tmp_path)
    # 78: the systemd unit does not restart on it (RestartPreventExitStatus), so no loop.
    assert result.returncode == 78, result.stderr
    assert "cannot open the database" in result.stderr and "readonly database" in result.stderr
    assert "The bot must be able to write it" in result.stderr
    unit = (ROOT / "bot" / "systemd" / "mentorbot.service").read_text()
    assert "RestartPreventExitStatus=78" in unit and "UMask=0077" in unit


def test_files_the_cli_makes_are_private(tmp_path):
    assert mentorbot("db", "upgrade", cwd=tmp_path).returncode == 0
    assert oct((tmp_path / "mentorbot.db").stat().st_mode & 0o777) == "0o600"
