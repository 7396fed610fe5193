"""The SimPy twin's side of situations: resuming from one, and exporting one.

:class:`SituationSteps` is a part of :class:`~disruptsim.model.reference.ReferenceRun`
(docs/how-to-situation.md): :meth:`SituationSteps.situation` exports the state of a run on
any day, and the run's constructor resumes a situation's first disruptions and qualified
options with ``_resume``.
"""

from __future__ import annotations

from typing import Any

from ..conventions import whole_days
from .situation import Situation


class SituationSteps:
    """Situation import and export of a :class:`~disruptsim.model.reference.ReferenceRun`."""

    # Provided by ReferenceRun.
    products: dict[str, Any]
    events: list[Any]
    day: int
    horizon_days: int
    decided_day: int
    system_first: int | None

    def run_until(self, day: int) -> None:  # pragma: no cover - ReferenceRun's
        raise NotImplementedError

    def _schedule_qualification(self, option: Any, day: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _resume(self, situation: Situation) -> None:
        """Take over a situation's first disruptions and qualified reactive options."""
        for name, p in self.products.items():
            first = situation.disrupted_since.get(name)
            if first is None:
                continue
            p.first_disruption = first
            restraint = p.spec.demand_restraint
            if restraint is not None and restraint.max_share > 0:
                p.restraint_start = first + max(1, whole_days(restraint.lag_days))
            if self.system_first is None or first < self.system_first:
                self.system_first = first
            known = situation.qualified.get(name, {})
            for option in p.options:
                if option.kind in known:
                    option.succeeds = known[option.kind] is not None
                    option.qualified_day = known[option.kind]
                elif option.succeeds:
                    self._schedule_qualification(option, first + whole_days(option.spec.lag_days))

    def situation(self, day: int | None = None) -> Situation:
        """The state of this run on ``day``, before that day is cleared.

        Continuing from it (:class:`ReferenceRun` or :func:`disruptsim.simulate` with
        ``situation=``), with the same events from ``day`` on, gives exactly the days
        ``day..T-1`` of this run.

        Parameters
        ----------
        day : int, optional
            Run forward to this day first (default: the next day to clear, :attr:`day`).

        Raises
        ------
        ValueError
            If ``day`` is already cleared (the past is not kept) or is not before the horizon.
        """
        if day is not None:
            if day < self.day:
                raise ValueError(f"day {day} is already simulated; the run is on day {self.day}")
            if day >= self.horizon_days:
                raise ValueError(f"day must be before the horizon ({self.horizon_days}), got {day}")
            self.run_until(day)
        t = self.day
        events = []
        for ev in self.events:
            if ev.start >= t or ev.end + ev.recovery <= t or ev.severity <= 0.0:
                continue  # a future event, or one that is over
            if ev.hazard is not None:
                entry: dict = {"hazard": ev.hazard}
            else:
                entry = {"countries": dict(ev.countries)}
                if ev.products is not None:
                    entry["products"] = sorted(ev.products)
            entry.update(
                started_day=ev.start,
                severity=ev.severity,
                ends_day=ev.end,
                recovery_days=float(ev.recovery),
            )
            events.append(entry)
        stocks = {
            n: ("units", float(p.stock.level))
            for n, p in self.products.items()
            if p.stock is not None
        }
        since = {
            n: p.first_disruption
            for n, p in self.products.items()
            if p.first_disruption is not None
        }
        qualified: dict[str, dict[str, int | None]] = {}
        for name, p in self.products.items():
            for option in p.options:
                if option.qualified_day is not None:
                    qualified.setdefault(name, {})[option.kind] = option.qualified_day
                elif (
                    not option.succeeds
                    and p.first_disruption is not None
                    and p.first_disruption + whole_days(option.spec.lag_days) < t
                ):
                    qualified.setdefault(name, {})[option.kind] = None
        return Situation(t, self.decided_day, tuple(events), stocks, since, qualified)
