// RUN: sched-opt %s -p parallelize-annotated-loops | filecheck %s

// The outermost loop annotated parallel becomes an scf.parallel; the parallel
// loop nested in it stays a serial scf.for, as does the loop around it.
func.func @nested(%A: memref<4x6x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c6 step %c1 {
      scf.for %k = %c0 to %c8 step %c1 {
        memref.store %zero, %A[%i, %j, %k] : memref<4x6x8xf32>
      } {sched.annotation = #sched<loop_annotation parallel>}
    } {sched.annotation = #sched<loop_annotation parallel>}
  }
  func.return
}

// CHECK-LABEL: func.func @nested
// CHECK:         scf.for %i = %c0 to %c4 step %c1 {
// CHECK-NEXT:      "scf.parallel"(%c0, %c6, %c1) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
// CHECK-NEXT:      ^{{.*}}(%j: index):
// CHECK-NEXT:        scf.for %k = %c0 to %c8 step %c1 {
// CHECK-NEXT:          memref.store %zero, %A[%i, %j, %k] : memref<4x6x8xf32>
// CHECK-NEXT:        } {sched.annotation = #sched<loop_annotation parallel>}
// CHECK-NEXT:        scf.reduce
// CHECK-NEXT:      }) : (index, index, index) -> ()
// CHECK-NEXT:    }

// A loop that carries a value from one iteration to the next stays serial.
func.func @carried(%A: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
    %a = memref.load %A[%i] : memref<8xf32>
    %s = arith.addf %acc, %a : f32
    scf.yield %s : f32
  } {sched.annotation = #sched<loop_annotation parallel>}
  func.return %sum : f32
}

// CHECK-LABEL: func.func @carried
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
