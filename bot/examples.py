"""The files that ship inside the package for setting mentorbot up: the example configuration
and the systemd units. `mentorbot example NAME` prints one, so that an installed mentorbot
(pipx, a wheel) needs no copy of the source."""

from __future__ import annotations

from importlib import resources

# name: (the file inside the package, what it is)
EXAMPLES = {
    "config": ("config.example.toml", "the configuration, every key explained (save it as config.toml)"),
    "service": ("systemd/mentorbot.service", "the systemd unit that runs the bot"),
    "backup-service": ("systemd/mentorbot-backup.service", "the systemd unit that backs the database up"),
    "backup-timer": ("systemd/mentorbot-backup.timer", "the systemd timer that starts the backup daily"),
}


def text(name: str) -> str:
    """The shipped file ``name`` (a key of EXAMPLES)."""
    return resources.files("bot").joinpath(EXAMPLES[name][0]).read_text(encoding="utf-8")
