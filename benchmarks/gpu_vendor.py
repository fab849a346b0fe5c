"""The vendor libraries' time for a GPU benchmark case: cuBLAS and cuDNN, through PyTorch.

`bench_gpu.py` runs this in a process of its own, so that PyTorch's CUDA
context never meets the one pycuda makes for our kernels.
"""

from __future__ import annotations

REPEAT_NUMBER = 100
"""Runs per timed repeat: enough that launch gaps do not dominate a short kernel."""


def vendor_seconds(workload: str, args: tuple[int, ...], repeat: int) -> float | None:
    """Seconds cuBLAS / cuDNN (through PyTorch, fp32, TF32 off) take for the case: the median of `repeat`."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    if workload == "matmul":
        n, m, k = args
        a, b = torch.randn(n, k, device="cuda"), torch.randn(k, m, device="cuda")
        run = lambda: torch.matmul(a, b)  # noqa: E731
    else:
        batch, channels, height, width, filters, kh, kw, stride, padding = args
        data = torch.randn(batch, channels, height, width, device="cuda")
        weight = torch.randn(filters, channels, kh, kw, device="cuda")
        run = lambda: torch.nn.functional.conv2d(data, weight, stride=stride, padding=padding)  # noqa: E731
    for _ in range(10):
        run()
    costs = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(REPEAT_NUMBER):
            run()
        end.record()
        end.synchronize()
        costs.append(start.elapsed_time(end) / 1e3 / REPEAT_NUMBER)
    return sorted(costs)[len(costs) // 2]
