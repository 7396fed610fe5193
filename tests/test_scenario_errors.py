"""Every validation error: exact message, file, line, column and key path."""

from __future__ import annotations

import math
import pickle
import resource
import time

import pytest
from conftest import MINIMAL_YAML

import disruptsim as ds
from disruptsim.errors import Problem, ScenarioError
from disruptsim.scenario import yamlio


def messages(path) -> list[str]:
    """The problems reported for a file, as ``file:line:col: path: message`` lines."""
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario(path)
    return [str(p) for p in info.value.problems]


def one(path) -> str:
    found = messages(path)
    assert len(found) == 1, found
    return found[0].removeprefix(f"{path}:")


# -- YAML level ----------------------------------------------------------------------------


def test_yaml_syntax_error(write_yaml):
    path = write_yaml("name: x\n  horizon_days: 10\n")
    assert one(path) == "2:15: invalid YAML: mapping values are not allowed here"


def test_yaml_unclosed_flow_sequence_names_where_it_started(write_yaml):
    path = write_yaml("name: x\nproducts: [a, b\n")
    assert one(path) == (
        "3:1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 2, column 11)"
    )


def test_empty_file(write_yaml):
    expected = "file is empty; expected a mapping with at least name, horizon_days and products"
    path = write_yaml("")
    assert messages(path) == [f"{path}: {expected}"]
    path = write_yaml("# only a comment\n\n", "comment.yaml")
    assert messages(path) == [f"{path}: {expected}"]


def test_top_level_not_a_mapping(write_yaml):
    path = write_yaml("- name: x\n- horizon_days: 3\n")
    assert one(path) == (
        "1:1: expected a mapping at the top level (with name, horizon_days and products), "
        "found a list"
    )
    path = write_yaml("just text\n", "text.yaml")
    assert one(path).endswith("found 'just text' (a string)")


def test_object_constructing_tag_is_refused_and_nothing_runs(write_yaml, tmp_path):
    marker = tmp_path / "created-by-yaml"
    path = write_yaml(
        f"name: !!python/object/apply:os.system ['touch {marker}']\n"
        f"description: !!python/object/new:pathlib.Path ['{marker}']\n"
        "home: !custom EU27\n"
    )
    assert messages(path) == [
        f"{path}:1:7: name: tag '!!python/object/apply:os.system' is not allowed: a scenario "
        "holds only mappings, lists, strings, numbers, true/false and null "
        "(nothing is constructed or run)",
        f"{path}:2:14: description: tag '!!python/object/new:pathlib.Path' is not allowed: a "
        "scenario holds only mappings, lists, strings, numbers, true/false and null "
        "(nothing is constructed or run)",
        f"{path}:3:7: home: tag '!custom' is not allowed: a scenario holds only mappings, "
        "lists, strings, numbers, true/false and null (nothing is constructed or run)",
    ]
    assert not marker.exists()


@pytest.mark.timeout(30)
def test_alias_bomb_fails_fast_in_bounded_memory(write_yaml):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")  # a9 expands to 10**10 strings
    path = write_yaml("\n".join(lines) + "\n")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    found = messages(path)
    elapsed = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert elapsed < 10  # about 0.6 s; generous for loaded CI machines
    assert growth < 300_000  # KiB: the process's peak memory grew by less than 300 MB
    assert len(found) == 1
    assert found[0].startswith(f"{path}:")
    assert found[0].endswith(
        "the document holds more than 250,000 values once aliases (*a0, *a1, *a2, ...) "
        "are expanded; the limit is 250,000"
    )


def test_recursive_alias(write_yaml):
    path = write_yaml("name: &loop [1, *loop]\n")
    assert one(path) == (
        "1:7: name[1]: alias *loop refers to a value that contains it (a recursive alias)"
    )


@pytest.mark.timeout(10)
def test_file_over_the_size_limit_fails_quickly(tmp_path):
    path = tmp_path / "huge.yaml"
    size = yamlio.MAX_FILE_BYTES + 1000
    path.write_bytes(b"# padding\n" * (size // 10))
    started = time.perf_counter()
    assert messages(path) == [
        f"{path}: file is {size:,} bytes; the limit is {yamlio.MAX_FILE_BYTES:,} bytes"
    ]
    assert time.perf_counter() - started < 1


def test_duplicate_key(write_yaml):
    path = write_yaml(MINIMAL_YAML + "horizon_days: 40\n")
    assert one(path) == "14:1: horizon_days: duplicate key 'horizon_days' (first at line 2)"


def test_non_string_key(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("CHN: 0.8", "1: 0.8"))
    assert one(path) == (
        "7:15: products.part.sources: a key must be a string, found 1; put it in quotes: '1'"
    )


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: x\ndescription: caf\u00e9\n".encode("latin-1"))
    assert one(path) == "2:17: file is not UTF-8 text (byte 0xe9 cannot be decoded)"


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        ds.load_scenario(tmp_path / "nope.yaml")


# -- schema level ---------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("final_demand_per_day", "fnial_demand_per_day"))
    assert one(path) == (
        "11:5: products.widget.fnial_demand_per_day: unknown key 'fnial_demand_per_day'; "
        "did you mean 'final_demand_per_day'?"
    )


def test_unknown_key_without_close_match_lists_the_allowed_keys(write_yaml):
    path = write_yaml(MINIMAL_YAML + "defaults: {colour: red}\n")
    assert one(path) == (
        "14:12: defaults.colour: unknown key 'colour'; "
        "expected one of: 'shortage_cost_multiplier', 'holding_cost_rate'"
    )


def test_wrong_type(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("unit_value: 10\n", "unit_value: abc\n"))
    assert one(path) == "6:5: products.part.unit_value: expected a number, found 'abc' (a string)"


def test_wrong_type_whole_number(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("horizon_days: 30", "horizon_days: 30.5"))
    assert one(path) == "2:1: horizon_days: expected a whole number, found 30.5"
    path = write_yaml(MINIMAL_YAML.replace("horizon_days: 30", "horizon_days: 30.0"), "f.yaml")
    assert one(path) == "2:1: horizon_days: expected a whole number, found 30.0"


def test_missing_required_key(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("    unit: kg\n", ""))
    assert one(path) == "4:3: products.part: missing required key 'unit'"


def test_negative_quantity(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("final_demand_per_day: 5", "final_demand_per_day: -5"))
    assert (
        one(path) == "11:5: products.widget.final_demand_per_day: expected a number >= 0, found -5"
    )


def test_probability_outside_unit_interval(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "hazards:\n"
        + "  - {name: h, countries: [CHN], annual_probability: 1.5, severity: 1, duration_days: 9}\n"
    )
    assert one(path) == (
        "15:33: hazards[0].annual_probability: expected a probability in [0, 1], found 1.5"
    )


def test_unknown_distribution(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "hazards:\n"
        + "  - name: h\n"
        + "    countries: [CHN]\n"
        + "    annual_probability: 0.1\n"
        + "    severity: {dist: betta, mean: 0.5, sd: 0.1}\n"
        + "    duration_days: {dist: lognormal, median: 10, p95: 5}\n"
    )
    assert messages(path) == [
        f"{path}:18:16: hazards[0].severity.dist: unknown distribution 'betta'; "
        "did you mean 'beta'?",
        f"{path}:19:5: hazards[0].duration_days: expected p95 > median, found median=10.0 "
        "and p95=5.0",
    ]


def test_non_finite_number(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("unit_value: 100", "unit_value: .inf"))
    assert one(path) == "10:5: products.widget.unit_value: expected a finite number, found .inf"


# -- whole-scenario checks ------------------------------------------------------------------


def test_shares_not_summing_to_one(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("CHN: 0.8", "CHN: 0.7"))
    assert one(path) == (
        "7:5: products.part.sources: shares of the sources sum to 0.9, expected 1 "
        "(CHN: 0.7, domestic: 0.2)"
    )


def test_shares_within_tolerance_are_fine_and_rescaled_to_one(write_yaml):
    text = MINIMAL_YAML.replace(
        "CHN: 0.8", "MYS: {share: 0.8000005, exposure: {CHN: 0.4, MYS: 0.6000004}}"
    )
    sources = ds.load_scenario(write_yaml(text)).baseline.products["part"].sources
    assert math.fsum(s.share for s in sources.values()) == pytest.approx(1.0, abs=1e-15)
    assert sources["MYS"].share / sources["domestic"].share == pytest.approx(4.0000025, rel=1e-15)
    assert math.fsum(sources["MYS"].exposure.values()) == pytest.approx(1.0, abs=1e-15)
    assert (
        ds.load_scenario(write_yaml(MINIMAL_YAML, "exact.yaml"))
        .baseline.products["part"]
        .sources["CHN"]
        .share
        == 0.8
    )  # sums that are 1 up to rounding stay as written


def test_exposure_weights_not_summing_to_one(write_yaml):
    path = write_yaml(
        MINIMAL_YAML.replace("CHN: 0.8", "MYS: {share: 0.8, exposure: {CHN: 0.6, MYS: 0.3}}")
    )
    assert one(path) == (
        "7:33: products.part.sources.MYS.exposure: exposure weights sum to 0.9, expected 1 "
        "(CHN: 0.6, MYS: 0.3)"
    )


def test_unknown_product_in_inputs(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("inputs: {part: 2}", "inputs: {prat: 2}"))
    assert (
        one(path)
        == "13:14: products.widget.inputs.prat: unknown product 'prat'; did you mean 'part'?"
    )


def test_cycle_in_inputs_names_the_cycle(write_yaml):
    path = write_yaml(
        """\
        name: loop
        horizon_days: 10
        products:
          a: {unit: t, unit_value: 1, sources: {domestic: 1}, inputs: {b: 1}}
          b: {unit: t, unit_value: 1, sources: {domestic: 1}, inputs: {c: 1}}
          c: {unit: t, unit_value: 1, sources: {domestic: 1}, inputs: {a: 1}}
          d: {unit: t, unit_value: 1, final_demand_per_day: 1, sources: {domestic: 1}, inputs: {a: 1, d: 1}}
        """
    )
    assert messages(path) == [
        f"{path}:4:64: products.a.inputs.b: cycle in inputs: a -> b -> c -> a",
        f"{path}:7:95: products.d.inputs.d: cycle in inputs: d -> d",
    ]


def test_unknown_country_code(write_yaml):
    path = write_yaml(MINIMAL_YAML.replace("CHN: 0.8", "CNH: 0.8"))
    assert one(path) == (
        "7:15: products.part.sources.CNH: unknown country code 'CNH'; did you mean 'CHN' (China)?"
    )


def test_country_code_suggestions(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "shocks:\n"
        + "  - {countries: [CN, Germany, QQQ, domestic], start_day: 0, duration_days: 5, severity: 1}\n"
    )
    assert [m.split(": ", 2)[2] for m in messages(path)] == [
        "unknown country code 'CN'; did you mean 'CHN' (China)?",
        "unknown country code 'Germany'; did you mean 'DEU' (Germany)?",
        "unknown country code 'QQQ'; expected an ISO 3166-1 alpha-3 code such as 'DEU', "
        "'EU27', 'ROW' or a region declared under regions",
        "unknown country code 'domestic': 'domestic' is only valid as a source of a product",
    ]


def test_declared_regions_are_valid_codes_but_may_not_shadow_iso(write_yaml):
    text = MINIMAL_YAML.replace("CHN: 0.8", "ASEAN: 0.8") + "regions: {ASEAN: South-East Asia}\n"
    ds.load_scenario(write_yaml(text))
    path = write_yaml(
        text.replace("regions: {ASEAN:", "regions: {DEU: Germany, ASEAN:") + "home: domestic\n",
        "clash.yaml",
    )
    assert messages(path) == [
        f"{path}:14:11: regions.DEU: region 'DEU' clashes with the ISO 3166-1 code of Germany; "
        "choose another name",
        f"{path}:15:1: home: home cannot be 'domestic': name the region whose supply is studied",
    ]


def test_hazard_products_must_be_known_and_names_unique(write_yaml):
    hazard = "{name: h, countries: [CHN], products: [part, lumber], annual_probability: 0.1, severity: 1, duration_days: 3}"
    path = write_yaml(
        MINIMAL_YAML + f"hazards:\n  - {hazard}\n  - {hazard.replace(', lumber', '')}\n"
    )
    assert messages(path) == [
        f"{path}:15:50: hazards[0].products[1]: unknown product 'lumber'; "
        "expected one of: 'part', 'widget'",
        f"{path}:16:6: hazards[1].name: duplicate hazard name 'h' (also hazards[0])",
    ]


def test_reshoring_must_replace_an_import_source(write_yaml):
    path = write_yaml(
        MINIMAL_YAML.replace(
            "    sources: {CHN: 0.8, domestic: 0.2}\n",
            "    sources: {CHN: 0.8, domestic: 0.2}\n"
            "    reshoring: {from: CHM, share: 0.1, build_days: 100}\n",
        )
    )
    assert one(path) == (
        "8:17: products.part.reshoring.from: 'CHM' is not a source of this product; "
        "did you mean 'CHN'?"
    )


def test_several_errors_are_all_reported_in_file_order(write_yaml):
    path = write_yaml(
        """\
        name: many
        horizon_days: -1
        products:
          part:
            unit: kg
            unit_value: ten
            sources: {CHN: 0.8, domestic: 0.1}
          widget:
            unit: piece
            unit_value: 100
            final_demand_per_day: 5
            sources: {XXX: 1}
            inputs: {part: 2, bolt: 1}
        hazards:
          - {name: h, countries: [CHN], annual_probability: 2, severity: 1, duration_days: 3}
        """
    )
    assert messages(path) == [
        f"{path}:2:1: horizon_days: expected a number >= 1, found -1",
        f"{path}:6:5: products.part.unit_value: expected a number, found 'ten' (a string)",
        f"{path}:7:5: products.part.sources: shares of the sources sum to 0.9, expected 1 "
        "(CHN: 0.8, domestic: 0.1)",
        f"{path}:12:15: products.widget.sources.XXX: unknown country code 'XXX'; expected an ISO "
        "3166-1 alpha-3 code such as 'DEU', 'EU27', 'ROW' or a region declared under regions",
        f"{path}:13:23: products.widget.inputs.bolt: unknown product 'bolt'; "
        "expected one of: 'part', 'widget'",
        f"{path}:15:33: hazards[0].annual_probability: expected a probability in [0, 1], found 2",
    ]


# -- strategies -----------------------------------------------------------------------------


def test_strategy_whose_override_breaks_the_scenario(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "strategies:\n"
        + "  diversify:\n"
        + "    products: {part: {sources: {IND: 0.3}}}\n"
    )
    assert one(path) == (
        "16:23: strategies.diversify.products.part.sources: strategy 'diversify': shares of the "
        "sources sum to 1.3, expected 1 (CHN: 0.8, domestic: 0.2, IND: 0.3); note that a "
        "strategy's mapping is merged into the baseline's, which adds CHN, domestic: set a key "
        "to null in the strategy to remove it"
    )


def test_strategy_schema_error_is_at_the_override(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "strategies:\n"
        + "  stock:\n"
        + "    products:\n"
        + "      widget:\n"
        + "        stockpile: {initial_days: -30}\n"
        + "  drop_unit:\n"
        + "    products: {part: {unit: null}}\n"
    )
    assert messages(path) == [
        f"{path}:18:21: strategies.stock.products.widget.stockpile.initial_days: "
        "strategy 'stock': expected a number >= 0, found -30",
        f"{path}:20:16: strategies.drop_unit.products.part: "
        "strategy 'drop_unit': missing required key 'unit'",
    ]


def test_strategy_inherits_baseline_problems_without_repeating_them(write_yaml):
    path = write_yaml(
        MINIMAL_YAML.replace("CHN: 0.8", "CHN: 0.7")
        + "strategies:\n"
        + "  stock: {products: {widget: {stockpile: {initial_days: 30}}}}\n"
    )
    assert one(path).startswith("7:5: products.part.sources: shares of the sources sum to 0.9")


def test_strategy_keys_are_limited(write_yaml):
    path = write_yaml(
        MINIMAL_YAML
        + "strategies:\n"
        + "  s: {hazzards: [], horizon_days: 3}\n"
        + "  baseline: {products: {}}\n"
    )
    assert messages(path) == [
        f"{path}:15:7: strategies.s.hazzards: unknown strategy key 'hazzards'; "
        "did you mean 'hazards'?",
        f"{path}:15:21: strategies.s.horizon_days: unknown strategy key 'horizon_days'; expected "
        "one of: 'description', 'defaults', 'hazards', 'shocks', 'products'",
        f"{path}:16:3: strategies.baseline: the baseline strategy is the scenario itself and "
        "cannot change anything; leave it empty ({}) and change the scenario instead",
    ]


# -- mappings and the error type ------------------------------------------------------------


def test_mapping_errors_have_no_position():
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario({"name": "m", "horizon_days": 3, "products": {"a": {"unit": "t"}}})
    assert str(info.value) == (
        "<mapping>: products.a: missing required key 'unit_value'\n"
        "<mapping>: products.a: missing required key 'sources'"
    )


def test_mapping_with_unsupported_values():
    with pytest.raises(ScenarioError) as info:
        ds.load_scenario({"name": object(), "horizon_days": 3, 5: 1})
    assert [str(p) for p in info.value.problems] == [
        "<mapping>: name: unsupported value of type object; expected a mapping, list, string, "
        "number, boolean or None",
        "<mapping>: a key must be a string, found 5",
    ]


def test_problem_format_and_error_pickles():
    problem = Problem("s.yaml", 3, 7, "products.a", "expected a number, found 'x' (a string)")
    assert str(problem) == "s.yaml:3:7: products.a: expected a number, found 'x' (a string)"
    assert str(Problem(None, None, None, "", "file is empty")) == "<mapping>: file is empty"
    error = ScenarioError([problem, Problem("s.yaml", 4, 1, "name", "missing")])
    assert str(error) == f"{problem}\ns.yaml:4:1: name: missing"
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)


@pytest.mark.parametrize(
    ("restraint", "expected"),
    [
        ({"max_share": 0.1}, "expected exactly one of unit_cost"),
        ({"max_share": 0.1, "unit_cost": 1.0, "unit_cost_relative": 0.1}, "exactly one of"),
        (
            {"max_share": 0.1, "unit_cost": 5000.0},
            r"below the shortage cost per unit \(300\), found 5000",
        ),
        ({"max_share": 0.1, "unit_cost_relative": 3.0}, "below the shortage cost per unit"),
    ],
)
def test_demand_restraint_errors(restraint, expected):
    """Demand restraint needs one unit cost, below the product's shortage cost."""
    data = {
        "name": "r",
        "horizon_days": 10,
        "products": {
            "x": {
                "unit": "t",
                "unit_value": 100.0,
                "final_demand_per_day": 1.0,
                "sources": {"CHN": 1.0},
                "demand_restraint": restraint,
            }
        },
    }
    with pytest.raises(ds.ScenarioError, match=expected) as info:
        ds.load_scenario(data)
    assert "products.x.demand_restraint" in str(info.value)


def test_demand_restraint_needs_final_demand():
    data = {
        "name": "r",
        "horizon_days": 10,
        "products": {
            "x": {
                "unit": "t",
                "unit_value": 1.0,
                "sources": {"CHN": 1.0},
                "demand_restraint": {"max_share": 0.1, "unit_cost": 0.1},
            }
        },
    }
    with pytest.raises(ds.ScenarioError, match="final_demand_per_day > 0"):
        ds.load_scenario(data)
