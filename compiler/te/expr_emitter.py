"""Emits a te expression tree as the `arith`/`math`/`scf` ops of a `te.compute` body.

Index arithmetic is on `index` values; a select whose branch reads a tensor
becomes an `scf.if`, so that the read of the branch not taken (padding)
never happens.
"""

from __future__ import annotations

from xdsl.builder import Builder
from xdsl.dialects import arith, math, scf
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IndexType, IntegerAttr, IntegerType, i1
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from schedopt.dialects import te as te_dialect
from schedopt.errors import TEError
from schedopt.te.dtypes import INDEX, bit_width, dtype_to_type, float_type, integer_type, is_float
from schedopt.te.expr import Binary, Call, Cast, Const, Expr, IterVar, Select, walk
from schedopt.te.tensor import TensorRead

_FLOAT_BINARY = {"add": arith.AddfOp, "sub": arith.SubfOp, "mul": arith.MulfOp, "div": arith.DivfOp}
_INT_BINARY = {"add": arith.AddiOp, "sub": arith.SubiOp, "mul": arith.MuliOp, "floordiv": arith.FloorDivSIOp}
_FLOAT_PREDICATES = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}
_INT_PREDICATES = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}
_FLOAT_UNARY = {
    "exp": math.ExpOp,
    "log": math.LogOp,
    "sqrt": math.SqrtOp,
    "rsqrt": math.RsqrtOp,
    "tanh": math.TanhOp,
    "erf": math.ErfOp,
    "floor": math.FloorOp,
    "ceil": math.CeilOp,
}


class ExprEmitter:
    """Emits expression trees at the end of a block, each shared node (and constant) once.

    `iters` and `tensors` map the id of an IterVar and of a tensor's
    declaration to the SSA values that stand for them in the block.
    """

    def __init__(self, block: Block, iters: dict[int, SSAValue], tensors: dict[int, SSAValue]):
        self.builder = Builder(InsertPoint.at_end(block))
        self.iters = iters
        self.tensors = tensors
        self.memo: dict[int, SSAValue] = {}
        self.constants: dict[tuple[type, int | float | bool, str], SSAValue] = {}

    def emit(self, expr: Expr) -> SSAValue:
        key = id(expr)
        if key not in self.memo:
            self.memo[key] = self._emit(expr)
        return self.memo[key]

    def _constant(self, value: int | float | bool, dtype: str) -> SSAValue:
        key = (type(value), value, dtype)
        if key not in self.constants:
            self.constants[key] = self._insert(arith.ConstantOp(_const_attr(value, dtype)))
        return self.constants[key]

    def _insert(self, op: Operation) -> SSAValue:
        self.builder.insert(op)
        return op.results[0]

    def _emit(self, expr: Expr) -> SSAValue:
        match expr:
            case IterVar():
                arg = self.iters[id(expr)]
                if expr.start == 0:
                    return arg
                offset = self._constant(expr.start, INDEX)
                return self._insert(arith.AddiOp(arg, offset))
            case Const():
                return self._constant(expr.value, expr.dtype)
            case TensorRead():
                indices = [self.emit(i) for i in expr.indices]
                return self._insert(te_dialect.ReadOp(self.tensors[id(expr.tensor.op)], indices))
            case Binary():
                return self._emit_binary(expr)
            case Call():
                return self._emit_call(expr)
            case Cast():
                return self._emit_cast(self.emit(expr.value), expr.value.dtype, expr.dtype)
            case Select():
                return self._emit_select(expr)
            case _:
                raise TEError(f"cannot emit {type(expr).__name__} here")

    def _emit_binary(self, expr: Binary) -> SSAValue:
        lhs, rhs = self.emit(expr.lhs), self.emit(expr.rhs)
        operand_dtype = expr.lhs.dtype
        if expr.op in _FLOAT_PREDICATES:
            if is_float(operand_dtype):
                return self._insert(arith.CmpfOp(lhs, rhs, _FLOAT_PREDICATES[expr.op]))
            return self._insert(arith.CmpiOp(lhs, rhs, _INT_PREDICATES[expr.op]))
        if is_float(operand_dtype):
            return self._insert(_FLOAT_BINARY[expr.op](lhs, rhs))
        if expr.op == "floormod":
            quotient = self._insert(arith.FloorDivSIOp(lhs, rhs))
            product = self._insert(arith.MuliOp(quotient, rhs))
            return self._insert(arith.SubiOp(lhs, product))
        return self._insert(_INT_BINARY[expr.op](lhs, rhs))

    def _emit_call(self, expr: Call) -> SSAValue:
        args = [self.emit(a) for a in expr.args]
        name, dtype = expr.func, expr.args[0].dtype
        if name in _FLOAT_UNARY:
            return self._insert(_FLOAT_UNARY[name](args[0]))
        if name == "pow":
            return self._insert(math.PowFOp(args[0], args[1]))
        if name == "abs":
            return self._insert(math.AbsFOp(args[0]) if is_float(dtype) else math.AbsIOp(args[0]))
        if name in ("max", "min"):
            return self._insert(_min_max(name, is_float(dtype), args[0], args[1]))
        if name == "indexdiv":
            return self._insert(arith.DivUIOp(args[0], args[1]))
        if name == "indexmod":
            return self._insert(arith.RemUIOp(args[0], args[1]))
        if name == "and":
            return self._insert(arith.AndIOp(args[0], args[1]))
        if name == "or":
            return self._insert(arith.OrIOp(args[0], args[1]))
        if name == "not":
            true = self._constant(True, "bool")
            return self._insert(arith.XOrIOp(args[0], true))
        raise TEError(f"unknown function {name}")

    def _emit_cast(self, value: SSAValue, src: str, dst: str) -> SSAValue:
        if src == dst:
            return value
        if src == INDEX:
            as_int = self._insert(arith.IndexCastOp(value, IntegerType(64)))
            return self._emit_cast(as_int, "int64", dst)
        if dst == INDEX:
            as_int = self._emit_cast(value, src, "int64")
            return self._insert(arith.IndexCastOp(as_int, IndexType()))
        if is_float(src) and is_float(dst):
            to = float_type(dst)
            wider = bit_width(dst) > bit_width(src)
            return self._insert(arith.ExtFOp(value, to) if wider else arith.TruncFOp(value, to))
        if is_float(dst):
            if src == "bool":
                return self._insert(arith.UIToFPOp(value, float_type(dst)))
            return self._insert(arith.SIToFPOp(value, float_type(dst)))
        if is_float(src):
            if dst == "bool":
                zero = self._constant(0.0, src)
                return self._insert(arith.CmpfOp(value, zero, "une"))
            return self._insert(arith.FPToSIOp(value, integer_type(dst)))
        if dst == "bool":
            zero = self._constant(0, src)
            return self._insert(arith.CmpiOp(value, zero, "ne"))
        if bit_width(dst) > bit_width(src):
            extend = arith.ExtUIOp if src == "bool" else arith.ExtSIOp
            return self._insert(extend(value, integer_type(dst)))
        return self._insert(arith.TruncIOp(value, integer_type(dst)))

    def _emit_select(self, expr: Select) -> SSAValue:
        cond = self.emit(expr.cond)
        if not _reads_tensor(expr.true_value) and not _reads_tensor(expr.false_value):
            return self._insert(arith.SelectOp(cond, self.emit(expr.true_value), self.emit(expr.false_value)))
        branches: list[Region] = []
        for value in (expr.true_value, expr.false_value):
            block = Block()
            inner = ExprEmitter(block, self.iters, self.tensors)
            inner.memo = dict(self.memo)
            inner.constants = dict(self.constants)
            inner.builder.insert(scf.YieldOp(inner.emit(value)))
            branches.append(Region(block))
        return self._insert(scf.IfOp(cond, [dtype_to_type(expr.dtype)], branches[0], branches[1]))


def _min_max(name: str, is_float_type: bool, lhs: SSAValue, rhs: SSAValue) -> Operation:
    if is_float_type:
        return arith.MaximumfOp(lhs, rhs) if name == "max" else arith.MinimumfOp(lhs, rhs)
    return arith.MaxSIOp(lhs, rhs) if name == "max" else arith.MinSIOp(lhs, rhs)


def _reads_tensor(expr: Expr) -> bool:
    return any(isinstance(n, TensorRead) for n in walk(expr))


def _const_attr(
    value: int | float | bool, dtype: str
) -> IntegerAttr[IntegerType | IndexType] | FloatAttr[AnyFloat]:
    if dtype == INDEX:
        return IntegerAttr[IntegerType | IndexType](int(value), IndexType())
    if is_float(dtype):
        return FloatAttr[AnyFloat](float(value), float_type(dtype))
    if dtype == "bool":
        return IntegerAttr[IntegerType | IndexType](int(bool(value)), i1)
    return IntegerAttr[IntegerType | IndexType](int(value), integer_type(dtype))
