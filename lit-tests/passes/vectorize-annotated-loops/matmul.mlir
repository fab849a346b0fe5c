// RUN: sched-opt %s -p apply-schedule,vectorize-annotated-loops | filecheck %s

func.func @matmul(%A: tensor<8x4xf32> {te.name = "A"}, %B: tensor<4x16xf32> {te.name = "B"}) -> tensor<8x16xf32> {
  %C = te.compute "C" spatial(i: 8, j: 16) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x16xf32>) -> tensor<8x16xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<8x4xf32>
    %b = te.read %B[%k, %j] : tensor<4x16xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<8x16xf32>
}

// Ansor's CPU structure: C accumulates into a local tile, rows of 8 lanes.
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %Cl = sched.cache_write %C "local"
  %i, %j = sched.get_iters %C : !sched.iter, !sched.iter
  %io, %ii = sched.split %C, %i by [4] : !sched.iter, !sched.iter
  %jo, %ji = sched.split %C, %j by [8] : !sched.iter, !sched.iter
  sched.reorder %C, [%io, %jo, %ii, %ji]
  sched.compute_at %Cl at %C, %jo
  %li, %lj, %lk = sched.get_iters %Cl : !sched.iter, !sched.iter, !sched.iter
  %lio, %lii = sched.split %Cl, %li by [4] : !sched.iter, !sched.iter
  %ljo, %lji = sched.split %Cl, %lj by [8] : !sched.iter, !sched.iter
  sched.reorder %Cl, [%lio, %ljo, %lk, %lii, %lji]
  sched.annotate %Cl, %lji vectorize
  sched.annotate %C, %ji vectorize
  transform.yield
}

// The init nest stores a broadcast zero, a row of the tile at a time.
// CHECK:      %C_local = memref.alloca() {alignment = 64 : i64} : memref<4x8xf32>
// CHECK:      %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[ZEROS:.*]] = vector.broadcast %[[ZERO]] : f32 to vector<8xf32>
// CHECK-NEXT: vector.store %[[ZEROS]], %C_local[%{{.*}}, %{{.*}}] : memref<4x8xf32>, vector<8xf32>

// The update: A[i, k] is the same in every lane (a scalar load, broadcast),
// B[k, j] and the tile row are contiguous; no guard, no loop over the lanes.
// CHECK:      scf.for %k = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NOT:  scf.if
// CHECK:        %[[A:.*]] = memref.load %A[%{{.*}}, %k] : memref<8x4xf32>
// CHECK-NEXT:   %[[B:.*]] = vector.load %B[%k, %{{.*}}] : memref<4x16xf32>, vector<8xf32>
// CHECK-NEXT:   %[[AS:.*]] = vector.broadcast %[[A]] : f32 to vector<8xf32>
// CHECK-NEXT:   %[[P:.*]] = arith.mulf %[[AS]], %[[B]] : vector<8xf32>
// CHECK-NEXT:   %[[ACC:.*]] = vector.load %C_local[%{{.*}}, %{{.*}}] : memref<4x8xf32>, vector<8xf32>
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[P]] : vector<8xf32>
// CHECK-NEXT:   vector.store %[[SUM]], %C_local[%{{.*}}, %{{.*}}] : memref<4x8xf32>, vector<8xf32>

// The copy out of the tile: a vector load at the offset in the tile, a vector store.
// CHECK:      %[[T:.*]] = vector.load %C_local[%{{.*}}, %{{.*}}] : memref<4x8xf32>, vector<8xf32>
// CHECK-NEXT: vector.store %[[T]], %C[%{{.*}}, %{{.*}}] : memref<8x16xf32>, vector<8xf32>
// CHECK-NOT:  sched.annotation = #sched<loop_annotation vectorize>
