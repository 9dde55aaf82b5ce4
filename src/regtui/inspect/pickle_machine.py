"""The symbolic unpickler: the stack, marks and memo of a pickle being walked, kept
exactly enough to know every string on the stack, so each global is named as
`find_class` would receive it. What it finds goes into a `PickleScan`; a limit
reached raises `OverLimit` (the caller treats the pickle as unsafe)."""

from __future__ import annotations

import contextlib
import math
import pickletools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regtui.inspect.bounds import check_deadline
from regtui.inspect.pickle_allow import display, is_allowed
from regtui.inspect.pickle_args import LONG_TEXT, Opaque, Stream, read_arg

MAX_OPS = 1_000_000
MAX_STACK = 20_000  # values kept on the symbolic stack; deeper pushes are kept as unknown
MAX_SPARSE_MEMO = 200_000  # memo keys that are not the next index (real pickles have none)
MAX_CONTAINER = 4_096  # items kept per symbolic list/dict (the rest are counted, not kept)
MAX_GLOBALS = 2_000  # distinct imports; more is no model we know: the scan stops (over limit)

_CODE2OP = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
HIGHEST_PROTOCOL = 5


@dataclass(frozen=True)
class G:
    """A global the loader would import (`module`, `qualname` as find_class gets them)."""

    module: str
    qualname: str

    @property
    def name(self) -> str:
        return f"{self.module}.{self.qualname}"


@dataclass
class Call:
    func: Any
    args: Any
    state: Any = None


_UNKNOWN = Opaque("unknown")
_DEEP = Opaque("beyond the stack kept")


@dataclass
class PickleScan:
    globals: dict[str, int] = field(default_factory=dict)  # name -> times seen
    # Names (as written) whose exact pair is outside the allow-list, and the
    # imports pickle would do that cannot be named: each makes the pickle unsafe.
    unsafe_names: dict[str, None] = field(default_factory=dict)
    opcodes: int = 0
    protocol: int | None = None
    pickles: int = 0
    complete: bool = False
    error: str | None = None
    # The data ended before a STOP opcode: the file is cut short (a pickle still
    # being written, or truncated), not merely odd.
    truncated: bool = False
    # A limit stopped the scan before the end: what follows was not seen.
    over_limit: str | None = None
    end: int = 0  # bytes up to the last STOP
    unresolved: int = 0  # STACK_GLOBAL with operands we could not follow
    ext_used: bool = False
    tensors: int = 0
    tensor_elements: int = 0
    storages: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (type, numel)
    first_value: Any = None
    # The first pickle's top-level dict, plain values only (a checkpoint's counters).
    top: dict[str, Any] = field(default_factory=dict)
    joblib_arrays: int = 0

    @property
    def unsafe(self) -> list[str]:
        """Named imports outside the allow-list (the unnameable ones are in `unsafe_names`)."""
        return [n for n in self.unsafe_names if not n.startswith("<")]

    @property
    def dangerous(self) -> bool:
        """Loading it may run code: an import outside the allow-list, one that cannot be
        named, or a scan that stopped before the end for any reason but truncation."""
        return bool(self.unsafe_names) or (self.error is not None and not self.truncated)


class OverLimit(Exception):
    pass


def _itemsize(dtype: str) -> int | None:
    m = re.fullmatch(r"[<>|=]?([a-zA-Z?])(\d*)(\[\w+\])?", dtype)
    if not m:
        return None
    kind, num = m.group(1), m.group(2)
    if kind == "O":
        return 0
    if kind in "?b" and not num:
        return 1
    n = int(num) if num else None
    if kind == "U":
        return 4 * (n or 1)
    if n is None:
        return {"d": 8, "f": 4, "e": 2, "q": 8, "l": 8, "i": 4, "h": 2, "B": 1, "H": 2,
                "I": 4, "L": 8, "Q": 8, "g": 16}.get(kind)  # fmt: skip
    return n


class _Memo:
    """The unpickler's memo: a list while keys come in order (PUT n, n+1 … and MEMOIZE,
    as every pickler writes them), a dict for the rest. Its size counts every key,
    as MEMOIZE's next index does, so no entry may be dropped."""

    def __init__(self) -> None:
        self.dense: list[Any] = []
        self.sparse: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.dense) + len(self.sparse)

    def put(self, key: int, value: Any) -> None:
        if key < 0:
            raise ValueError("negative PUT argument")
        if key < len(self.dense):
            self.dense[key] = value
            return
        if key == len(self.dense):
            self.sparse.pop(key, None)
            self.dense.append(value)
            while len(self.dense) in self.sparse:
                self.dense.append(self.sparse.pop(len(self.dense)))
            return
        if key not in self.sparse and len(self.sparse) >= MAX_SPARSE_MEMO:
            raise OverLimit(f"memo keys out of order beyond {MAX_SPARSE_MEMO}")
        self.sparse[key] = value

    def get(self, key: int) -> Any:
        if 0 <= key < len(self.dense):
            return self.dense[key]
        if key in self.sparse:
            return self.sparse[key]
        raise ValueError(f"memo value not found at index {key}")


def _memo_key(line: bytes | None) -> int:
    """GET/PUT's decimal argument, parsed as the C unpickler does (base 10)."""
    if line is None:
        raise ValueError("over-long memo index")
    return int(line.decode("ascii"), 10)


class Machine:
    """The unpickler's stack, marks and memo, as far as strings and names go."""

    def __init__(
        self,
        stream: Stream,
        scan: PickleScan,
        on_persid: Callable[[Any], None],
        joblib: bool = True,
    ) -> None:
        self.s = stream
        self.scan = scan
        self.on_persid = on_persid
        self.joblib = joblib  # False: read as pickle.load would, array bytes as opcodes

    def add_global(self, module: Any, qualname: Any, proto: int) -> Any:
        """Record an import pickle would do; returns the symbolic global."""
        scan = self.scan
        if not (isinstance(module, str) and isinstance(qualname, str)):
            why = getattr(module if not isinstance(module, str) else qualname, "why", "?")
            self._unsafe(f"<import computed at load time ({why})>")
            scan.unresolved += 1
            return _UNKNOWN
        name = display(module, qualname)
        if name not in scan.globals and len(scan.globals) >= MAX_GLOBALS:
            raise OverLimit(f"over {MAX_GLOBALS} distinct imports")
        scan.globals[name] = scan.globals.get(name, 0) + 1
        if not is_allowed(module, qualname, proto):
            self._unsafe(name)
        return G(module, qualname)

    def _unsafe(self, name: str) -> None:
        if name not in self.scan.unsafe_names and len(self.scan.unsafe_names) >= MAX_GLOBALS:
            raise OverLimit(f"over {MAX_GLOBALS} distinct unsafe imports")
        self.scan.unsafe_names[name] = None

    def run(self) -> Any:
        """One pickle, up to and including STOP; its top value."""
        stack: list[Any] = []
        marks: list[int] = []
        memo = _Memo()
        scan = self.scan
        proto = 0  # the unpickler's, set by each PROTO; fix_imports applies below 3

        def fence() -> int:
            return marks[-1] if marks else 0

        def push(value: Any) -> None:
            stack.append(value if len(stack) < MAX_STACK else _DEEP)

        def pop() -> Any:
            if len(stack) <= fence():
                raise ValueError("unpickling stack underflow")
            return stack.pop()

        def top() -> Any:
            if len(stack) <= fence():
                raise ValueError("unpickling stack underflow")
            return stack[-1]

        def pop_mark() -> list[Any]:
            if not marks:
                raise ValueError("could not find MARK")
            at = marks.pop()
            items = stack[at:]
            del stack[at:]
            return items

        while True:
            scan.opcodes += 1
            if scan.opcodes > MAX_OPS:
                raise OverLimit(f"over {MAX_OPS} opcodes")
            if not scan.opcodes & 0xFFFF:
                check_deadline()  # a stream that inflates slowly still meets the deadline
            code = self.s.read(1)
            op = _CODE2OP.get(code)
            if op is None:
                raise ValueError(f"invalid load key {code!r} at byte {self.s.pos - 1}")
            name = op.name
            if name in ("GET", "PUT"):
                arg: Any = _memo_key(self.s.readline())
            else:
                arg = read_arg(self.s, op.arg.name) if op.arg is not None else None
            if name == "STOP":
                return pop()
            if name == "PROTO":
                if arg > HIGHEST_PROTOCOL:
                    raise ValueError(f"unsupported pickle protocol: {arg}")
                proto = arg
                if scan.protocol is None:
                    scan.protocol = arg
            elif name == "FRAME":
                pass
            elif name == "MARK":
                marks.append(len(stack))
            elif name in ("GLOBAL", "INST"):
                lines = [LONG_TEXT if ln is None else ln for ln in arg]
                # GLOBAL's names are UTF-8, INST's ASCII; an empty line is refused
                codec = "utf-8" if name == "GLOBAL" else "ascii"
                module, qualname = (
                    ln.decode(codec) if isinstance(ln, bytes) else ln for ln in lines
                )
                if module == "" or qualname == "":
                    raise ValueError(f"{name} with an empty name")
                g = self.add_global(module, qualname, proto)
                if name == "INST":
                    push(Call(g, tuple(pop_mark())))
                else:
                    push(g)
            elif name == "STACK_GLOBAL":
                qualname, module = pop(), pop()
                push(self.add_global(module, qualname, proto))
            elif name in ("REDUCE", "NEWOBJ"):
                args = pop()
                push(self._call(pop(), args))
            elif name == "NEWOBJ_EX":
                _kw, args = pop(), pop()
                push(self._call(pop(), args))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise ValueError("OBJ without a class")
                push(Call(items[0], tuple(items[1:])))
            elif name == "BUILD":
                state = pop()
                target = top()
                if isinstance(target, Call):
                    target.state = state
                    self._after_build(target)
            elif name in ("PERSID", "BINPERSID"):
                pid = arg if name == "PERSID" else pop()
                self.on_persid(pid)
                push(("persistent", pid))
            elif name in ("EXT1", "EXT2", "EXT4"):
                # copyreg's extension registry maps the code to a global we cannot see
                scan.ext_used = True
                self._unsafe(f"<copyreg extension code {arg}>")
                push(_UNKNOWN)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo.put(arg, top())
            elif name == "MEMOIZE":
                memo.put(len(memo), top())
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                push(memo.get(arg))
            elif name == "POP":
                if marks and marks[-1] == len(stack):
                    marks.pop()
                else:
                    pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                push(top())
            elif name == "EMPTY_LIST":
                push([])
            elif name == "EMPTY_DICT":
                push({})
            elif name == "EMPTY_SET":
                push(set())
            elif name == "EMPTY_TUPLE":
                push(())
            elif name in ("TUPLE", "LIST", "FROZENSET"):
                items = pop_mark()[:MAX_CONTAINER]
                push(list(items) if name == "LIST" else tuple(items))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) - n < fence():
                    raise ValueError("unpickling stack underflow")
                items = stack[-n:]
                del stack[-n:]
                push(tuple(items))
            elif name == "DICT":
                items = pop_mark()
                if len(items) % 2:
                    raise ValueError("odd number of items for DICT")
                push(self._dict_from(items))
            elif name == "APPEND":
                item = pop()
                target = top()
                if isinstance(target, list) and len(target) < MAX_CONTAINER:
                    target.append(item)
            elif name in ("APPENDS", "ADDITEMS"):
                items = pop_mark()
                target = top()
                if isinstance(target, list):
                    target.extend(items[: max(0, MAX_CONTAINER - len(target))])
            elif name == "SETITEM":
                value, key = pop(), pop()
                target = top()
                if isinstance(target, dict) and len(target) < MAX_CONTAINER:
                    self._set(target, key, value)
            elif name == "SETITEMS":
                items = pop_mark()
                if len(items) % 2:
                    raise ValueError("odd number of items for SETITEMS")
                target = top()
                if isinstance(target, dict):
                    for i in range(0, len(items) - 1, 2):
                        if len(target) >= MAX_CONTAINER:
                            break
                        self._set(target, items[i], items[i + 1])
            elif name == "NEXT_BUFFER":
                push(_UNKNOWN)
            elif name == "READONLY_BUFFER":
                top()
            elif name == "NONE":
                push(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                push(name == "NEWTRUE")
            else:  # a value-pushing opcode: ints, floats, strings, bytes
                push(arg)

    @staticmethod
    def _set(target: dict[Any, Any], key: Any, value: Any) -> None:
        with contextlib.suppress(TypeError):  # unhashable symbolic key
            target[key] = value

    def _dict_from(self, items: list[Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for i in range(0, min(len(items), 2 * MAX_CONTAINER) - 1, 2):
            self._set(out, items[i], items[i + 1])
        return out

    def _call(self, func: Any, args: Any) -> Any:
        call = Call(func, args)
        if isinstance(func, G) and (func.module, func.qualname) in _TENSOR_REBUILDERS:
            size = args[2] if isinstance(args, tuple) and len(args) > 2 else None
            if isinstance(size, tuple) and all(isinstance(d, int) and d >= 0 for d in size):
                self.scan.tensors += 1
                self.scan.tensor_elements += math.prod(size)
        return call

    def _after_build(self, obj: Call) -> None:
        """joblib writes each numpy array's bytes right after its wrapper's BUILD."""
        if not self.joblib or not (
            isinstance(obj.func, G) and (obj.func.module, obj.func.qualname) == _JOBLIB_ARRAY
        ):
            return
        state = obj.state
        if not isinstance(state, dict):
            raise ValueError("joblib array wrapper without a readable state")
        shape = state.get("shape")
        dtype = state.get("dtype")
        dtype_str = None
        if isinstance(dtype, Call) and isinstance(dtype.args, tuple) and dtype.args:
            dtype_str = dtype.args[0] if isinstance(dtype.args[0], str) else None
        size = _itemsize(dtype_str) if dtype_str else None
        if (
            not isinstance(shape, tuple)
            or size is None
            or not all(isinstance(d, int) and d >= 0 for d in shape)
        ):
            raise ValueError("joblib array wrapper whose size cannot be worked out")
        self.scan.joblib_arrays += 1
        if size == 0:  # object arrays are written as a nested pickle (a fresh unpickler)
            Machine(self.s, self.scan, self.on_persid, self.joblib).run()
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self.s.read(1)[0]
            self.s.skip(pad)
        self.s.skip(math.prod(shape) * size)


_TENSOR_REBUILDERS = {
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_qtensor"),
}
_JOBLIB_ARRAY = ("joblib.numpy_pickle", "NumpyArrayWrapper")
