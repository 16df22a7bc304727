"""The workstation's widgets, one per module."""
