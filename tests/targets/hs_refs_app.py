"""Classes of the heapscope graph-query target (refs_target.py).

Every class here is one of the target's "app kinds" (hs_refs_app.*).  The
objects live in hs_refs_registry's globals, in worker threads' locals, and
in garbage cycles; refs_target.py builds them.

This module imports nothing, on purpose: its classes' methods have this
module's __dict__ as __globals__, and a reference from here to sys, to a
module that imports sys, or to hs_refs_registry would close a path from
every instance (through its type) back to the registry, melting all the
parent/child cycles into one huge strongly connected component.

Keep this file Python 3.8 compatible.
"""


class Session(object):
    """A plain class with one attribute."""

    def __init__(self, name):
        self.name = name


class Parent(object):
    """Holds its children; each child points back (a cycle per parent)."""

    def __init__(self, name):
        self.name = name
        self.children = []


class Child(object):
    def __init__(self, parent):
        self.parent = parent


class Cyc(object):
    """Made in pairs referring to each other, then dropped: garbage."""

    def __init__(self):
        self.other = None


class CycDel(object):
    """Like Cyc, with a finalizer."""

    def __init__(self):
        self.other = None

    def __del__(self):
        pass


class Node(object):
    """A singly linked list cell with __slots__ (no __dict__)."""
    __slots__ = ("next", "value")

    def __init__(self, value, next=None):
        self.value = value
        self.next = next


CLASSES = (Session, Parent, Child, Cyc, CycDel, Node)
