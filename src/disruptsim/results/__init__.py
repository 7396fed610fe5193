"""A study's outcome: the data (:mod:`~disruptsim.results.result`), the summary table
(:mod:`~disruptsim.results.summary`), the statistics it uses
(:mod:`~disruptsim.results.stats`) and the result directory's files
(:mod:`~disruptsim.results.io`). Defined in ``docs/results.md``.

Nothing is imported here, and nothing in this package imports numba at module level:
:meth:`SimulationResult.load <disruptsim.results.result.SimulationResult.load>` works
without the kernel.
"""
