"""What a pickle would import, found by walking its opcodes: it is never loaded.

A small symbolic machine follows the stack and memo just far enough to name every
global (GLOBAL/INST directly, STACK_GLOBAL from the two strings below it), to
count PyTorch tensors and storages, and to step over the raw array bytes joblib
writes between opcodes. Opcode meanings come from stdlib `pickletools`; argument
reading is done here so that a huge or lying length is skipped, never read.
"""

from __future__ import annotations

import contextlib
import math
import pickletools
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from regtui.inspect.bounds import Damaged, clip

MAX_OPS = 2_000_000
MAX_STACK = 20_000
MAX_MEMO = 200_000
MAX_CONTAINER = 4_096  # items kept per symbolic list/dict (the rest are counted, not kept)
MAX_INLINE = 1 << 16  # a str/bytes argument longer than this is skipped, not read
MAX_GLOBALS = 500
MAX_PICKLES = 8  # legacy torch files are several pickles in a row
MAX_LINE = 1 << 16
MAX_TOP_ITEMS = 100

_CODE2OP = {op.code.encode("latin-1"): op for op in pickletools.opcodes}

# Imports a loader may do that only build data. Everything else gets a warning.
_SAFE_PREFIXES = (
    "numpy.",
    "sklearn.",
    "scipy.",
    "pandas.",
    "xgboost.",
    "lightgbm.",
    "catboost.",
    "joblib.numpy_pickle.",
    "torch._utils.",
    "torch.storage.",
    "torch._tensor.",
    "collections.",
    "datetime.",
    "decimal.",
    "fractions.",
    "uuid.",
    "pathlib.",
)
_SAFE_EXACT = {
    "builtins.set", "builtins.frozenset", "builtins.dict", "builtins.list", "builtins.tuple",
    "builtins.bytearray", "builtins.bytes", "builtins.complex", "builtins.slice",
    "builtins.range", "builtins.object", "builtins.int", "builtins.float", "builtins.str",
    "builtins.bool", "builtins.NoneType", "__builtin__.set", "__builtin__.object",
    "copy_reg._reconstructor", "copyreg._reconstructor", "copyreg.__newobj__",
    "_codecs.encode", "numpy.dtype", "torch.Size", "torch.device", "torch.dtype",
    "torch.nn.parameter.Parameter", "torch.serialization._get_layout",
    "torch._C._nn.gelu", "re._compile", "argparse.Namespace",
}  # fmt: skip
_TORCH_DATA = re.compile(
    r"torch\.(\w*Storage|float\d*|bfloat16|half|double|int\d*|uint\d*|bool|long|"
    r"complex\d*|qint\d+|quint\w+|contiguous_format|channels_last|preserve_format|strided|"
    r"sparse_coo|float8_\w+)$"
)
# Names that run code or touch the system even inside otherwise trusted packages.
_DANGEROUS_NAME = re.compile(
    r"(?i)(^|\.)(system|popen\w*|exec\w*|eval|compile|spawn\w*|run\w*|call|check_output|"
    r"load\w*|open|__import__|getattr|setattr|delattr|apply|input|breakpoint|rmtree|remove|"
    r"unlink|write\w*|urlopen|request|fork|kill|_?f2py\w*|globals|locals|vars)$"
)


def is_safe_global(name: str) -> bool:
    """Whether importing `name` (module.attr) builds data only, as far as we know."""
    if name in _SAFE_EXACT or _TORCH_DATA.match(name):
        return True
    if _DANGEROUS_NAME.search(name.rsplit(".", 1)[-1]) or ".testing" in name:
        return False
    return name.startswith(_SAFE_PREFIXES)


@dataclass(frozen=True)
class G:
    """A global the loader would import."""

    name: str


@dataclass
class Call:
    func: Any
    args: Any
    state: Any = None


@dataclass(frozen=True)
class Blob:
    size: int


class _Mark:
    pass


_MARK = _Mark()
_UNKNOWN = object()


@dataclass
class PickleScan:
    globals: dict[str, int] = field(default_factory=dict)  # name -> times seen
    opcodes: int = 0
    protocol: int | None = None
    pickles: int = 0
    complete: bool = False
    error: str | None = None
    # The data ended before a STOP opcode: the file is cut short (a pickle still
    # being written, or truncated), not merely odd.
    truncated: bool = False
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
        return [g for g in self.globals if not is_safe_global(g)]


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

    def readline(self) -> bytes:
        line = self.fh.readline(MAX_LINE)
        self.pos += len(line)
        if not line.endswith(b"\n"):
            if len(line) < MAX_LINE:
                raise EOFError(f"unterminated text argument at byte {self.pos}")
            raise ValueError(f"over-long text argument at byte {self.pos}")
        return line[:-1]


def _u(fmt: str, data: bytes) -> int:
    return struct.unpack(fmt, data)[0]


def _read_arg(stream: Stream, kind: str) -> Any:
    """The opcode argument of pickletools type `kind`, with long payloads skipped."""
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
    sized = {
        "string1": 1, "bytes1": 1, "unicodestring1": 1,
        "string4": 4, "bytes4": 4, "unicodestring4": 4,
        "bytes8": 8, "bytearray8": 8, "unicodestring8": 8,
        "long1": 1, "long4": 4,
    }  # fmt: skip
    if kind in sized:
        width = sized[kind]
        raw = stream.read(width)
        n = int.from_bytes(raw, "little", signed=kind == "string4" or kind == "long4")
        if n < 0:
            raise ValueError(f"negative length {n} at byte {stream.pos}")
        if n > MAX_INLINE:
            stream.skip(n)
            return Blob(n)
        data = stream.read(n)
        if kind.startswith("unicode"):
            return data.decode("utf-8", errors="replace")
        if kind.startswith("string"):
            return data.decode("latin-1")
        if kind.startswith("long"):
            return int.from_bytes(data, "little", signed=True)
        return Blob(n)
    line = stream.readline()
    if kind == "stringnl_noescape_pair":
        second = stream.readline()
        return f"{line.decode('utf-8', 'replace')}.{second.decode('utf-8', 'replace')}"
    text = line.decode("utf-8", errors="replace")
    if kind in ("decimalnl_short", "decimalnl_long"):
        text = text.rstrip("L")
        if text in ("00", "01"):
            return text == "01"
        try:
            return int(text)
        except ValueError:
            return _UNKNOWN
    if kind == "floatnl":
        try:
            return float(text)
        except ValueError:
            return _UNKNOWN
    if kind == "stringnl":
        return text.strip("'\"")
    return text


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


class _Machine:
    """Just enough of the unpickler's stack and memo to follow names and shapes."""

    def __init__(self, stream: Stream, scan: PickleScan, on_persid: Callable[[Any], None]) -> None:
        self.s = stream
        self.scan = scan
        self.on_persid = on_persid

    def run(self) -> Any:
        """One pickle, up to and including STOP; its top value."""
        stack: list[Any] = []
        marks: list[int] = []
        memo: dict[int, Any] = {}
        scan = self.scan

        def pop_mark() -> list[Any]:
            if not marks:
                raise ValueError("MARK expected on the stack")
            at = marks.pop()
            items = stack[at:]
            del stack[at:]
            return items

        def pop() -> Any:
            if not stack:
                raise ValueError("stack underflow")
            return stack.pop()

        def add_global(name: str) -> G:
            if len(scan.globals) < MAX_GLOBALS or name in scan.globals:
                scan.globals[name] = scan.globals.get(name, 0) + 1
            return G(name)

        while True:
            scan.opcodes += 1
            if scan.opcodes > MAX_OPS:
                raise _TooLong
            if len(stack) > MAX_STACK or len(memo) > MAX_STACK:
                # Real pickles build containers item by item; a huge flat stack is
                # only a way to make the scanner hold memory.
                raise ValueError(f"pickle stack or memo holds over {MAX_STACK} items")
            code = self.s.read(1)
            op = _CODE2OP.get(code)
            if op is None:
                raise ValueError(f"unknown opcode {code!r} at byte {self.s.pos - 1}")
            arg = _read_arg(self.s, op.arg.name) if op.arg is not None else None
            name = op.name
            if name == "STOP":
                return stack[-1] if stack else None
            if name == "PROTO":
                if scan.protocol is None:
                    scan.protocol = arg
            elif name == "FRAME":
                pass
            elif name == "MARK":
                marks.append(len(stack))
            elif name in ("GLOBAL", "INST"):
                g = add_global(arg)
                if name == "INST":
                    stack.append(Call(g, tuple(pop_mark())))
                else:
                    stack.append(g)
            elif name == "STACK_GLOBAL":
                attr, module = pop(), pop()
                if isinstance(module, str) and isinstance(attr, str):
                    stack.append(add_global(f"{module}.{attr}"))
                else:
                    scan.unresolved += 1
                    stack.append(_UNKNOWN)
            elif name in ("REDUCE", "NEWOBJ"):
                args, func = pop(), pop()
                stack.append(self._call(func, args))
            elif name == "NEWOBJ_EX":
                _kw, args, func = pop(), pop(), pop()
                stack.append(self._call(func, args))
            elif name == "OBJ":
                items = pop_mark()
                stack.append(Call(items[0], tuple(items[1:])) if items else _UNKNOWN)
            elif name == "BUILD":
                state = pop()
                target = stack[-1] if stack else None
                if isinstance(target, Call):
                    target.state = state
                    self._after_build(target)
            elif name in ("PERSID", "BINPERSID"):
                pid = arg if name == "PERSID" else pop()
                self.on_persid(pid)
                stack.append(("persistent", pid))
            elif name in ("EXT1", "EXT2", "EXT4"):
                scan.ext_used = True
                stack.append(_UNKNOWN)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                if stack and (len(memo) < MAX_MEMO or arg in memo):
                    memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                if stack and len(memo) < MAX_MEMO:
                    memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(arg, _UNKNOWN))
            elif name == "POP":
                if stack and (not marks or marks[-1] < len(stack)):
                    stack.pop()
                elif marks:
                    pop_mark()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(stack[-1] if stack else _UNKNOWN)
            elif name in ("EMPTY_LIST",):
                stack.append([])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name in ("EMPTY_SET",):
                stack.append(set())
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE", "LIST", "FROZENSET"):
                items = pop_mark()[:MAX_CONTAINER]
                stack.append(list(items) if name == "LIST" else tuple(items))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise ValueError("stack underflow")
                items = stack[-n:]
                del stack[-n:]
                stack.append(tuple(items))
            elif name == "DICT":
                items = pop_mark()
                stack.append(self._dict_from(items))
            elif name == "APPEND":
                item = pop()
                target = stack[-1] if stack else None
                if isinstance(target, list) and len(target) < MAX_CONTAINER:
                    target.append(item)
            elif name in ("APPENDS", "ADDITEMS"):
                items = pop_mark()
                target = stack[-1] if stack else None
                if isinstance(target, list):
                    target.extend(items[: max(0, MAX_CONTAINER - len(target))])
            elif name == "SETITEM":
                value, key = pop(), pop()
                target = stack[-1] if stack else None
                if isinstance(target, dict) and len(target) < MAX_CONTAINER:
                    self._set(target, key, value)
            elif name == "SETITEMS":
                items = pop_mark()
                target = stack[-1] if stack else None
                if isinstance(target, dict):
                    for i in range(0, len(items) - 1, 2):
                        if len(target) >= MAX_CONTAINER:
                            break
                        self._set(target, items[i], items[i + 1])
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    stack.append(_UNKNOWN)
            else:  # a value-pushing opcode: ints, floats, strings, bytes, None, bools
                if name == "NONE":
                    stack.append(None)
                elif name in ("NEWTRUE", "NEWFALSE"):
                    stack.append(name == "NEWTRUE")
                else:
                    stack.append(arg)

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
        if isinstance(func, G) and func.name in (
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_qtensor",
        ):
            size = args[2] if isinstance(args, tuple) and len(args) > 2 else None
            if isinstance(size, tuple) and all(isinstance(d, int) and d >= 0 for d in size):
                self.scan.tensors += 1
                self.scan.tensor_elements += math.prod(size)
        return call

    def _after_build(self, obj: Call) -> None:
        """joblib writes each numpy array's bytes right after its wrapper's BUILD."""
        if not (isinstance(obj.func, G) and obj.func.name.endswith("NumpyArrayWrapper")):
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
        if size == 0:  # object arrays are written as a nested pickle
            _Machine(self.s, self.scan, self.on_persid).run()
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self.s.read(1)[0]
            self.s.skip(pad)
        self.s.skip(math.prod(shape) * size)


class _TooLong(Exception):
    pass


def scan_pickle(
    fh: IO[bytes],
    *,
    seekable: bool = True,
    on_persid: Callable[[Any], None] | None = None,
    sequence: bool = True,
    max_pickles: int = MAX_PICKLES,
) -> PickleScan:
    """Walk the pickle(s) in `fh`; never raises for bad content (see `.error` and
    `.truncated`). `max_pickles` stops before data that only looks like another
    pickle (legacy torch files put raw storages after exactly five)."""
    scan = PickleScan()
    stream = Stream(fh, seekable)

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

    machine = _Machine(stream, scan, persid)
    try:
        while scan.pickles < max_pickles:
            value = machine.run()
            scan.end = machine.s.pos
            if scan.pickles == 0:
                scan.first_value = value if isinstance(value, int | str) else None
                scan.top = _plain_items(value)
            scan.pickles += 1
            if not sequence:
                break
            nxt = fh.read(1)
            if nxt != b"\x80":
                break
            if seekable:
                fh.seek(-1, 1)
            else:
                stream = _Prefixed(fh, nxt, stream.pos)
                machine.s = stream
        scan.complete = True
    except _TooLong:
        scan.error = f"stopped after {MAX_OPS} opcodes: the rest was not scanned"
    except EOFError as exc:
        scan.truncated = True
        scan.error = clip(str(exc), 300)
    except (ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
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


def raise_if_truncated(scan: PickleScan, what: str = "pickle") -> None:
    """Damaged if the data ended before a STOP opcode."""
    if scan.truncated:
        raise Damaged(f"{what} ends before its STOP opcode: truncated ({scan.error})")


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
    """Metadata and warnings for a scanned pickle (every pickle gets a warning)."""
    names = list(scan.globals)
    unsafe = scan.unsafe
    meta: dict[str, Any] = {
        "pickle_protocol": scan.protocol,
        "pickle_opcodes": scan.opcodes,
        "imports": names,
    }
    if unsafe:
        meta["unsafe_imports"] = unsafe
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    warnings = [
        f"pickle-based: loading it would import {shown}"
        if names
        else "pickle-based: loading it imports nothing (plain data)"
    ]
    if unsafe:
        warnings.append(
            "imports outside the allow-list (would run on load): "
            + ", ".join(unsafe[:20])
            + (f" and {len(unsafe) - 20} more" if len(unsafe) > 20 else "")
        )
    if scan.unresolved:
        warnings.append(
            f"{scan.unresolved} import(s) computed at load time could not be named: treat as unsafe"
        )
    if scan.ext_used:
        warnings.append("uses the copyreg extension registry: imports cannot be named")
    if scan.error and not scan.truncated:  # truncation is damage, reported as such
        warnings.append(f"pickle scan incomplete: {scan.error}")
    return meta, warnings
