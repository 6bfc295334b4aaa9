"""Module globals of the heapscope graph-query target (refs_target.py).

REGISTRY['sessions']: the Session objects; REGISTRY['parents']: the
Parent objects (each holding its Child objects); CHAIN: the head of a
singly linked list of Node objects (node.next), or None.  refs_target.py
fills them.  Imports nothing.

Keep this file Python 3.8 compatible.
"""

REGISTRY = {"sessions": [], "parents": []}
CHAIN = None
