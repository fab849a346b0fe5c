// RUN: sched-opt %s -p convert-arith-to-llvm | filecheck %s

func.func @float_ops(%a: f32, %b: f32) -> f32 {
  %c = arith.constant 2.5 : f32
  %m = arith.mulf %a, %b fastmath<contract> : f32
  %s = arith.addf %m, %c fastmath<contract> : f32
  %d = arith.divf %s, %b : f32
  %n = arith.negf %d : f32
  %x = arith.maximumf %n, %a : f32
  %y = arith.minnumf %x, %b : f32
  func.return %y : f32
}

// CHECK-LABEL: func.func @float_ops(%a: f32, %b: f32) -> f32 {
// CHECK-NEXT:    %c = llvm.mlir.constant(2.500000e+00 : f32) : f32
// CHECK-NEXT:    %m = llvm.fmul %a, %b {fastmathFlags = #llvm.fastmath<contract>} : f32
// CHECK-NEXT:    %s = llvm.fadd %m, %c {fastmathFlags = #llvm.fastmath<contract>} : f32
// CHECK-NEXT:    %d = llvm.fdiv %s, %b : f32
// CHECK-NEXT:    %n = llvm.fneg %d : f32
// CHECK-NEXT:    %x = llvm.call_intrinsic "llvm.maximum.f32"(%n, %a) : (f32, f32) -> f32
// CHECK-NEXT:    %y = llvm.call_intrinsic "llvm.minnum.f32"(%x, %b) : (f32, f32) -> f32
// CHECK-NEXT:    func.return %y : f32

func.func @index_ops(%i: index, %j: index) -> i1 {
  %c4 = arith.constant 4 : index
  %m = arith.muli %i, %c4 : index
  %s = arith.addi %m, %j overflow<nsw> : index
  %q = arith.floordivsi %s, %c4 : index
  %mx = arith.maxsi %q, %j : index
  %lt = arith.cmpi slt, %mx, %c4 : index
  func.return %lt : i1
}

// CHECK-LABEL: func.func @index_ops(%i: index, %j: index) -> i1 {
// CHECK-NEXT:    %c4 = llvm.mlir.constant(4) : i64
// CHECK-NEXT:    %[[I:.*]] = builtin.unrealized_conversion_cast %i : index to i64
// CHECK-NEXT:    %m = llvm.mul %[[I]], %c4 : i64
// CHECK-NEXT:    %[[J:.*]] = builtin.unrealized_conversion_cast %j : index to i64
// CHECK-NEXT:    %s = llvm.add %m, %[[J]] overflow<nsw> : i64
// The floor division: sdiv, then -1 when inexact and the signs differ.
// CHECK-NEXT:    %[[Q:.*]] = llvm.sdiv %s, %c4 : i64
// CHECK-NEXT:    %[[P:.*]] = llvm.mul %[[Q]], %c4 : i64
// CHECK-NEXT:    %[[INEXACT:.*]] = llvm.icmp "ne" %[[P]], %s : i64
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0) : i64
// CHECK-NEXT:    %[[SNEG:.*]] = llvm.icmp "slt" %s, %[[ZERO]] : i64
// CHECK-NEXT:    %[[DNEG:.*]] = llvm.icmp "slt" %c4, %[[ZERO]] : i64
// CHECK-NEXT:    %[[SIGNS:.*]] = llvm.icmp "ne" %[[SNEG]], %[[DNEG]] : i1
// CHECK-NEXT:    %[[COND:.*]] = llvm.and %[[INEXACT]], %[[SIGNS]] : i1
// CHECK-NEXT:    %[[FIX:.*]] = llvm.sext %[[COND]] : i1 to i64
// CHECK-NEXT:    %[[QF:.*]] = llvm.add %[[Q]], %[[FIX]] : i64
// CHECK-NEXT:    %[[J2:.*]] = builtin.unrealized_conversion_cast %j : index to i64
// CHECK-NEXT:    %mx = llvm.call_intrinsic "llvm.smax.i64"(%[[QF]], %[[J2]]) : (i64, i64) -> i64
// CHECK-NEXT:    %lt = llvm.icmp "slt" %mx, %c4 : i64
// CHECK-NEXT:    func.return %lt : i1

func.func @casts(%f: f32, %n: i32, %l: i64) -> (i32, f64, i64, i32) {
  %i = arith.fptosi %f : f32 to i32
  %u = arith.uitofp %n : i32 to f32
  %x = arith.index_cast %n : i32 to index
  %y = arith.index_cast %x : index to i64
  %e = arith.extf %u : f32 to f64
  %t = arith.trunci %l : i64 to i32
  func.return %i, %e, %y, %t : i32, f64, i64, i32
}

// fptosi has no llvm op in xDSL: the saturating intrinsic; uitofp goes through a wider sitofp.
// CHECK-LABEL: func.func @casts(%f: f32, %n: i32, %l: i64) -> (i32, f64, i64, i32) {
// CHECK-NEXT:    %i = llvm.call_intrinsic "llvm.fptosi.sat.i32.f32"(%f) : (f32) -> i32
// CHECK-NEXT:    %[[WIDE:.*]] = llvm.zext %n : i32 to i64
// CHECK-NEXT:    %[[U:.*]] = llvm.sitofp %[[WIDE]] : i64 to f32
// CHECK-NEXT:    %[[X:.*]] = llvm.sext %n : i32 to i64
// CHECK-NEXT:    %e = llvm.fpext %[[U]] : f32 to f64
// CHECK-NEXT:    %t = llvm.trunc %l : i64 to i32
// CHECK-NEXT:    func.return %i, %e, %[[X]], %t : i32, f64, i64, i32

func.func @vectors(%a: vector<8xf32>) -> vector<8xf32> {
  %c = arith.constant dense<1.0> : vector<8xf32>
  %s = arith.addf %a, %c fastmath<fast> : vector<8xf32>
  func.return %s : vector<8xf32>
}

// CHECK-LABEL: func.func @vectors(%a: vector<8xf32>) -> vector<8xf32> {
// CHECK-NEXT:    %c = llvm.mlir.constant(dense<1.000000e+00> : vector<8xf32>) : vector<8xf32>
// CHECK-NEXT:    %s = llvm.fadd %a, %c {fastmathFlags = #llvm.fastmath<fast>} : vector<8xf32>
