"""The TT-Metalium backend: G1's printers from L9 to reader/compute/writer kernels, the host
program, its build file and its plan (api.py: the calls; kernels.py; host.py; plan.py)."""
