// RUN: sched-opt %s -p finalize-memref-to-llvm | filecheck %s
// RUN: sched-opt %s -p 'finalize-memref-to-llvm{alignment=128}' | filecheck %s --check-prefix=ALIGN

func.func @copy(%A: memref<8x4xf32>, %B: memref<4x8xf32>, %i: index, %j: index) {
  %a = memref.load %A[%i, %j] : memref<8x4xf32>
  memref.store %a, %B[%j, %i] : memref<4x8xf32>
  func.return
}

// The linear index from the static strides, then an inbounds GEP.
// CHECK-LABEL: func.func @copy(
// CHECK:         %[[PA:.*]] = builtin.unrealized_conversion_cast %A : memref<8x4xf32> to !llvm.ptr
// CHECK-NEXT:    %[[I:.*]] = builtin.unrealized_conversion_cast %i : index to i64
// CHECK-NEXT:    %[[J:.*]] = builtin.unrealized_conversion_cast %j : index to i64
// CHECK-NEXT:    %[[S:.*]] = llvm.mlir.constant(4) : i64
// CHECK-NEXT:    %[[M:.*]] = llvm.mul %[[I]], %[[S]] overflow<nsw> : i64
// CHECK-NEXT:    %[[L:.*]] = llvm.add %[[M]], %[[J]] overflow<nsw> : i64
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[PA]][%[[L]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %[[V:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// CHECK:         %[[S2:.*]] = llvm.mlir.constant(8) : i64
// CHECK-NEXT:    %[[M2:.*]] = llvm.mul %{{.*}}, %[[S2]] overflow<nsw> : i64
// CHECK-NEXT:    %[[L2:.*]] = llvm.add %[[M2]], %{{.*}} overflow<nsw> : i64
// CHECK-NEXT:    %[[P2:.*]] = llvm.getelementptr inbounds %{{.*}}[%[[L2]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.store %[[V]], %[[P2]] {alignment = 4 : i64} : f32, !llvm.ptr

func.func @buffers(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %T = memref.alloc() : memref<3x5xf64>
  scf.for %i = %c0 to %n step %c1 {
    %S = memref.alloca() : memref<16xf32>
    %x = arith.constant 1.0 : f32
    memref.store %x, %S[%i] : memref<16xf32>
  }
  memref.dealloc %T : memref<3x5xf64>
  func.return
}

// The alloca moves to the entry block; alloc rounds 120 bytes up to 128.
// CHECK-LABEL: func.func @buffers(%n: index) {
// CHECK-NEXT:    %[[COUNT:.*]] = llvm.mlir.constant(16) : i64
// CHECK-NEXT:    %[[SLOT:.*]] = llvm.alloca %[[COUNT]] x f32 {alignment = 64 : i64} : (i64) -> !llvm.ptr
// CHECK:         %[[BOUNDARY:.*]] = llvm.mlir.constant(64) : i64
// CHECK-NEXT:    %[[SIZE:.*]] = llvm.mlir.constant(128) : i64
// CHECK-NEXT:    %[[MEM:.*]] = llvm.call @aligned_alloc(%[[BOUNDARY]], %[[SIZE]]) : (i64, i64) -> !llvm.ptr
// CHECK:         scf.for
// CHECK-NOT:       llvm.alloca
// CHECK:           llvm.getelementptr inbounds %[[SLOT]][%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK:         llvm.call @free(%[[MEM]]) : (!llvm.ptr) -> ()

// ALIGN: llvm.alloca %{{.*}} x f32 {alignment = 128 : i64}
// ALIGN: llvm.mlir.constant(128) : i64
// ALIGN-NEXT: llvm.mlir.constant(128) : i64
// ALIGN-NEXT: llvm.call @aligned_alloc

func.func @vectors(%A: memref<64xf32>, %i: index) {
  %v = vector.load %A[%i] : memref<64xf32>, vector<8xf32>
  vector.store %v, %A[%i] : memref<64xf32>, vector<8xf32>
  func.return
}

// Vector accesses are aligned to the element only.
// CHECK-LABEL: func.func @vectors(
// CHECK:         %[[VP:.*]] = llvm.getelementptr inbounds %{{.*}}[%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %[[V:.*]] = llvm.load %[[VP]] {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// CHECK:         llvm.store %[[V]], %{{.*}} {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr

func.func @constant_indices(%A: memref<8x4xf32>, %i: index) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %a = memref.load %A[%c2, %c3] : memref<8x4xf32>
  %b = memref.load %A[%i, %c3] : memref<8x4xf32>
  %s = arith.addf %a, %b : f32
  memref.store %s, %A[%c2, %c3] : memref<8x4xf32>
  func.return
}

// Constant indices add up to one offset (2 * 4 + 3), with no multiply of their own.
// CHECK-LABEL: func.func @constant_indices(
// CHECK:         %[[OFF:.*]] = llvm.mlir.constant(11) : i64
// CHECK-NEXT:    llvm.getelementptr inbounds %{{.*}}[%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK:         %[[S:.*]] = llvm.mlir.constant(4) : i64
// CHECK-NEXT:    %[[M:.*]] = llvm.mul %{{.*}}, %[[S]] overflow<nsw> : i64
// CHECK-NEXT:    %[[C3:.*]] = llvm.mlir.constant(3) : i64
// CHECK-NEXT:    %[[L:.*]] = llvm.add %[[M]], %[[C3]] overflow<nsw> : i64
// CHECK-NEXT:    llvm.getelementptr inbounds %{{.*}}[%[[L]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32

// Declared once, at the end of the module.
// CHECK-LABEL: llvm.func @aligned_alloc(i64, i64) -> !llvm.ptr
// CHECK: llvm.func @free(!llvm.ptr)
