"""Storage: what lob keeps on disk.

- ``journal``: the append-only log of accepted inputs, written before an
  acknowledgement, from which the engine's state is rebuilt after a crash.
- ``journal_tail``: reads the records another process appends to a journal,
  as they land (the server's history process follows the journal with it).
- ``history``: the DuckDB history of a session (trades, orders and their
  lifecycle, top-of-book changes), written in Arrow batches off the matching
  thread and read by ``lob.analytics`` (docs/history.md).
"""
