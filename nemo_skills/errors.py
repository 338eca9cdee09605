"""User-facing errors: the CLI prints these as one line, without a traceback."""


class NemoSkillsError(Exception):
    """Base class for errors caused by the user's input or environment, with a message that says how to fix it."""


class ConfigError(NemoSkillsError):
    """A configuration value or `++key` is invalid."""


class InputError(NemoSkillsError):
    """An input file or row is malformed."""


class ServerError(NemoSkillsError):
    """A model server could not be reached or kept failing after retries."""
