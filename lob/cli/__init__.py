"""The ``lob`` command line (Typer). Heavy imports live inside the commands."""
