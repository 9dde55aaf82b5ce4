"""What a pickle would import, found by walking its opcodes: it is never loaded.

A symbolic machine follows the unpickler's stack, marks and memo exactly enough to
know every string on the stack, so each global is named as `find_class` would
receive it: GLOBAL/INST operands decoded as the C unpickler decodes them,
STACK_GLOBAL from the two strings below it (through PUT/GET/MEMOIZE), EXT codes
and operands it cannot know counted as unnamed imports. Each name is judged as an
exact (module, qualname) pair after pickle's own Python 2 name mapping
(`pickle_allow`). Nothing is capped silently: a pickle beyond a limit (opcodes,
distinct imports, memo size) stops the scan with `over_limit` set, and the caller
treats it as unsafe and refuses it. Opcode meanings come from stdlib `pickletools`;
argument reading is done here so that a huge or lying length is skipped, never read.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import pickletools
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from regtui.inspect.bounds import Damaged, Refused, check_deadline, clip
from regtui.inspect.pickle_allow import display, is_allowed, is_safe_global, reloads, severity

__all__ = [
    "PickleScan",
    "add_plain_reading",
    "describe",
    "is_safe_global",
    "raise_if_over_limit",
    "raise_if_truncated",
    "scan_pickle",
]

MAX_OPS = 1_000_000
MAX_STACK = 20_000  # values kept on the symbolic stack; deeper pushes are kept as unknown
MAX_SPARSE_MEMO = 200_000  # memo keys that are not the next index (real pickles have none)
MAX_CONTAINER = 4_096  # items kept per symbolic list/dict (the rest are counted, not kept)
MAX_INLINE = 1 << 16  # a str/bytes argument longer than this is skipped, not read
MAX_GLOBALS = 2_000  # distinct imports; more is no model we know: the scan stops (over limit)
MAX_PICKLES = 64  # pickles in a row in one file (pickle.dump called again and again)
MAX_LINE = 1 << 16
MAX_TOP_ITEMS = 100

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


@dataclass(frozen=True)
class Blob:
    size: int


class _Opaque:
    """A value the scanner cannot know (a call's result, a skipped string): never a str."""

    def __init__(self, why: str) -> None:
        self.why = why


_UNKNOWN = _Opaque("unknown")
_DEEP = _Opaque("beyond the stack kept")
_LONG_TEXT = _Opaque("over-long text")
# A byte string a loader decodes with its own encoding (ASCII, latin-1, utf-8 or
# bytes): the same str only when it is ASCII, so anything else is not known.
_LOADER_DECODED = _Opaque("non-ASCII byte string")


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


class _OverLimit(Exception):
    pass


class Stream:
    """Bounded reads over a file object; `skip` seeks when it can, else discards."""

    def __init__(self, fh: IO[bytes], seekable: bool = True) -> None:
        self.fh = fh
        self.seekable = seekable
        self.pos = 0

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        self.pos += len(data)
        if len(data) < n:
            raise EOFError(f"unexpected end of data at byte {self.pos}")
        return data

    def skip(self, n: int) -> None:
        if self.seekable:
            here = self.fh.tell()
            end = self.fh.seek(0, 2)
            if here + n > end:
                raise EOFError(f"a {n}-byte argument at byte {self.pos} runs past the end")
            self.fh.seek(here + n)
            self.pos += n
            return
        left = n
        while left:
            chunk = self.fh.read(min(left, 1 << 20))
            if not chunk:
                raise EOFError(f"a {n}-byte argument at byte {self.pos} runs past the end")
            left -= len(chunk)
            self.pos += len(chunk)

    def readline(self) -> bytes | None:
        """One line without its newline; None for a line longer than MAX_LINE (read
        past, not kept: pickle reads lines of any length)."""
        line = self.fh.readline(MAX_LINE)
        self.pos += len(line)
        if line.endswith(b"\n"):
            return line[:-1]
        if len(line) < MAX_LINE:  # the C unpickler refuses a line without its newline
            raise EOFError(f"unterminated text argument at byte {self.pos}")
        while True:
            more = self.fh.readline(1 << 20)
            self.pos += len(more)
            if more.endswith(b"\n"):
                return None
            if not more:
                raise EOFError(f"unterminated text argument at byte {self.pos}")


def _u(fmt: str, data: bytes) -> int:
    value: int = struct.unpack(fmt, data)[0]
    return value


_SIZED = {
    "string1": (1, False), "bytes1": (1, False), "unicodestring1": (1, False),
    "string4": (4, True), "bytes4": (4, False), "unicodestring4": (4, False),
    "bytes8": (8, False), "bytearray8": (8, False), "unicodestring8": (8, False),
    "long1": (1, False), "long4": (4, True),
}  # fmt: skip


def _loader_str(raw: bytes) -> Any:
    """A byte string (STRING, BINSTRING) as the loader's `encoding` turns it into a str."""
    return raw.decode("ascii") if raw.isascii() else _LOADER_DECODED


def _quoted(line: bytes) -> bytes:
    """STRING's argument: quoted alike at both ends, as the C unpickler demands."""
    if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
        return line[1:-1]
    raise ValueError("the STRING opcode argument must be quoted")


def _read_arg(stream: Stream, kind: str) -> Any:
    """The argument of pickletools type `kind`, decoded exactly as the unpickler
    decodes it (a decoding it would refuse raises); long payloads skipped."""
    if kind == "uint1":
        return stream.read(1)[0]
    if kind == "uint2":
        return _u("<H", stream.read(2))
    if kind == "int4":
        return _u("<i", stream.read(4))
    if kind == "uint4":
        return _u("<I", stream.read(4))
    if kind == "uint8":
        return _u("<Q", stream.read(8))
    if kind == "float8":
        return _u(">d", stream.read(8))
    if kind in _SIZED:
        width, signed = _SIZED[kind]
        n = int.from_bytes(stream.read(width), "little", signed=signed)
        if n < 0:
            raise ValueError(f"negative length {n} at byte {stream.pos}")
        if n > MAX_INLINE:
            stream.skip(n)
            return Blob(n)
        data = stream.read(n)
        if kind.startswith("unicode"):
            return data.decode("utf-8", "surrogatepass")
        if kind.startswith("string"):
            return _loader_str(data)
        if kind.startswith("long"):
            return int.from_bytes(data, "little", signed=True)
        return Blob(n)
    if kind == "stringnl_noescape_pair":
        return stream.readline(), stream.readline()
    line = stream.readline()
    if line is None:
        return _LONG_TEXT
    if kind == "stringnl":
        return _loader_str(codecs.escape_decode(_quoted(line))[0])
    if kind == "unicodestringnl":
        return codecs.decode(line, "raw-unicode-escape")
    if kind == "stringnl_noescape":  # PERSID's id
        return line.decode("ascii")
    text = line.decode("ascii")
    if kind == "decimalnl_short":
        if text in ("00", "01"):
            return text == "01"
        return int(text, 0)
    if kind == "decimalnl_long":
        return int(text[:-1] if text.endswith("L") else text, 0)
    if kind == "floatnl":
        return float(text)
    raise ValueError(f"unknown argument kind {kind}")


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
            raise _OverLimit(f"memo keys out of order beyond {MAX_SPARSE_MEMO}")
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


class _Machine:
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
            raise _OverLimit(f"over {MAX_GLOBALS} distinct imports")
        scan.globals[name] = scan.globals.get(name, 0) + 1
        if not is_allowed(module, qualname, proto):
            self._unsafe(name)
        return G(module, qualname)

    def _unsafe(self, name: str) -> None:
        if name not in self.scan.unsafe_names and len(self.scan.unsafe_names) >= MAX_GLOBALS:
            raise _OverLimit(f"over {MAX_GLOBALS} distinct unsafe imports")
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
                raise _OverLimit(f"over {MAX_OPS} opcodes")
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
                arg = _read_arg(self.s, op.arg.name) if op.arg is not None else None
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
                lines = [_LONG_TEXT if ln is None else ln for ln in arg]
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
            _Machine(self.s, self.scan, self.on_persid, self.joblib).run()
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


def scan_pickle(
    fh: IO[bytes],
    *,
    seekable: bool = True,
    on_persid: Callable[[Any], None] | None = None,
    sequence: bool = True,
    max_pickles: int | None = None,
    joblib: bool = True,
) -> PickleScan:
    """Walk the pickle(s) in `fh`; never raises for bad content (see `.error`,
    `.truncated`, `.over_limit`). With `sequence`, every pickle up to the end of the
    data is walked (a loader may call load() again), over MAX_PICKLES is over the
    limit; `max_pickles` instead stops after exactly that many, before data that
    only looks like another pickle (legacy torch files put raw storages after five)."""
    scan = PickleScan()
    stream = Stream(fh, seekable)
    limit = max_pickles if max_pickles is not None else MAX_PICKLES

    def persid(pid: Any) -> None:
        if (
            isinstance(pid, tuple)
            and len(pid) >= 5
            and pid[0] == "storage"
            and len(scan.storages) < 1_000_000
        ):
            kind = pid[1].name if isinstance(pid[1], G) else "?"
            numel = pid[4] if isinstance(pid[4], int) else 0
            scan.storages[str(pid[2])] = (kind, numel)
        if on_persid is not None:
            on_persid(pid)

    machine = _Machine(stream, scan, persid, joblib)
    try:
        while True:
            value = machine.run()
            scan.end = machine.s.pos
            if scan.pickles == 0:
                scan.first_value = value if isinstance(value, int | str) else None
                scan.top = _plain_items(value)
            scan.pickles += 1
            if not sequence or scan.pickles == max_pickles:
                break
            nxt = fh.read(1)
            if not nxt:
                break
            if scan.pickles >= limit:
                raise _OverLimit(f"over {limit} pickles in a row")
            if seekable:
                fh.seek(-1, 1)
            else:
                stream = _Prefixed(fh, nxt, stream.pos)
                machine.s = stream
        scan.complete = True
    except _OverLimit as exc:
        scan.over_limit = f"{exc}: the rest was not scanned"
        scan.error = scan.over_limit
    except EOFError as exc:
        scan.truncated = True
        scan.error = clip(str(exc), 300)
    except (ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        # UnicodeDecodeError included: the unpickler refuses what does not decode
        scan.error = clip(f"malformed pickle: {exc}", 300)
    except RecursionError:
        scan.error = "malformed pickle: nested too deeply"
    return scan


def _plain_items(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {
        clip(k, 200): clip(v) if isinstance(v, str) else v
        for k, v in list(value.items())[:MAX_TOP_ITEMS]
        if isinstance(k, str) and (v is None or isinstance(v, bool | int | float | str))
    }


class _Prefixed(Stream):
    """A non-seekable stream with one byte already taken off it."""

    def __init__(self, fh: IO[bytes], first: bytes, pos: int) -> None:
        super().__init__(fh, seekable=False)
        self._first = first
        self.pos = pos

    def read(self, n: int) -> bytes:
        if self._first and n > 0:
            head, self._first = self._first, b""
            self.pos += 1
            return head + (super().read(n - 1) if n > 1 else b"")
        return super().read(n)


def add_plain_reading(scan: PickleScan, reopen: Callable[[], Any]) -> None:
    """A joblib file read by plain pickle.load runs its array bytes as opcodes: the
    imports found that way, before the data stops making sense, count as well."""
    if not scan.joblib_arrays:
        return
    with reopen() as fh:
        plain = scan_pickle(fh, seekable=False, joblib=False)
    for name in plain.unsafe_names:
        if not name.startswith("<"):
            scan.unsafe_names.setdefault(f"{name} (if read by pickle.load)", None)
            scan.globals.setdefault(name, 1)


def raise_if_truncated(scan: PickleScan, what: str = "pickle") -> None:
    """Damaged if the data ended before a STOP opcode."""
    if scan.truncated:
        raise Damaged(f"{what} ends before its STOP opcode: truncated ({scan.error})")


def raise_if_over_limit(scan: PickleScan, what: str = "pickle") -> None:
    """Refused if a limit stopped the scan: what follows could import anything."""
    if scan.over_limit:
        raise Refused(f"{what} too large to scan whole ({scan.over_limit}): treated as unsafe")


def framework_from_globals(names: list[str]) -> str | None:
    """The library a pickled object belongs to, from the first distinctive import."""
    for prefix, framework in (
        ("torch.", "torch"),
        ("xgboost.", "xgboost"),
        ("lightgbm.", "lightgbm"),
        ("catboost.", "catboost"),
        ("sklearn.", "sklearn"),
        ("pandas.", "pandas"),
        ("numpy.", "numpy"),
    ):
        if any(n.startswith(prefix) for n in names):
            return framework
    return None


def describe(scan: PickleScan) -> tuple[dict[str, Any], list[str]]:
    """Metadata and warnings for a scanned pickle (every pickle gets a warning).
    `unsafe_imports` lists every import outside the allow-list, with a `<…>` entry
    for each kind of import that cannot be named; `pickle_unsafe` says loading it
    may run code (that, or a scan that could not finish)."""
    names = list(scan.globals)
    unsafe = sorted(scan.unsafe_names, key=_severity)  # stable: known-dangerous first
    named = [n for n in unsafe if not n.startswith("<")]
    meta: dict[str, Any] = {
        "pickle_protocol": scan.protocol,
        "pickle_opcodes": scan.opcodes,
        "imports": names,
    }
    if scan.error and not scan.truncated:  # not seen to the end: anything may follow
        unsafe.insert(0, "<pickle scan incomplete>")
    if unsafe:
        meta["unsafe_imports"] = unsafe
        meta["unsafe_import_count"] = len(unsafe)
    if scan.dangerous:
        meta["pickle_unsafe"] = True
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    warnings = [
        f"pickle-based: loading it would import {shown}"
        if names
        else "pickle-based: loading it imports nothing (plain data)"
    ]
    if named:
        listed = [_with_role(n) for n in named[:20]]
        warnings.append(
            "imports outside the allow-list (would run on load): "
            + ", ".join(listed)
            + (f" and {len(named) - 20} more" if len(named) > 20 else "")
        )
    if scan.unresolved:
        warnings.append(
            f"{scan.unresolved} import(s) computed at load time could not be named: treat as unsafe"
        )
    if scan.ext_used:
        warnings.append(
            "uses the copyreg extension registry: imports cannot be named: treat as unsafe"
        )
    if scan.error and not scan.truncated:  # truncation is damage, reported as such
        warnings.append(f"pickle scan incomplete ({scan.error}): treat as unsafe")
    return meta, warnings


def _severity(name: str) -> int:
    if name.startswith("<"):
        return 0
    module, _, qualname = name.rpartition(".")
    return severity(module, qualname)


def _with_role(name: str) -> str:
    module, _, qualname = name.rpartition(".")
    if reloads(module, qualname):
        return f"{name} (loads another pickle or runs code)"
    return name
