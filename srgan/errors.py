"""The errors that reach the user as one line, not a stack trace."""

import re
import sys
from collections.abc import Callable

# "{{function_node NAME}} " before a message raised inside a tf.function.
_FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")


class UserError(Exception):
    """Something the user can fix: bad flags, missing data, a wrong checkpoint.

    `main.py` prints the message and exits with a non-zero status.
    """


# Characters that a name printed raw would turn into more than text: a newline forging a
# line of its own ("error: ..."), a carriage return overwriting one, an ANSI escape
# reaching the terminal; C1 controls and Unicode's line separators alike.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(name: object) -> str:
    """`name` (a file's, usually) as a message prints it: every control character written
    as its escape (\\n, \\x1b), the rest as it is. The one escaping of names: every
    message that names a file found in a folder goes through it."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(name))


def exit_status(run: Callable[[], None]) -> int:
    """Runs `run` for a script: 0, or where it raises a UserError or an OSError, the one
    line `error: ...` on stderr and 1 (main.py's own handling is cli.main's)."""
    try:
        run()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    return 0


def first_line(error: BaseException) -> str:
    """The first line of an error's message (TensorFlow's run to pages, and may start
    with the name of the graph function it came from), or the error's type."""
    lines = _FUNCTION_NODE.sub("", str(error)).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def describe_os_error(error: OSError) -> str:
    """'PATH: cause' for an OSError (no space, read-only, a file where a folder should be)."""
    paths = [shown(path) for path in (error.filename, error.filename2) if path is not None]
    cause = error.strerror or first_line(error)
    return f"{' -> '.join(paths)}: {cause}" if paths else cause


def tensorflow_file_errors() -> tuple[type[Exception], ...]:
    """TensorFlow's errors for what the file system refused (full, read-only, a file
    where a folder should be), and for memory running out: a user meets and fixes these.
    None where TensorFlow is not loaded, or not loaded whole (an import cut short by
    Ctrl+C): importing it here, while another error is handled, would raise anew."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "errors"):
        return ()
    return (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError,
            tf.errors.FailedPreconditionError, tf.errors.NotFoundError,
            tf.errors.AlreadyExistsError)
