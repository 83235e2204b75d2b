"""The package's one logger, "srgan": each message one line on stderr, written above
any tqdm progress bar rather than through it.

Modules log with `logging.getLogger(__name__)`; the results a mode exists to print
(a table, "wrote ...") go to stdout with print().
"""

import contextlib
import logging
import re
import sys
from collections.abc import Iterator

from tqdm import tqdm

NAME = "srgan"


# Control characters other than the newline and tab a message is built with.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _AboveProgressBars(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Names are escaped where a message names them (srgan/errors.py's shown);
            # this keeps any other escape sequence, from wherever it came, off the terminal.
            text = _UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], self.format(record))
            # sys.stderr looked up now, not at import: a test's capture, or a redirection.
            tqdm.write(text, file=sys.stderr)
        except Exception:
            self.handleError(record)


def _configure() -> logging.Logger:
    logger = logging.getLogger(NAME)
    if not logger.handlers:
        handler = _AboveProgressBars()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


_configure()


@contextlib.contextmanager
def tensorflow_warnings_muted() -> Iterator[None]:
    """TensorFlow's Python logger at ERROR for the block, where its warnings (a partial
    restore's unused values, a garbled pointer file, a deprecation notice) would bury the
    one line the project says about the same thing. Nothing to mute where TensorFlow is
    not loaded (another backend)."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        yield
        return
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
