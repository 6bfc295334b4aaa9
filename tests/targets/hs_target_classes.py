"""Classes of the heapscope e2e target (heap_target.py).

Every class defined here is one of the target's "own kinds": heapscope must
report exactly the count and total sys.getsizeof size of their instances.

Besides the ordinary container classes there is one tiny marker class per
*reachability path* (Via*): each path of the target's heap holds its own
marker objects and nothing else refers to them, so when heapscope misses a
path (say, the dict of an int subclass instance or a suspended generator's
locals) the count of exactly one Via* kind is off and names the culprit.

Keep this file Python 3.8 compatible.
"""


class Leaf(object):
    """Base of the Via* markers: a slotted class, one object slot."""
    __slots__ = ("tag",)

    def __init__(self, tag=None):
        self.tag = tag

    def touch(self):
        return self.tag


# name -> how the target reaches objects of that class (documentation only;
# heap_target.py builds them)
VIA_PATHS = {
    "ViaModuleGlobal":     "list stored in a module global of __main__",
    "ViaClassAttr":        "list in a class attribute (type's __dict__)",
    "ViaMetaClassAttr":    "list in a class attribute of a class made by a metaclass",
    "ViaInlineValues":     "attribute of a plain instance whose __dict__ was never materialized",
    "ViaMaterializedDict": "attribute of an instance after vars(obj)",
    "ViaWideDict":         "attribute of an instance with > 30 attributes",
    "ViaDeletedNeighbour": "attribute of an instance some of whose attributes were deleted",
    "ViaSlot":             "__slots__ slot",
    "ViaChildSlot":        "slot added by a __slots__ subclass",
    "ViaSlotDict":         "__dict__ of a class with '__dict__' in __slots__",
    "ViaDictSubclassAttr": "instance attribute of a dict subclass instance",
    "ViaDictSubclassItem": "value stored in a dict subclass instance",
    "ViaListSubclassAttr": "instance attribute of a list subclass instance",
    "ViaListSubclassItem": "item of a list subclass instance",
    "ViaIntSubclassAttr":  "instance attribute of an int subclass instance",
    "ViaTupleSubclassAttr": "instance attribute of a tuple subclass instance",
    "ViaStrSubclassAttr":  "instance attribute of a str subclass instance",
    "ViaDictKey":          "key (only) of a plain dict",
    "ViaDictValue":        "value of a plain dict with str keys",
    "ViaOrderedDict":      "value in a collections.OrderedDict",
    "ViaSet":              "element of a set with a heap-allocated table",
    "ViaSmallSet":         "element of a set that uses its small table",
    "ViaFrozenset":        "element of a frozenset",
    "ViaDeque":            "item of a collections.deque with > 64 items (several blocks)",
    "ViaNested":           "deep inside nested lists/tuples/dicts",
    "ViaTuple":            "item of a tuple of atomic-looking contents",
    "ViaCell":             "closure cell contents only",
    "ViaDefaultArg":       "function __defaults__ only",
    "ViaKwDefault":        "function __kwdefaults__ only",
    "ViaFunctionDict":     "function __dict__ attribute only",
    "ViaBoundSelf":        "__self__ of a bound method only",
    "ViaGenLocal":         "local variable of a suspended generator",
    "ViaGenArg":           "argument of a created, never started generator",
    "ViaThreadLocal":      "local variable of a blocked non-main thread",
    "ViaThreadList":       "list held in a local variable of a blocked thread",
    "ViaMainLocal":        "local variable of the main thread's frames",
}

for _n in VIA_PATHS:
    globals()[_n] = type(_n, (Leaf,), {"__slots__": (), "__module__": __name__,
                                       "__qualname__": _n,
                                       "__doc__": VIA_PATHS[_n]})
del _n


class Node(object):
    """Plain class with __dict__; parent <-> child cycles."""

    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []
        self.value = None
        if parent is not None:
            parent.children.append(self)

    def describe(self):
        return self.name


WIDE_ATTRS = tuple("w%02d" % i for i in range(40))


class Wide(object):
    """Many attributes: beyond CPython's shared-keys limit (30)."""

    def __init__(self, i):
        for n, a in enumerate(WIDE_ATTRS):
            setattr(self, a, i * 64 + n)


class Materialized(object):
    """Instances get their __dict__ materialized with vars()."""

    def __init__(self, i):
        self.a = i
        self.b = "m"
        self.c = None


class Deleted(object):
    """Instances have some attributes deleted after creation."""

    def __init__(self, i):
        self.a = i
        self.b = -i
        self.c = None
        self.d = 1.5
        self.e = (i,)


class Slotted(object):
    __slots__ = ("a", "b", "c")

    def __init__(self, a=None, b=None, c=None):
        self.a = a
        self.b = b
        self.c = c


class SlottedChild(Slotted):
    __slots__ = ("d",)

    def __init__(self, a=None, d=None):
        Slotted.__init__(self, a)
        self.d = d


class SlottedWithDict(object):
    __slots__ = ("x", "__dict__", "__weakref__")

    def __init__(self, x):
        self.x = x


class MyDict(dict):
    """dict subclass with instance attributes."""


class MyList(list):
    """list subclass with instance attributes."""


class MyInt(int):
    """int subclass (≤3.11: __dict__ at a negative tp_dictoffset)."""


class MyTuple(tuple):
    """tuple subclass (var-sized, ≤3.11 negative tp_dictoffset)."""


class MyStr(str):
    """str subclass: a non-compact ("legacy") str layout."""


class Meta(type):
    """A metaclass: the classes made by it are of kind hs_target_classes.Meta."""


class MetaBase(object, metaclass=Meta):
    registry = []

    def __init__(self, i):
        self.i = i


class MetaChild(MetaBase):
    pass


class Outer(object):
    class Inner(object):
        """Nested class: kind hs_target_classes.Outer.Inner."""

        def __init__(self, i):
            self.i = i


class ClassAttrHolder(object):
    items = []


def make_closure(x, y):
    def closure():
        return x, y
    return closure


def gen_with_local(x):
    local = x
    yield 1
    yield local


def gen_never_started(x):
    yield x


def with_defaults(a=None, b=None):
    return a, b


def with_kwdefaults(*, k=None):
    return k


def own_kinds():
    """All kinds defined by this module ('hs_target_classes.X')."""
    out = ["hs_target_classes.Leaf"]
    out.extend("hs_target_classes." + n for n in VIA_PATHS)
    out.extend("hs_target_classes." + n for n in (
        "Node", "Wide", "Materialized", "Deleted", "Slotted", "SlottedChild",
        "SlottedWithDict", "MyDict", "MyList", "MyInt", "MyTuple", "MyStr",
        "Meta", "MetaBase", "MetaChild", "Outer", "Outer.Inner",
        "ClassAttrHolder"))
    return out
