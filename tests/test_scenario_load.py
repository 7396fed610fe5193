"""Loading valid scenarios: defaults, strategies, immutability, shipped files and docs."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import pickle
import re
from pathlib import Path

import pytest
from conftest import MINIMAL_YAML
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import disruptsim as ds
from disruptsim.scenario import FrozenDict, deep_merge, thaw
from disruptsim.scenario.distributions import Beta, Fixed
from disruptsim.scenario.yamlio import parse_text

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
REFERENCE = ROOT / "docs" / "scenario-reference.md"

STRATEGIES_YAML = (
    MINIMAL_YAML
    + """\
defaults: {shortage_cost_multiplier: 2.0, holding_cost_rate: 0.2}
hazards:
  - {name: cn, countries: [CHN], annual_probability: 0.1, severity: 0.5, duration_days: 30}
strategies:
  stock:
    description: Ninety days of parts
    products:
      part:
        holding_cost_rate: 0.05
        stockpile: {initial_days: 90}
  diversify:
    products: {part: {sources: {CHN: 0.5, IND: {share: 0.3, unit_cost_premium: 0.1}}}}
  no_hazards:
    hazards: null
  baseline: {}
  nothing: null
"""
)


def test_minimal_scenario(write_yaml):
    path = write_yaml(MINIMAL_YAML)
    scenario = ds.load_scenario(path)
    assert scenario.name == "tiny"
    assert scenario.home == "EU27"
    assert scenario.horizon_days == 30
    assert scenario.path == path
    assert scenario.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert scenario.strategy_names == ("baseline",)
    world = scenario.baseline
    assert list(world.products) == ["part", "widget"]
    assert world.products["part"].sources["CHN"].share == 0.8
    assert world.products["widget"].inputs == {"part": 2.0}
    assert world.hazards == () and world.shocks == ()


def test_defaults_are_applied(write_yaml):
    scenario = ds.load_scenario(write_yaml(STRATEGIES_YAML))
    part = scenario.baseline.products["part"]
    assert part.shortage_cost_per_unit == 2.0 * 10
    assert part.holding_cost_rate == 0.2
    assert part.stockpile is None
    stocked = scenario.world("stock").products["part"]
    assert stocked.holding_cost_rate == 0.05
    assert stocked.stockpile.holding_cost_rate == 0.05  # the product's rate, not the default
    assert stocked.stockpile.max_release_days_per_day == 1.0


def test_explicit_costs_are_kept(write_yaml):
    text = MINIMAL_YAML.replace(
        "    unit_value: 100\n",
        "    unit_value: 100\n    shortage_cost_per_unit: 7\n"
        "    stockpile: {initial_days: 5, holding_cost_rate: 0.3}\n",
    )
    widget = ds.load_scenario(write_yaml(text)).baseline.products["widget"]
    assert widget.shortage_cost_per_unit == 7
    assert widget.holding_cost_rate == 0.10  # the built-in default
    assert widget.stockpile.holding_cost_rate == 0.3


def test_strategies_merge_over_the_baseline(write_yaml):
    scenario = ds.load_scenario(write_yaml(STRATEGIES_YAML))
    assert scenario.strategy_names == ("baseline", "stock", "diversify", "no_hazards", "nothing")
    assert scenario.strategies["stock"].description == "Ninety days of parts"
    assert scenario.strategies["stock"].name == "stock"
    sources = scenario.world("diversify").products["part"].sources
    assert {k: v.share for k, v in sources.items()} == {"CHN": 0.5, "domestic": 0.2, "IND": 0.3}
    assert sources["IND"].unit_cost_premium == 0.1
    assert scenario.world("diversify").products["widget"] == scenario.baseline.products["widget"]
    assert scenario.world("no_hazards").hazards == ()  # null deletes: back to the default
    assert len(scenario.baseline.hazards) == 1
    assert scenario.world("nothing") == scenario.baseline


def test_null_in_a_strategy_deletes_a_key(write_yaml):
    text = (
        MINIMAL_YAML.replace(
            "    inputs: {part: 2}\n", "    inputs: {part: 2}\n    stockpile: {initial_days: 10}\n"
        )
        + "strategies:\n"
        + "  no_stock: {products: {widget: {stockpile: null}}}\n"
        + "  drop_default: {products: {widget: {stockpile: {refill_days_per_day: null}}}}\n"
    )
    scenario = ds.load_scenario(write_yaml(text))
    assert scenario.baseline.products["widget"].stockpile.initial_days == 10
    assert scenario.world("no_stock").products["widget"].stockpile is None
    assert scenario.world("drop_default").products["widget"].stockpile.refill_days_per_day == 0.1


def test_unknown_strategy_name():
    scenario = ds.load_scenario(parse_text(STRATEGIES_YAML).data)
    with pytest.raises(KeyError, match="unknown strategy 'stok'; this scenario has: baseline"):
        scenario.world("stok")


def test_deep_merge_rules():
    base = {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "x": 1}
    override = {"a": {"c": {"e": 3}, "b": None}, "l": [3], "x": None, "n": {"k": None, "v": 1}}
    assert deep_merge(base, override) == {"a": {"c": {"d": 2, "e": 3}}, "l": [3], "n": {"v": 1}}
    assert base == {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "x": 1}  # unchanged


json_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda children: st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=2), json_values, max_size=4))
def test_deep_merge_with_itself_and_with_nothing(data):
    assert deep_merge(data, {}) == data
    without_nulls = deep_merge({}, data)
    assert deep_merge(without_nulls, without_nulls) == without_nulls


def test_load_from_mapping_equals_load_from_file(write_yaml):
    path = write_yaml(STRATEGIES_YAML)
    from_file = ds.load_scenario(path)
    mapping = parse_text(STRATEGIES_YAML).data
    from_mapping = ds.load_scenario(mapping)
    assert from_mapping.path is None and from_mapping.sha256 is None
    assert dataclasses.replace(from_file, path=None, sha256=None) == from_mapping
    assert thaw(from_file.data) == mapping


def test_the_users_mapping_is_not_changed():
    mapping = parse_text(STRATEGIES_YAML).data
    before = copy.deepcopy(mapping)
    scenario = ds.load_scenario(mapping)
    assert mapping == before
    mapping["products"]["part"]["unit_value"] = 999  # nor does the scenario follow it
    assert scenario.baseline.products["part"].unit_value == 10
    assert scenario.data["products"]["part"]["unit_value"] == 10


def test_the_scenario_is_immutable(write_yaml):
    scenario = ds.load_scenario(write_yaml(STRATEGIES_YAML))
    world = scenario.baseline
    part = world.products["part"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.name = "other"
    with pytest.raises(TypeError):
        scenario.strategies["extra"] = scenario.strategies["baseline"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.strategies["stock"].world = world
    with pytest.raises(ValidationError):
        part.unit_value = 1.0
    with pytest.raises(TypeError):
        world.products["new"] = part
    with pytest.raises(TypeError):
        del world.products["part"]
    with pytest.raises(TypeError):
        part.sources["CHN"] = part.sources["domestic"]
    with pytest.raises(TypeError):
        part.sources.update({})
    with pytest.raises(TypeError):
        world.products["widget"].inputs["part"] = 3.0
    with pytest.raises(TypeError):
        world.hazards[0].countries["IND"] = 1.0
    with pytest.raises(TypeError):
        scenario.regions["X"] = "y"
    with pytest.raises(TypeError):
        scenario.data["name"] = "other"
    with pytest.raises(AttributeError):
        scenario.data["hazards"].append({})  # lists are tuples
    assert isinstance(world.products, FrozenDict)


def test_frozen_scenario_pickles_hashes_and_thaws(write_yaml):
    scenario = ds.load_scenario(write_yaml(STRATEGIES_YAML))
    again = pickle.loads(pickle.dumps(scenario))
    assert again == scenario
    assert hash(scenario.baseline) == hash(again.baseline)
    plain = thaw(scenario.data)
    assert type(plain) is dict and type(plain["hazards"]) is list
    plain["name"] = "changed"  # a plain copy: free to change
    assert scenario.name == "tiny"
    # frozen models still serialise as plain data and validate again
    dumped = scenario.baseline.model_dump(by_alias=True)
    assert type(dumped["products"]) is dict
    assert type(scenario.baseline).model_validate(dumped) == scenario.baseline


def test_yaml_features(write_yaml):
    text = """\
    name: features
    horizon_days: 1_000           # YAML 1.2 integers
    description: 2024-01-01       # dates stay text
    hazards:
      - &cn
        name: cn
        countries: {CHN: 1.0}
        annual_probability: 5e-2  # YAML 1.2 floats
        severity: {dist: beta, mean: 0.5, sd: 0.1}
        duration_days: 30
      - <<: *cn                   # merge keys
        name: cn_again
        severity: 1
    products:
      a: {unit: t, unit_value: 1, sources: {NOR: 0.5, domestic: 0.5}}
    """
    scenario = ds.load_scenario(write_yaml(text))
    assert scenario.horizon_days == 1000
    assert scenario.description == "2024-01-01"
    first, second = scenario.baseline.hazards
    assert first.annual_probability == second.annual_probability == 0.05
    assert first.severity == Beta(dist="beta", mean=0.5, sd=0.1)
    assert second.severity == Fixed(value=1.0)
    assert second.name == "cn_again"


def test_positions_of_keys_and_items():
    document = parse_text("a:\n  b: [x, {c: 1}]\n", file="f.yaml")
    assert document.positions == {
        (): (1, 1),
        ("a",): (1, 1),
        ("a", "b"): (2, 3),
        ("a", "b", 0): (2, 7),
        ("a", "b", 1): (2, 10),
        ("a", "b", 1, "c"): (2, 11),
    }
    assert document.data == {"a": {"b": ["x", {"c": 1}]}}


def test_merge_keys_keep_the_positions_of_own_keys():
    document = parse_text("base: &b {x: 1, y: {z: 2}}\nc:\n  x: 5\n  <<: *b\n")
    assert document.data["c"] == {"x": 5, "y": {"z": 2}}
    assert document.positions[("c", "x")] == (3, 3)  # its own key, not the anchor's
    assert document.positions[("c", "y", "z")] == (1, 21)  # merged: where it was written


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    scenario = ds.load_scenario(path)
    assert scenario.strategy_names[0] == "baseline"


def test_example_minimal_has_what_it_promises():
    scenario = ds.load_scenario(ROOT / "scenarios" / "example-minimal.yaml")
    world = scenario.baseline
    assert len(world.products) >= 2 and len(world.hazards) == 2
    assert any(p.inputs for p in world.products.values())
    assert any(p.final_demand_per_day == 0 for p in world.products.values())
    assert {"stockpile_api", "diversify_api", "stockpile_and_diversify"} <= set(scenario.strategies)


def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", markdown, flags=re.S | re.M)


def test_reference_yaml_examples_load():
    blocks = yaml_blocks(REFERENCE.read_text(encoding="utf-8"))
    complete = [b for b in blocks if re.search(r"^horizon_days:", b, flags=re.M)]
    assert complete, "the scenario reference has no complete example"
    for block in complete:
        ds.load_scenario(parse_text(block, file=str(REFERENCE)).data)
    for block in blocks:  # fragments must at least be valid YAML
        parse_text(block if block.strip() else "{}", file=str(REFERENCE))
