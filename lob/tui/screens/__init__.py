"""The workstation's screens, one per module; ``base.WorkScreen`` is their frame."""
