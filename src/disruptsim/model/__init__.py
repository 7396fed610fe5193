"""The model: a resolved strategy compiled to arrays (:mod:`~disruptsim.model.compiler`),
shock sampling (:mod:`~disruptsim.model.shocks`), the numba kernel
(:mod:`~disruptsim.model.kernel`) and its readable SimPy twin
(:mod:`~disruptsim.model.reference`). The equations are in ``docs/model.md``.

Nothing is imported here: ``import disruptsim.model.compiler`` does not load numba.
"""
