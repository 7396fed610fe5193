"""Exercise mode: API flow, realised path, look-ahead, journal and replay (docs/exercise.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import disruptsim as ds
from disruptsim.exercise import JournalError, load_exercise, read_journal
from disruptsim.exercise.realised import RealisedPath

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "exercises" / "antibiotics-api.yaml"
RUNS = 200


def play(ex: ds.Exercise) -> None:
    """A short session: every kind of record."""
    ex.advance(2)
    ex.lookahead(["ration_stock", "joint_purchase"], runs=RUNS)
    ex.decide("ration_stock", note="stretch the stock")
    ex.inject("I05")  # early, by hand
    ex.inject(
        {
            "title": "Port strike in Mumbai",
            "narrative": "Shipments from India stop for ten days.",
            "effect": {
                "shock": {
                    "countries": ["IND"],
                    "duration_days": 10,
                    "severity": 0.5,
                    "public_end": True,
                }
            },
        }
    )
    ex.advance(1)
    ex.decide("joint_purchase", parameters={"max_share": 0.2})
    ex.lookahead([{"id": "release_stock"}], runs=RUNS)
    ex.advance(2)
    ex.note("Hot wash: the release rule was unclear <script>alert(1)</script>")
    ex.finish()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    journal = tmp_path_factory.mktemp("journal") / "session.jsonl"
    ex = ds.Exercise.from_file(EXERCISE, journal=journal)
    play(ex)
    ex.journal.close()
    return ex, journal


def test_flow_delivers_injects_on_time_and_records_everything(session):
    ex, journal = session
    assert ex.day == 5 * 14
    delivered = {i["id"]: i["day"] for i in ex.delivered}
    assert delivered["I01"] == 0 and delivered["I02"] == 14 and delivered["I03"] == 28
    assert delivered["I05"] == 28  # sent by hand before its turn (4: day 42)
    assert delivered["I04"] == 40  # a day inject arrives on its day, between pauses
    assert delivered["I06"] == 56
    assert delivered["I07"] == 70  # turn 6 starts at the pause on day 70
    assert "I08" not in delivered
    kinds = [r["kind"] for r in read_journal(journal)[0]]
    assert kinds[0] == "start" and kinds[-1] == "finish"
    assert {"advance", "inject", "decide", "lookahead", "note"} <= set(kinds)
    with pytest.raises(RuntimeError, match="finished"):
        ex.advance(1)


def test_replay_is_bit_identical(session):
    ex, journal = session
    again = ds.Exercise.replay(journal)
    assert again.day == ex.day
    assert again.outcome() == ex.outcome()
    for key in ex.path.daily:
        assert np.array_equal(again.path.daily[key], ex.path.daily[key], equal_nan=True)
    assert [la.digest for la in again.lookaheads] == [la.digest for la in ex.lookaheads]
    assert again.notes == ex.notes and again.finished


def test_replay_refuses_changed_inputs(session, tmp_path):
    _, journal = session
    (tmp_path / "exercises").mkdir()
    (tmp_path / "scenarios").mkdir()
    shutil.copy(EXERCISE, tmp_path / "exercises" / EXERCISE.name)
    scenario = ROOT / "scenarios" / "generic-antibiotics.yaml"
    copy = tmp_path / "scenarios" / scenario.name
    copy.write_text(scenario.read_text() + "\n# an edit\n")
    with pytest.raises(JournalError, match="scenario file changed"):
        ds.Exercise.replay(journal, exercise=tmp_path / "exercises" / EXERCISE.name)


def test_decisions_change_the_realised_path(session):
    ex, _ = session
    # ration_stock caps the daily release at 15% of demand from day 28 on.
    day = ex.decisions[0]["day"]
    j = ex.path.products.index("antibiotics")
    released = ex.path.daily["released_units"][day : ex.day, j]
    requirement = ex.path.daily["requirement"][day : ex.day, j]
    assert np.all(released <= 0.15 * requirement * (1 + 1e-12))
    assert np.any(released > 0)
    # Without it, the same future releases more on some day.
    without = ex.path.replayed(ex.path.recorded, skip=ex.contexts[0]["log_index"])
    assert np.max(without.daily["released_units"][day : ex.day, j] - released) > 0


def test_continuing_without_a_change_is_exact():
    spec = load_exercise(EXERCISE)
    ex = ds.Exercise(spec)
    events = list(ex.path.events)
    a = RealisedPath(spec.scenario, spec.file.seed, events)
    a.advance_to(100)
    b = RealisedPath(spec.scenario, spec.file.seed, events)
    b.advance_to(37)
    b.change()
    b.advance_to(100)
    for key in a.daily:
        assert np.array_equal(a.daily[key], b.daily[key], equal_nan=True)
    assert a.outcome() == pytest.approx(b.outcome(), rel=1e-12)


def test_lookahead_pairs_options_over_the_same_futures():
    ex = ds.Exercise.from_file(EXERCISE)
    ex.advance(2)
    la = ex.lookahead(["release_stock", "ration_stock"], runs=RUNS)
    names = [o.name for o in la.options]
    assert names == ["as_decided", "release_stock", "ration_stock", "baseline"]
    by = {o.name: o for o in la.options}
    # Nothing decided yet: "as decided" is the baseline, and the release rule of the menu
    # equals the scenario's (1 day per day), so the paired differences are exactly 0.
    for name in ("baseline", "release_stock"):
        d = by[name].cost_difference
        assert d.estimate == 0.0 and d.low == 0.0 and d.high == 0.0
    # Rationing leaves more unmet demand early on average, with a CI that excludes 0.
    assert by["ration_stock"].unmet_difference.low > 0
    assert (
        by["ration_stock"].fan["antibiotics"]["stock_days"][2][-1]
        >= by["as_decided"].fan["antibiotics"]["stock_days"][2][-1]
    )
    table = la.table()
    assert (
        list(table.index) == names
        and table.loc["as_decided", "p_shortage"] == by["as_decided"].p_shortage.estimate
    )


def test_public_situation_hides_the_true_end():
    ex = ds.Exercise.from_file(EXERCISE)
    ex.advance(2)
    truth = ex.situation(truth=True)
    public = ex.situation()
    assert truth.events[0]["ends_day"] == 160
    assert public.events[0]["ends_day"] is None
    assert public.events[0]["severity"] == truth.events[0]["severity"] == 0.7


def test_bad_calls_are_refused_clearly():
    ex = ds.Exercise.from_file(EXERCISE)
    with pytest.raises(KeyError, match="did you mean 'ration_stock'"):
        ex.decide("ration_stok")
    with pytest.raises(KeyError, match="unknown parameter"):
        ex.decide("ration_stock", parameters={"max_release": 0.5})
    with pytest.raises(ds.ScenarioError, match="max_release_days_per_day"):
        ex.decide("ration_stock", parameters={"max_release_days_per_day": -1})
    with pytest.raises(KeyError, match="already delivered"):
        ex.inject("I01")
    with pytest.raises(ds.ScenarioError, match="hazard"):
        ex.inject(
            {
                "title": "x",
                "narrative": "y",
                "effect": {"shock": {"hazard": "nope", "duration_days": 5, "severity": 1}},
            }
        )
    with pytest.raises(ValueError, match="turns"):
        ex.advance(0)
    assert ex.decisions == [] and ex.day == 0


def test_new_journal_never_overwrites(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"kind": "start"}\n')
    with pytest.raises(JournalError, match="never overwritten"):
        ds.Exercise.from_file(EXERCISE, journal=path)
    assert path.read_text() == '{"kind": "start"}\n'


KILLED = """
import sys, time
import disruptsim as ds
ex = ds.Exercise.from_file(sys.argv[1], journal=sys.argv[2])
ex.advance(2)
ex.decide("ration_stock", note="before the kill")
ex.inject("I05")
ex.lookahead(["joint_purchase"], runs=100)
ex.note("written before the kill")
print("ready", flush=True)
time.sleep(120)
"""


def test_journal_survives_a_kill(tmp_path):
    journal = tmp_path / "killed.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(EXERCISE), str(journal)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # A record being written at the kill leaves a partial last line: it is dropped.
    with open(journal, "a") as stream:
        stream.write('{"kind": "note", "text": "half')
    records, truncated = read_journal(journal)
    assert truncated and [r["kind"] for r in records][-1] == "note"
    again = ds.Exercise.replay(journal)
    assert again.day == 28
    assert [d["id"] for d in again.decisions] == ["ration_stock"]
    assert "I05" in {i["id"] for i in again.delivered}
    assert again.notes[0]["text"] == "written before the kill"
    assert again.lookaheads[0].digest == records[-2]["digest"]


def test_corrupt_journal_line_is_an_error(tmp_path, session):
    _, journal = session
    lines = journal.read_text().splitlines()
    lines[2] = "not json"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(JournalError, match=r"bad.jsonl:3: not a journal record"):
        ds.Exercise.replay(bad)


def test_report_is_self_contained_and_escaped(session, tmp_path):
    ex, _ = session
    path = ex.report(tmp_path / "aar.html", runs=50)
    text = path.read_text()
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "http://" not in text and "https://" not in text
    for heading in (
        "Objectives",
        "Timeline",
        "Realised path",
        "Effect of each decision",
        "Expected and taken actions",
        "Pre-planned strategies",
        "Hot-wash notes",
    ):
        assert heading in text
    assert "best pre-planned" in text and "iron_stock_10w" in text
    assert "emergency_sourcing: not taken" in text and "ration_stock: day 28" in text


def test_journal_lines_are_json(session):
    _, journal = session
    for line in journal.read_text().splitlines():
        record = json.loads(line)
        assert record["kind"] and record["time"]


def test_a_new_stock_starts_empty(tmp_path):
    text = EXERCISE.read_text().replace("../scenarios/", f"{(ROOT / 'scenarios').as_posix()}/")
    text += """  - id: api_stock
    title: "Start an API stock of 30 days"
    lever: stock_target
    product: api
    parameters: {initial_days: 30, refill_days_per_day: 0.1}
"""
    path = tmp_path / "ex.yaml"
    path.write_text(text)
    ex = ds.Exercise.from_file(path)
    la = ex.lookahead(["api_stock"], runs=50)
    assert [o.name for o in la.options] == ["as_decided", "api_stock", "baseline"]
    ex.decide("api_stock")  # on day 0, before the restriction of day 10
    ex.advance(1)
    j = ex.path.products.index("api")
    stock = ex.path.daily["stock"][:10, j]
    requirement = ex.path.daily["requirement"][:10, j]
    assert stock[0] <= 0.1 * requirement[0] * (1 + 1e-12)  # one day's refill, not a full stock
    assert np.all(np.diff(stock) > 0)  # refilling on days without a gap


def test_random_hazards_join_the_truth(tmp_path):
    text = EXERCISE.read_text().replace("../scenarios/", f"{(ROOT / 'scenarios').as_posix()}/")
    text = text.replace("random_hazards: false", "random_hazards: true").replace(
        "seed: 2026", "seed: 8"
    )
    path = tmp_path / "ex.yaml"
    path.write_text(text)
    spec = load_exercise(path)
    from disruptsim.exercise.realised import hazard_events

    sampled = hazard_events(spec.scenario, 8)
    assert sampled == hazard_events(spec.scenario, 8)  # the seed fixes the truth
    assert [(e.hazard, e.start) for e in sampled] == [("eu_plant_quality_failure", 60)]
    assert hazard_events(spec.scenario, 8, hazards=False) == []  # the scenario has no shocks
    ex = ds.Exercise(spec)
    assert len(ex.path.events) == 2
    ex.advance(5)  # day 70: the sampled quality failure is in force, its end unknown
    public = {e["hazard"]: e for e in ex.situation().events}
    assert public["eu_plant_quality_failure"]["ends_day"] is None
    assert ex.situation(truth=True).events[1]["ends_day"] == sampled[0].end
    assert ex.lookahead([], runs=50).options[0].name == "as_decided"
