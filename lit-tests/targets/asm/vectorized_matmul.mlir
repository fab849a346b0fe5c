// REQUIRES: host-fma
// RUN: sched-opt %s -p lower-to-llvm -t asm | filecheck %s

func.func @matmul(%A: tensor<64x64xf32> {te.name = "A"}, %B: tensor<64x64xf32> {te.name = "B"}) -> tensor<64x64xf32> {
  %C = te.compute "C" spatial(i: 64, j: 64) reduce<sum>(k: 64) ins(%A, %B : tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<64x64xf32>
    %b = te.read %B[%k, %j] : tensor<64x64xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<64x64xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %Cl = sched.cache_write %C "local"
  %i, %j = sched.get_iters %C : !sched.iter, !sched.iter
  %io, %ii = sched.split %C, %i by [4] : !sched.iter, !sched.iter
  %jo, %ji = sched.split %C, %j by [16] : !sched.iter, !sched.iter
  sched.reorder %C, [%io, %jo, %ii, %ji]
  sched.compute_at %Cl at %C, %jo
  %li, %lj, %lk = sched.get_iters %Cl : !sched.iter, !sched.iter, !sched.iter
  %lio, %lii = sched.split %Cl, %li by [4] : !sched.iter, !sched.iter
  %ljo, %lji = sched.split %Cl, %lj by [16] : !sched.iter, !sched.iter
  sched.reorder %Cl, [%lio, %ljo, %lk, %lii, %lji]
  sched.annotate %Cl, %lji vectorize
  sched.annotate %C, %ji vectorize
  transform.yield
}

// The vector multiply-add of the tile fuses into packed FMAs (ymm or zmm,
// whatever the host's widest vectors are).
// CHECK-LABEL: matmul:
// CHECK:         vfmadd{{[0-9]+}}ps {{.*}}%{{[yz]}}mm
