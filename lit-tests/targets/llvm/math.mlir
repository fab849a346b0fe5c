// RUN: sched-opt %s -p convert-to-llvm -t llvm | filecheck %s

// The same function on a vector and on a scalar in one module: each type has
// its own mangled intrinsic.
func.func @exp_both(%X: memref<12xf32>, %Y: memref<12xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %v = vector.load %X[%c0] : memref<12xf32>, vector<8xf32>
  %ev = math.exp %v : vector<8xf32>
  vector.store %ev, %Y[%c0] : memref<12xf32>, vector<8xf32>
  %s = memref.load %X[%c8] : memref<12xf32>
  %es = math.exp %s : f32
  %t = math.tanh %es : f32
  %e = math.erf %t : f32
  memref.store %e, %Y[%c8] : memref<12xf32>
  func.return
}

// CHECK:      define void @"exp_both"(ptr noalias %{{.*}}, ptr noalias %{{.*}})
// CHECK:        load <8 x float>, ptr %{{.*}}, align 4
// CHECK-NEXT:   call <8 x float> @"llvm.exp.v8f32"(<8 x float>
// CHECK:        store <8 x float> %{{.*}}, ptr %{{.*}}, align 4
// CHECK:        call float @"llvm.exp.f32"(float
// CHECK-NEXT:   call float @"llvm.tanh.f32"(float
// CHECK-NEXT:   call ccc float @"erff"(float
// CHECK:        ret void
// CHECK-DAG:  declare <8 x float> @"llvm.exp.v8f32"(<8 x float>
// CHECK-DAG:  declare float @"llvm.exp.f32"(float
// CHECK-DAG:  declare float @"erff"(float
