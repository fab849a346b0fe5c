"""llvmlite.ir: the Python-built LLVM IR that xDSL's backend emits, as far as schedopt reads and edits it."""

class Type: ...

class PointerType(Type):
    """A pointer, opaque unless given a `pointee`, in address space `addrspace`."""

    is_opaque: bool
    addrspace: int
    def __init__(self, pointee: Type | None = None, addrspace: int = 0) -> None: ...

class Value:
    type: Type

class NamedValue(Value):
    name: str

class Instruction(NamedValue):
    opname: str
    operands: list[Value]

class Block(NamedValue):
    instructions: list[Instruction]

class GlobalValue(NamedValue): ...

class GlobalVariable(GlobalValue):
    align: int | None

class Function(GlobalValue):
    blocks: list[Block]
    calling_convention: str

class Module:
    def __init__(self, name: str = "", context: object = ...) -> None: ...
    @property
    def functions(self) -> list[Function]: ...
    def get_global(self, name: str) -> GlobalValue: ...
