"""mentorbot's runtime and the outside world: config, CLI, transports, wiring."""

__version__ = "0.1.0"
