"""Classes of leak_target.py.  Imports nothing, so that instances are not
tied into the module graph beyond their own class."""


class Leaked(object):
    """What leaks: one object per leak, no __dict__, nothing it refers to."""
    __slots__ = ("serial",)


class Steady(object):
    """Made once at start-up and never again: must not show as growth."""

    def __init__(self, n):
        self.n = n


CLASSES = (Leaked, Steady)
