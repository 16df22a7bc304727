"""The lob trading workstation (Textual): ``lob tui``.

``WorkstationApp`` runs over a ``DataSource`` (``lob.tui.source``): the embedded
exchange of ``lob.tui.embedded`` by default, or a ``lob serve`` through
``lob.client``. Textual is imported only by the modules that draw.
"""
