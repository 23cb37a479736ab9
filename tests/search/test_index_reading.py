"""Reading the large index arrays from disk, and the terms the hybrid first stage walks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dailypapers.search import lexical
from dailypapers.search.index import DiskRows


@pytest.fixture
def matrix(tmp_path: Path) -> tuple[np.ndarray, DiskRows]:
    values = np.random.default_rng(7).standard_normal((500, 12)).astype(np.float16)
    np.save(tmp_path / "rows.npy", values)
    return values, DiskRows(tmp_path / "rows.npy")


def test_rows_come_back_in_the_order_asked(matrix: tuple[np.ndarray, DiskRows]) -> None:
    values, rows = matrix
    assert rows.shape == (500, 12) and len(rows) == 500 and rows.dtype == np.float16
    wanted = np.asarray([499, 3, 4, 5, 0, 250, 4, 17])  # unsorted, a run, a repeat, both ends
    np.testing.assert_array_equal(rows[wanted], values[wanted])
    np.testing.assert_array_equal(rows[42], values[42])
    np.testing.assert_array_equal(rows[np.asarray([], dtype=np.int64)], values[:0])
    np.testing.assert_array_equal(np.asarray(rows), values)
    np.testing.assert_array_equal(np.asarray(rows, dtype=np.float32), values.astype(np.float32))


def test_ranges_concatenate_in_the_order_given(matrix: tuple[np.ndarray, DiskRows]) -> None:
    values, rows = matrix
    got = rows.ranges(np.asarray([490, 0, 100]), np.asarray([10, 0, 3]))
    np.testing.assert_array_equal(got, np.concatenate([values[490:500], values[100:103]]))
    with pytest.raises(IndexError, match=r"outside rows\.npy"):
        rows.ranges(np.asarray([495]), np.asarray([6]))


def test_one_dimensional_arrays(tmp_path: Path) -> None:
    values = np.arange(1000, dtype=np.int32) * 3
    np.save(tmp_path / "terms.npy", values)
    terms = DiskRows(tmp_path / "terms.npy")
    np.testing.assert_array_equal(
        terms.ranges(np.asarray([10, 900]), np.asarray([5, 100])), np.r_[values[10:15], values[900:]]
    )


def test_reading_maps_nothing_into_the_process(tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.ones((2000, 384), dtype=np.float16))
    rows = DiskRows(tmp_path / "big.npy")
    rows[np.arange(0, 2000, 7)]
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("no /proc/self/maps on this system")
    assert str(tmp_path / "big.npy") not in maps.read_text()


def test_the_first_stage_leaves_out_very_common_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "COMMON_TERM_PAPERS", 100)
    index = SimpleNamespace(document_frequency=np.asarray([5, 100, 101, 5000, 3]))
    assert lexical.shortlist_terms(index, [0, 1, 2, 3, 4]) == [0, 1, 4]  # type: ignore[arg-type]
    # Only common terms: the rarest of them still finds candidates.
    assert lexical.shortlist_terms(index, [3, 2]) == [2]  # type: ignore[arg-type]
    assert lexical.shortlist_terms(index, [3]) == [3]  # type: ignore[arg-type]
    assert lexical.shortlist_terms(index, []) == []  # type: ignore[arg-type]
