"""The device simulator's state, one small module per job (used by InterpL7 and later).

  errors.py     ProtocolError (a broken rule of docs/reference.md §5, named by its number) and
                DeadlockError (every blocked kernel, what it waits on, and who could unblock it)
  scheduler.py  runs the reader, compute and writer kernels of every core as generators, in
                round-robin order or in seeded random interleavings, and detects deadlock
  cb_ring.py    a CB as a queue of whole blocks (L7) and as a ring of pages with Metalium's
                counters and pointers (L8)
  noc.py        DRAM as pages (views of the arrays), and each kernel's NoC transfers in flight until their barrier
  dst.py        the DST register file, its acquire/commit/wait/release handshake, the init model (L9)
  engine.py     the compute engine's configuration slots and the init calls that set them, used by
                D4 (placing inits), F1 (checking them) and dst.py (faulting on a missing one)
"""
