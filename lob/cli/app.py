"""The ``lob`` console script: one Typer app, one module per command group.

Modules here import only Typer and the standard library at the top, so that
``lob --help`` stays instant; each command imports what it needs when it runs.
"""

from __future__ import annotations

import typer

from lob.cli import (
    analytics,
    bench,
    demo,
    feed,
    history,
    replay,
    scripting,
    serve,
    simulate,
    tui,
)

app = typer.Typer(
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s per --help
    name="lob",
    help="lob: a US-equity exchange simulator and trading workstation.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """lob: a US-equity exchange simulator and trading workstation."""


app.command("replay")(replay.replay)
app.command("bench")(bench.bench)
app.command("simulate")(simulate.simulate)
app.command("serve")(serve.serve)
app.command("tui")(tui.tui)
app.command("demo")(demo.demo)
app.add_typer(feed.app, name="feed")
app.add_typer(analytics.app, name="analytics")
app.add_typer(history.app, name="history")
scripting.register(app)


def main() -> None:
    app()
