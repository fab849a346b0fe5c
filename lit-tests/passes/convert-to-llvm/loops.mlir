// RUN: sched-opt %s -p convert-to-llvm | filecheck %s

// Loops, a conditional with a result, buffers and math all end in the llvm dialect.
func.func @relu_exp(%A: memref<4x8xf32>, %B: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %T = memref.alloca() : memref<8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %a = memref.load %A[%i, %j] : memref<4x8xf32>
      %pos = arith.cmpf ogt, %a, %zero : f32
      %r = scf.if %pos -> (f32) {
        %e = math.exp %a : f32
        scf.yield %e : f32
      } else {
        scf.yield %zero : f32
      }
      memref.store %r, %T[%j] : memref<8xf32>
      %t = memref.load %T[%j] : memref<8xf32>
      memref.store %t, %B[%i, %j] : memref<4x8xf32>
    }
  }
  func.return
}

// CHECK:      builtin.module {
// CHECK-NEXT:   llvm.func @relu_exp(%A: !llvm.ptr {llvm.noalias}, %B: !llvm.ptr {llvm.noalias}) {
// CHECK:          llvm.alloca %{{.*}} x f32 {alignment = 64 : i64} : (i64) -> !llvm.ptr
// CHECK:          llvm.br ^[[OUTER:.*]](%{{.*}} : i64)
// CHECK:        ^[[OUTER]](%i: i64):
// CHECK-NEXT:     llvm.icmp "slt" %i, %{{.*}} : i64
// CHECK:          llvm.fcmp "ogt" %{{.*}}, %{{.*}} : f32
// CHECK:          llvm.call_intrinsic "llvm.exp.f32"
// CHECK:          llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NOT:  unrealized_conversion_cast
// CHECK-NOT:  {{(func|scf|cf|arith|math|memref)\.}}
