// RUN: sched-opt %s -p convert-cf-to-llvm | filecheck %s

// Block arguments of type index become i64; their users see a cast back.
func.func @count(%n: index, %x: f32) -> f32 {
  %c0 = arith.constant 0 : index
  cf.br ^loop(%c0, %x : index, f32)
^loop(%i: index, %acc: f32):
  %more = arith.cmpi slt, %i, %n : index
  cf.cond_br %more, ^body, ^exit(%acc : f32)
^body:
  %c1 = arith.constant 1 : index
  %next = arith.addi %i, %c1 : index
  %sum = arith.addf %acc, %acc : f32
  cf.br ^loop(%next, %sum : index, f32)
^exit(%r: f32):
  func.return %r : f32
}

// CHECK:      func.func @count(%n: index, %x: f32) -> f32 {
// CHECK-NEXT:   %c0 = arith.constant 0 : index
// CHECK-NEXT:   %[[C0:.*]] = builtin.unrealized_conversion_cast %c0 : index to i64
// CHECK-NEXT:   llvm.br ^loop(%[[C0]], %x : i64, f32)
// CHECK-NEXT: ^loop(%i: i64, %acc: f32):
// CHECK-NEXT:   %[[I:.*]] = builtin.unrealized_conversion_cast %i : i64 to index
// CHECK-NEXT:   %more = arith.cmpi slt, %[[I]], %n : index
// CHECK-NEXT:   llvm.cond_br %more, ^body, ^exit(%acc : f32)
// CHECK-NEXT: ^body:
// CHECK:        %next = arith.addi %[[I]], %c1 : index
// CHECK:        %[[NEXT:.*]] = builtin.unrealized_conversion_cast %next : index to i64
// CHECK-NEXT:   llvm.br ^loop(%[[NEXT]], %sum : i64, f32)
// CHECK-NEXT: ^exit(%r: f32):
// CHECK-NEXT:   func.return %r : f32
