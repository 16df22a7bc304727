"""``python -m lob.tui [OPTIONS]``: the same as ``lob tui`` (what ``lob tui --web`` runs)."""

from __future__ import annotations

import sys

from lob.cli.app import app

if __name__ == "__main__":
    app(["tui", *sys.argv[1:]], prog_name="lob")
