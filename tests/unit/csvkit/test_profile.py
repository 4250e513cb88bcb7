"""The profile: types, nulls, distinct counts, numbers, samples, duplicates, as data and CSV."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

from service.csvkit import CsvLimits, process_csv
from service.csvkit.infer import KindMatcher, is_null
from service.csvkit.profile import TableProfile

from .fixtures import read_output, write_csv, write_text


def _columns(result_profile: dict) -> dict[str, dict]:
    return {column["name"]: column for column in result_profile["column_profiles"]}


def test_each_column_gets_the_narrowest_type_that_fits_all_its_values(in_dir: Path, out_dir: Path) -> None:
    rows = [
        ["int", "float", "bool", "date", "datetime", "text", "nothing", "mixed"],
        ["1", "1.5", "true", "2024-01-31", "2024-01-31 10:00", "a", "", "1"],
        ["-2", "2", "No", "31.01.2024", "2024-01-31T10:00:05Z", "b", "NULL", "x"],
        ["+3", "-1e3", "да", "01/31/2024", "2024-02-01", "c", "n/a", "2024-01-01"],
    ]
    path = write_csv(in_dir / "t.csv", rows)

    columns = _columns(process_csv(path, out_dir, CsvLimits()).profile)

    assert {name: c["type"] for name, c in columns.items()} == {
        "int": "integer",
        "float": "float",
        "bool": "boolean",
        "date": "date",
        "datetime": "datetime",
        "text": "string",
        "nothing": "empty",
        "mixed": "string",
    }


def test_numeric_columns_report_min_max_and_mean(in_dir: Path, out_dir: Path) -> None:
    rows = [["n", "x"], ["10", "0.5"], ["-4", "1.5"], ["7", ""], ["", "-2"]]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert (columns["n"]["min"], columns["n"]["max"], columns["n"]["mean"]) == (-4, 10, 4.333333)
    assert (columns["x"]["min"], columns["x"]["max"], columns["x"]["mean"]) == (-2.0, 1.5, 0.0)


def test_big_integer_ids_keep_exact_min_and_max(in_dir: Path, out_dir: Path) -> None:
    rows = [["id"], ["12345678901234567890"], ["12345678901234567891"]]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert columns["id"]["max"] == 12345678901234567891


def test_digit_strings_too_long_to_be_quantities_are_text(in_dir: Path, out_dir: Path) -> None:
    """5,000 digits would make int() raise (CPython's 4,300-digit guard): it must be text."""
    rows = [["big", "n"], ["9" * 5_000, "1"], ["1", "2"]]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert columns["big"]["type"] == "string"


def test_non_numeric_columns_have_no_numeric_stats(in_dir: Path, out_dir: Path) -> None:
    rows = [["code"], ["1"], ["2"], ["A3"]]
    code = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)["code"]

    assert (code["type"], code["min"], code["max"], code["mean"]) == ("string", None, None, None)


def test_null_share_counts_empty_cells_and_null_tokens(in_dir: Path, out_dir: Path) -> None:
    tokens = ["1", "", "NULL", "none", "N/A", "#N/A", "nan", "2"]
    rows = [["k", "v"]] + [[str(i), token] for i, token in enumerate(tokens)]
    v = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)["v"]

    assert (v["values"], v["nulls"], v["null_share"]) == (8, 6, 0.75)


def test_distinct_counts_are_exact_for_small_columns(in_dir: Path, out_dir: Path) -> None:
    rows = [["city", "n"]] + [[city, str(i)] for i, city in enumerate(["A", "B", "C", "A"] * 50)]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert (columns["city"]["distinct"], columns["city"]["distinct_is_exact"]) == (3, True)
    assert (columns["n"]["distinct"], columns["n"]["distinct_is_exact"]) == (200, True)


def test_high_cardinality_columns_get_an_estimate_within_five_percent(in_dir: Path, out_dir: Path) -> None:
    rows = [["id", "flag"]] + [[f"id-{i}", str(i % 2)] for i in range(60_000)]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert columns["id"]["distinct_is_exact"] is False
    assert abs(columns["id"]["distinct"] - 60_000) < 3_000
    assert (columns["flag"]["distinct"], columns["flag"]["distinct_is_exact"]) == (2, True)


def test_the_most_common_value_is_counted_exactly_across_batches(in_dir: Path, out_dir: Path) -> None:
    """60,000 rows span several batches; ties go to the value that sorts first; a column of
    unique values (past the 1,000-distinct bound) names none."""
    rows = [["city", "tie", "id"]] + [
        [["Омск", "Tver", "Tver", ""][i % 4], ["b", "a"][i % 2], f"id-{i}"] for i in range(60_000)
    ]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert (columns["city"]["top"], columns["city"]["top_count"]) == ("Tver", 30_000)
    assert (columns["tie"]["top"], columns["tie"]["top_count"]) == ("a", 30_000)
    assert (columns["id"]["top"], columns["id"]["top_count"]) == (None, None)


def test_formula_like_cells_are_counted_per_column(in_dir: Path, out_dir: Path) -> None:
    rows = [["phone", "note", "n"], ["+79161234567", "=1+2", "1"], ["+7", "ok", "2"], ["8 916", "@x", "3"]]
    columns = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)

    assert [columns[name]["formula_cells"] for name in ("phone", "note", "n")] == [2, 2, 0]


def test_samples_are_the_first_distinct_non_null_values(in_dir: Path, out_dir: Path) -> None:
    rows = [["v"], [""], ["b"], ["b"], ["a"], ["NULL"], ["c"], ["d"]]
    v = _columns(process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits()).profile)["v"]

    assert v["samples"] == ["b", "a", "c"]


def test_exact_duplicate_rows_are_removed_after_trimming(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "a,b\n1,x\n2,y\n1 , x\n1,x\n2,Y\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == [["a", "b"], ["1", "x"], ["2", "y"], ["2", "Y"]]
    assert (result.rows_in, result.rows_out, result.duplicates_removed) == (5, 3, 2)
    assert result.profile["duplicates_removed"] == 2


def test_rows_differing_only_in_where_cells_split_are_not_duplicates(in_dir: Path, out_dir: Path) -> None:
    rows = [["a", "b"], ["x,y", "z"], ["x", "y,z"]]
    result = process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits())

    assert result.duplicates_removed == 0


def test_empty_rows_are_dropped_and_counted(in_dir: Path, out_dir: Path) -> None:
    path = write_text(in_dir / "t.csv", "a,b\n1,2\n,\n  ,  \n\n3,4\n")

    result = process_csv(path, out_dir, CsvLimits())

    assert read_output(result.cleaned_path) == [["a", "b"], ["1", "2"], ["3", "4"]]
    assert result.profile["empty_rows_removed"] == 2
    assert result.malformed_rows == 0


def test_profile_csv_has_one_row_per_column_with_neutralised_text(in_dir: Path, out_dir: Path) -> None:
    rows = [["=cmd", "amount"], ["@x", "-1.5"], ["y", "2"]]
    result = process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits())

    profile_rows = read_output(result.profile_path)
    assert profile_rows[0] == [
        "position",
        "name",
        "type",
        "values",
        "nulls",
        "null_share",
        "distinct",
        "distinct_is_exact",
        "min",
        "max",
        "mean",
        "sample_1",
        "sample_2",
        "sample_3",
    ]
    assert profile_rows[1] == [
        "1",
        "'=cmd",
        "string",
        "2",
        "0",
        "0.0",
        "2",
        "yes",
        "",
        "",
        "",
        "'@x",
        "y",
        "",
    ]
    assert profile_rows[2] == [
        "2",
        "amount",
        "float",
        "2",
        "0",
        "0.0",
        "2",
        "yes",
        "-1.5",
        "2.0",
        "0.25",
        "-1.5",
        "2",
        "",
    ]


def test_profile_dict_is_json_serialisable_and_matches_the_result(in_dir: Path, out_dir: Path) -> None:
    rows = [["a", "huge"], ["1", "1e400"], ["2", "3"]]
    result = process_csv(write_csv(in_dir / "t.csv", rows), out_dir, CsvLimits())

    decoded = json.loads(json.dumps(result.profile, allow_nan=False))
    assert decoded["rows_in"] == result.rows_in == 2
    assert decoded["columns"] == result.columns == 2
    assert decoded["column_profiles"][1]["max"] is None  # 1e400 overflows a float: no number


def test_kinds_widen_batch_by_batch_as_the_per_value_checks_say() -> None:
    """Each batch checks a column's kind so far first and the wider kinds only if that fails:
    fed random batches, every column ends each batch at the kind the Python checks give for
    all its values so far, and with their null count."""
    samples = [
        "1", "-2", "1.5", "1e3", "true", "нет", "2024-01-31", "31.01.2024", "2024-01-31 10:00",
        "x", "", "NULL", "n/a", "nan", "#N/A", "12345", "true1",
    ]  # fmt: skip
    matcher = KindMatcher(decimal_comma=False)
    rng = random.Random(11)
    for _ in range(40):
        table = TableProfile(["a", "b", "c"], decimal_comma=False)
        seen: list[list[str]] = [[], [], []]
        # Most batches draw from a narrow pool, so that kinds last a few batches, then widen.
        for _ in range(6):
            pool = rng.sample(samples, rng.randrange(1, 4))
            batch = [[rng.choice(pool) for _ in range(rng.randrange(1, 6))] for _ in range(3)]
            height = min(map(len, batch))
            batch = [column[:height] for column in batch]
            nulls = table.update_frame(pl.DataFrame({f"c{i}": column for i, column in enumerate(batch)}))
            assert nulls == [sum(map(is_null, column)) for column in batch]
            for index, column in enumerate(batch):
                seen[index] += [value for value in column if not is_null(value)]
                expected = matcher.widen(None, seen[index]) if seen[index] else None
                assert table.columns[index].kind == expected, (seen[index], table.columns[index].kind)
