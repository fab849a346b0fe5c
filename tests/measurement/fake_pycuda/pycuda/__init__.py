"""A stand-in for pycuda in the CUDARunner tests: see `driver`."""
