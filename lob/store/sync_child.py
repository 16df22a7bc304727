"""The journal's sync process: ``lob.store.syncer`` runs this file with ``python -I -S``.

It reads one byte per request from a pipe, makes the journal durable
(``fdatasync``) and answers the errno on another pipe (0: done). It imports
nothing of lob's and runs without site, so that it starts in milliseconds and
nothing it needs can fail to import. SIGINT, SIGTERM and SIGHUP are ignored
(a server stopping gracefully still needs its last sync); it exits when the
request pipe closes.

Arguments: a name for ``ps`` and the three descriptors (journal, requests, replies).
"""

import os
import signal
import sys


def main(argv: list[str]) -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    fd, requests, replies = (int(a) for a in argv[2:5])
    sync = getattr(os, "fdatasync", os.fsync)
    while os.read(requests, 1):
        try:
            sync(fd)
            code = 0
        except OSError as exc:
            code = exc.errno or -1
        os.write(replies, code.to_bytes(4, "little", signed=True))


if __name__ == "__main__":
    main(sys.argv)
