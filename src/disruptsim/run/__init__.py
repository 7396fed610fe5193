"""Running a study: the public :func:`~disruptsim.run.simulation.simulate`, local batches
(:mod:`~disruptsim.run.engine`), Dask (:mod:`~disruptsim.run.distributed`) and the timing
helpers of ``disruptsim bench`` (:mod:`~disruptsim.run.bench`).
"""
