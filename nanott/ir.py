"""The IR framework: source locations, frozen nodes, languages as sets of productions, and the
generic grammar checker every language runs after every pass.

A language is a module of frozen dataclasses (its productions) plus a `Language` object that names
its nonterminals. Field annotations name nonterminals as strings (`body: tuple[Stmt, ...]`) and are
resolved *in the language being checked*, so a `For` imported from L0 holds L8 statements when
checked as L8 (nanopass's `extends`).
"""
from __future__ import annotations

import dataclasses
import operator
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Iterator

from nanott import terminals
from nanott.frozen import frozen_class


@dataclass(frozen=True)
class Loc:
    """A place in the user's kernel source: file, 1-based line, 0-based column."""
    file: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file.rsplit('/', 1)[-1]}:{self.line}"


NOLOC = Loc("<compiler>", 0, 0)


def node(cls):
    """Decorate an IR production: a frozen dataclass with a keyword-only `loc` that does not take
    part in equality (two statements that differ only by line are the same statement); made by
    frozen.frozen_class, which gives what dataclass(frozen=True) gives for less at import."""
    cls.__annotations__ = dict(cls.__annotations__)
    if "lines" in cls.__dict__:                  # a program (or a kernel of one): show its IR
        cls.__repr__ = _program_repr
        cls._repr_svg_ = _program_svg
    if "loc" not in cls.__annotations__:
        cls.__annotations__["loc"] = "Loc"
        cls.loc = field(default=NOLOC, compare=False, kw_only=True, repr=False)
    return frozen_class(cls)


def _program_repr(self) -> str:
    """A program prints as its IR text, in a REPL and in a notebook alike."""
    return "\n".join(self.lines())


def _program_svg(self) -> str | None:
    """Jupyter's picture of a program: its graphviz drawing, or None (text only) without `dot`."""
    import shutil

    from nanott.backends.graphviz import to_dot
    return to_dot(self).pipe(format="svg", encoding="utf-8") if shutil.which("dot") else None


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a node class but its location, in order (None for a non-dataclass); cached,
    since `dataclasses.fields` is slow and every walk asks it of every node."""
    names = _FIELD_NAMES.get(cls, False)
    if names is False:
        names = (tuple(f.name for f in fields(cls) if f.name != "loc")
                 if is_dataclass(cls) and isinstance(cls, type) else None)
        _FIELD_NAMES[cls] = names
    return names


def children(x: Any) -> Iterator[tuple[str, Any]]:
    """(field name, value) for every field of a node except its location."""
    for name in field_names(type(x)):
        yield name, getattr(x, name)


def replace(x, **changes):
    """dataclasses.replace for a node: the same constructor call, its field list looked up once
    per class (a class with an init=False field or an InitVar goes through dataclasses.replace)."""
    names = _INIT_FIELDS.get(type(x), False)
    if names is False:
        fs = dataclasses.fields(x)
        plain = len(fs) == len(type(x).__dataclass_fields__) and all(f.init for f in fs)
        names = _INIT_FIELDS[type(x)] = tuple(f.name for f in fs) if plain else None
    if names is None:
        return dataclasses.replace(x, **changes)
    for name in names:
        if name not in changes:
            changes[name] = getattr(x, name)
    return type(x)(**changes)


_INIT_FIELDS: dict[type, tuple[str, ...] | None] = {}    # node class -> its init fields (None: not plain)


_CHILDREN: dict[type, Any] = {}          # node class -> its children, last field first (or None)


def _children_last_first(cls: type) -> Any:
    """A function giving a node's fields but its location, last first (None for a non-node)."""
    names = field_names(cls)
    if names is None:
        return None
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda x: (one(x),)
    return operator.attrgetter(*reversed(names)) if names else (lambda x: ())


def walk(x: Any, skip: tuple[type, ...] = ()) -> Iterator[Any]:
    """Every node below (and including) x, in pre-order (a stack, not nested generators); nodes of
    a `skip` type are left out whole."""
    stack = [x]
    pop, extend, getters = stack.pop, stack.extend, _CHILDREN
    while stack:
        x = pop()
        cls = type(x)
        last_first = getters.get(cls, False)
        if last_first is False:
            last_first = getters[cls] = _children_last_first(cls)
        if last_first is not None:
            if skip and isinstance(x, skip):
                continue
            yield x
            extend(last_first(x))
        elif isinstance(x, tuple):
            extend(reversed(x))


@node
class Launches:
    """Several launches in one program, run one after another (a TileLang prim_func with more than
    one `T.Kernel`: flash decoding's split, then its combine). Every language holds it, around its
    own root (`Launch`: an L0 Kernel, an L9 Program): each launch is a whole program of that
    language, whose parameters are the program's tensors and scratch tensors it uses. `scratch`
    holds the DRAM tensors the program allocates itself (`T.alloc_global`): written by one launch
    and read by a later one, never by the host. Passes run on each launch in turn; interpreters run
    the launches in order on the same DRAM."""
    name: str
    params: tuple[Tensor, ...]
    scratch: tuple[Tensor, ...]
    launches: tuple[Launch, ...]

    @property
    def body(self) -> tuple:
        """The launches, so that an analysis walking `program.body` sees every launch's statements."""
        return self.launches

    def lines(self) -> list[str]:
        from nanott.printing import seq
        out = [f"program {self.name}({seq(self.params)}): {len(self.launches)} launches, in order"]
        out += [f"  scratch {t.describe() if hasattr(t, 'describe') else t}" for t in self.scratch]
        for i, launch in enumerate(self.launches):
            out += ["", f"launch {i}:"] + ["  " + line for line in launch.lines()]
        return out


def launches_of(program: Any) -> tuple:
    """The launches of a program: its own, or the program itself when it is one launch."""
    return program.launches if isinstance(program, Launches) else (program,)


def per_launch(function, program: Any, *args: Any) -> Any:
    """`function` applied to each launch of a program of several (or to the one program). A launch
    that the function makes several (P0c) has its launches and scratch tensors spliced in place."""
    if not isinstance(program, Launches):
        return function(program, *args)
    made = [function(k, *args) for k in program.launches]
    launches = tuple(x for m in made for x in launches_of(m))
    scratch = program.scratch + tuple(t for m in made if isinstance(m, Launches) for t in m.scratch)
    seen = {t.name: t for k in launches for t in k.params}      # as this level describes them
    return replace(program, launches=launches, params=tuple(seen.get(t.name, t) for t in program.params),
                   scratch=tuple(seen.get(t.name, t) for t in scratch))


_ANNOTATIONS: dict[str, Any] = {}        # an annotation's text -> its compiled code


def _resolve(annotation: Any, ns: dict) -> Any:
    """A field annotation (a string, under `from __future__ import annotations`) evaluated in ns."""
    if not isinstance(annotation, str):
        return annotation
    code = _ANNOTATIONS.get(annotation)
    if code is None:
        code = _ANNOTATIONS[annotation] = compile(annotation, "<annotation>", "eval")
    return eval(code, ns)                   # noqa: S307 (our own source's annotations)


class CheckError(Exception):
    """A program that is not in the language: always a compiler bug, never the user's fault."""


class Language:
    """A named set of productions: `nonterminals` maps each nonterminal to its member classes."""

    def __init__(self, name: str, module: types.ModuleType, root: type, parent: Language | None,
                 nonterminals: dict[str, Any], invariants=None):
        self.name, self.module, self.root, self.parent = name, module, root, parent
        self.nonterminals = {k: _members(v) for k, v in nonterminals.items()}
        self.nodes: dict[str, type] = {root.__name__: root}
        for members in self.nonterminals.values():
            for c in members:
                if is_dataclass(c):
                    self.nodes[c.__name__] = c
        for c in list(self.nodes.values()):          # record types reachable from fields
            self._collect(c)
        self.nodes[Launches.__name__] = Launches      # any language's programs, in sequence
        self.invariants = invariants
        self.interpreter = None                       # set by the lK_interp module
        self._hints: dict[type, dict] = {}

    def _collect(self, cls: type) -> None:
        for hint in self.hints(cls).values():
            for t in _flatten(hint):
                if is_dataclass(t) and t.__name__ not in self.nodes:
                    self.nodes[t.__name__] = t
                    self._collect(t)

    def reachable(self, inside_only: frozenset[str] = frozenset()) -> set[str]:
        """The productions a program can hold, found from the root through field types, except
        those found only inside a production named in `inside_only` (which itself counts)."""
        seen: set[str] = set()
        todo = [self.root]
        while todo:
            cls = todo.pop()
            if cls.__name__ in seen:
                continue
            seen.add(cls.__name__)
            if cls.__name__ not in inside_only:
                todo += [t for hint in self.hints(cls).values() for t in _flatten(hint) if is_dataclass(t)]
        return seen

    def hints(self, cls: type) -> dict[str, Any]:
        """cls's field types, their names resolved in this language (typing.get_type_hints, with
        each annotation's text compiled once for every language: `tests/test_grammar.py` checks
        they agree)."""
        if cls not in getattr(self, "_hints", {}):
            self.__dict__.setdefault("_hints", {})
            if "_ns" not in self.__dict__:
                self._ns = dict(vars(terminals), **vars(self.module), Loc=Loc, Launch=self.root)
                self._ns.update({k: typing.Union[tuple(v)] if len(v) > 1 else v[0]
                                 for k, v in self.nonterminals.items()})
            hints = {name: _resolve(a, self._ns) for base in reversed(cls.__mro__)
                     for name, a in base.__dict__.get("__annotations__", {}).items()}
            hints.pop("loc", None)
            self._hints[cls] = hints
        return self._hints[cls]

    def check(self, program: Any, after: str = "", accepted: dict | None = None) -> None:
        """Raise CheckError unless `program` is in this language (grammar, then invariants).
        `accepted` (id -> node) remembers the nodes this language accepted, across the checks of
        one lowering: a node is frozen, and whether it is in the language depends on it alone, so
        a subtree a pass left as it was (the same object) is not walked again."""
        if type(program) is Launches:
            self._check_node(program, "Launches", after, accepted)
            for i, launch in enumerate(program.launches):
                self.check(launch, after, accepted)
            return
        if type(program) is not self.root:
            raise CheckError(self._msg(f"expected a {self.root.__name__} at the root, got "
                                       f"{type(program).__name__}", "program", after, program))
        self._check_node(program, type(program).__name__, after, accepted)
        if self.invariants:
            problem = self.invariants(program)
            if problem:
                raise CheckError(self._msg(problem, "invariant", after, program))

    def _check_node(self, x: Any, path: str, after: str, accepted: dict | None = None) -> None:
        if accepted is not None and id(x) in accepted:
            return
        cls = type(x)
        if self.nodes.get(cls.__name__) is not cls:
            raise CheckError(self._msg(f"{self.name} has no {cls.__name__}", path, after, x))
        for name, spec in self._fields(cls):
            self._check_value(getattr(x, name), spec, name, path, after, x, accepted)
        if accepted is not None:
            accepted[id(x)] = x              # kept alive: its id stays its own

    def _fields(self, cls: type) -> tuple:
        """Each field's name and its annotation compiled once into a Spec (the checker's hot loop
        then never calls into `typing`)."""
        specs = self.__dict__.setdefault("_specs", {})
        if cls not in specs:
            specs[cls] = tuple((name, _spec(hint)) for name, hint in self.hints(cls).items())
        return specs[cls]

    def _check_value(self, v: Any, spec: "Spec", name: Any, path: str, after: str, owner: Any,
                     accepted: dict | None = None) -> None:
        if spec.items is not None:               # a tuple: (T, ...) or (T1, T2, ...)
            if not isinstance(v, tuple):
                raise CheckError(self._msg(f"expected a tuple, got {type(v).__name__}",
                                               _path(path, name), after, owner))
            items = spec.items * len(v) if spec.variadic else spec.items
            if len(items) != len(v):
                raise CheckError(self._msg(f"expected {len(items)} items, got {len(v)}",
                                           _path(path, name), after, owner))
            for i, (item, s) in enumerate(zip(v, items)):
                self._check_value(item, s, (name, i), path, after, owner, accepted)
            return
        t = type(v)
        if t in spec.exact:                      # the common case: a str, an int, a node of the union
            if t in spec.nodes:
                self._check_node(v, _path(path, name), after, accepted)
            return
        if spec.words:                           # one of a Literal's words (a set: `in` as the tuple's)
            try:
                if v in spec.words:
                    return
            except TypeError:                    # unhashable: the full test below decides
                pass
        if any(_accepts(o, v) for o in spec.tests):     # the slow, full test
            return
        wanted = " ".join(sorted(_named(o) for o in spec.options))
        got = t.__name__
        if is_dataclass(v) and self.nodes.get(got) is not t:
            raise CheckError(self._msg(f"{self.name} has no {got}", _path(path, name), after, v,
                                       f"expected one of: {wanted}"))
        raise CheckError(self._msg(f"got {got} {v!r:.60}", _path(path, name), after, owner,
                                   f"expected one of: {wanted}"))

    def _msg(self, what: str, path: str, after: str, x: Any, extra: str = "") -> str:
        loc = getattr(x, "loc", NOLOC)
        where = f", from {loc}" if loc != NOLOC else ""
        head = f"nanott: internal error after {after} (a compiler bug, not your kernel)\n" if after else ""
        return head + f"  {what}: {_shown(path)}{where}" + (f"\n  {extra}" if extra else "")

    def delta(self) -> tuple[list[str], list[str]]:
        """Productions added and removed relative to the parent language (by class identity)."""
        if self.parent is None:
            return sorted(self.nodes), []
        old, new = self.parent.nodes, self.nodes
        added = sorted(n for n, c in new.items() if old.get(n) is not c)
        removed = sorted(n for n, c in old.items() if new.get(n) is not c)
        return added, removed

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Spec:
    """A field annotation compiled for the checker: a tuple of item Specs (`variadic`: (T, ...)), or
    the accepted types (`options`): `exact` holds the types a value may simply be (nodes of the
    union, str, int, bool where bool is named), `nodes` those among them to descend into; any other
    value gets `_accepts`' full test against every option (`tests`: the options but nodes), after
    a look-up in `words`, the words of the Literal options (what `_accepts` finds in their args)."""
    options: tuple
    exact: frozenset = frozenset()
    nodes: frozenset = frozenset()
    items: tuple | None = None
    variadic: bool = False
    tests: tuple = ()
    words: frozenset = frozenset()


_SIMPLE = (str, int, bool)         # isinstance on these equals an exact type test (no subclasses in IR)


def _spec(hint: Any) -> Spec:
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return Spec((hint,), items=(_spec(args[0]),), variadic=True)
        return Spec((hint,), items=tuple(_spec(a) for a in args))
    options = tuple(_flatten(hint))
    nodes = frozenset(t for t in options if is_dataclass(t))
    exact = nodes | {t for t in options if t in _SIMPLE}
    if float in options:                 # _accepts(float, v): any int or float but a bool
        exact |= {float, int}
    words = frozenset(w for o in options if typing.get_origin(o) is typing.Literal
                      for w in typing.get_args(o))
    return Spec(options, frozenset(exact), nodes, tests=tuple(o for o in options if not is_dataclass(o)), words=words)


def _path(path: Any, name: Any) -> tuple:
    """A field's path, kept as (owner's path, name) and printed only for a message (`_shown`)."""
    return (path, name)


def _shown(path: Any) -> str:
    """`Program.kernels[0].body[2]` from nested (path, name) pairs; a name (field, i) is an item."""
    if isinstance(path, str):
        return path
    parent, name = path
    if isinstance(name, tuple):
        return _shown((parent, name[0])) + f"[{name[1]}]"
    return f"{_shown(parent)}.{name}"


def _members(u: Any) -> tuple:
    return tuple(_flatten(u))


def _flatten(hint: Any) -> list:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        out = []
        for a in typing.get_args(hint):
            out.extend(_flatten(a))
        return out
    if typing.get_origin(hint) is tuple:
        out = []
        for a in typing.get_args(hint):
            if a is not Ellipsis:
                out.extend(_flatten(a))
        return out
    return [hint]


def _named(option: Any) -> str:
    """An accepted type as a message shows it: a class by name, a terminal by its vocabulary."""
    if typing.get_origin(option) is typing.Literal:
        words = typing.get_args(option)
        shown = " | ".join(repr(v) for v in words[:16])
        return shown if len(words) <= 16 else f"{shown} | ... ({len(words)} words, nanott/terminals.py)"
    return getattr(option, "__name__", str(option))


def _accepts(t: Any, v: Any) -> bool:
    if t is type(None):
        return v is None
    if t is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t is int:
        return isinstance(v, int) and not isinstance(v, bool)
    if typing.get_origin(t) is typing.Literal:
        return v in typing.get_args(t)
    return isinstance(t, type) and isinstance(v, t)
