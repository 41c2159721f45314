"""The TT-Metalium backend: G1's printers from L9 to reader/compute/writer kernels, the host
program, its build file and its plan (api.py: the calls; kernels.py; host.py; plan.py), and the
way to run what they print: runtime/ (the Metalium API's headers and nanott's CPU implementation
of them), build.py (g++ against it) and execute.py (run, read back, compare with NumPy)."""
