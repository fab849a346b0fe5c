// RUN: sched-opt %s -p lower-to-llvm | filecheck %s
// RUN: sched-opt %s -p apply-schedule,lower-to-llvm | filecheck %s
// RUN: sched-opt %s -p lower-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

func.func @matmul(%A: tensor<16x8xf32> {te.name = "A"}, %B: tensor<8x32xf32> {te.name = "B"}) -> tensor<16x32xf32> {
  %C = te.compute "C" spatial(i: 16, j: 32) reduce<sum>(k: 8) ins(%A, %B : tensor<16x8xf32>, tensor<8x32xf32>) -> tensor<16x32xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<16x8xf32>
    %b = te.read %B[%k, %j] : tensor<8x32xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<16x32xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %jo, %ji = sched.split %C, %j by [8] : !sched.iter, !sched.iter
  sched.reorder %C, [%i, %jo, %k, %ji]
  sched.annotate %C, %i parallel
  sched.annotate %C, %ji vectorize
  transform.yield
}

// The schedule's annotations are carried out, not only its loop structure:
// the i loop runs on the OpenMP team, the j.1 loop is one 8-lane vector
// multiply-add (contractible into an FMA). The same from the loop nests
// apply-schedule emits.
// CHECK-LABEL: llvm.func @matmul(
// CHECK:         llvm.call @GOMP_parallel(
// CHECK-LABEL: llvm.func @matmul_omp_parallel_0(
// CHECK:         llvm.call @omp_get_thread_num()
// CHECK:         llvm.load {{.*}} -> vector<8xf32>
// CHECK:         llvm.fmul {{.*}} {fastmathFlags = #llvm.fastmath<contract>} : vector<8xf32>
// CHECK:         llvm.fadd {{.*}} {fastmathFlags = #llvm.fastmath<contract>} : vector<8xf32>
// CHECK:         llvm.store {{.*}} : vector<8xf32>, !llvm.ptr
// CHECK:       llvm.func @GOMP_parallel(!llvm.ptr, !llvm.ptr, i32, i32)
// CHECK-NOT:   te.compute
// CHECK-NOT:   transform.named_sequence

// LLVM-LABEL: define void @"matmul"(
// LLVM:         call ccc void @"GOMP_parallel"(
// LLVM-LABEL: define void @"matmul_omp_parallel_0"(
// LLVM:         fmul contract <8 x float>
// LLVM:         fadd contract <8 x float>
// LLVM:       declare void @"GOMP_parallel"(
