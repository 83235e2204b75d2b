"""The one exception type that reaches the user as a message, not a stack trace."""


class UserError(Exception):
    """Something the user can fix: bad flags, missing data, a wrong checkpoint.

    `main.py` prints the message and exits with a non-zero status.
    """
