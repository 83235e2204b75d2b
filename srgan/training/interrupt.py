"""Turns Ctrl+C and SIGTERM into a request to stop after the current step."""

import logging
import os
import signal

log = logging.getLogger(__name__)
# A shell's status for a process ended by SIGINT.
QUIT_STATUS = 130


class StopRequest:
    """While active, the first SIGINT/SIGTERM sets `requested`; a second one quits at once.

    The training loop checks `requested` between steps, writes a checkpoint and
    returns, so an interrupted run loses nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            # At once and without saving, as promised. An exception raised here would
            # unwind through tqdm and TensorFlow ("Exception ignored in ...") and could
            # land in the middle of a save; the kernel releases the run's lock, and the
            # next run removes a half-written save's files.
            log.warning(f"\n{signal.Signals(signum).name} received again: quitting without saving.")
            os._exit(QUIT_STATUS)
        self.requested = True
        name = signal.Signals(signum).name
        log.warning(f"\n{name} received: saving a checkpoint after this step "
                    "(send it again to quit without saving).")

    def __enter__(self) -> "StopRequest":
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
