import math

import pytest

from toolfoundry.starters.stats import (
    correlation,
    descriptive_statistics,
    histogram,
    linear_regression,
    percentiles,
    zscore_outliers,
)


def test_descriptive_statistics() -> None:
    result = descriptive_statistics([1, 2, 3, 4])
    assert (result.count, result.sum, result.mean, result.median) == (4, 10, 2.5, 2.5)
    assert (result.min, result.max, result.range) == (1, 4, 3)
    assert result.stdev == pytest.approx(math.sqrt(5 / 3))
    assert result.variance == pytest.approx(5 / 3)
    assert (result.q1, result.q3, result.iqr) == (1.75, 3.25, 1.5)


def test_descriptive_statistics_rounds_float_noise_and_handles_one_value() -> None:
    assert descriptive_statistics([0.1, 0.2]).sum == 0.3
    single = descriptive_statistics([7])
    assert single.mean == 7 and single.stdev is None and single.iqr == 0


def test_bad_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="values needs at least 1 number"):
        descriptive_statistics([])
    with pytest.raises(ValueError, match=r"values\[1\] is nan, not a finite number"):
        descriptive_statistics([1, float("nan")])
    with pytest.raises(ValueError, match=r"values\[0\] is '3', not a finite number"):
        descriptive_statistics(["3"])  # type: ignore[list-item]


def test_percentiles_interpolate_linearly() -> None:
    values = list(range(1, 11))
    assert percentiles(values) == {"p25": 3.25, "p50": 5.5, "p75": 7.75}
    assert percentiles(values, [0, 10, 95, 99.5, 100]) == {
        "p0": 1, "p10": 1.9, "p95": 9.55, "p99.5": 9.955, "p100": 10
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"percentile 101 is outside 0\.\.100"):
        percentiles(values, [101])


def test_pearson_of_perfectly_correlated_data_is_one() -> None:
    result = correlation([1, 2, 3, 4], [2, 4, 6, 8])
    assert result.coefficient == 1.0 and result.n == 4 and result.strength == "strong positive"
    assert correlation([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]).coefficient == -1.0
    assert correlation([1, 2, 3, 4], [1, -1, -1, 1]).strength == "none"


def test_spearman_uses_ranks_with_ties() -> None:
    monotonic = correlation([1, 2, 3, 4, 5], [1, 4, 9, 16, 100], method="spearman")
    assert monotonic.coefficient == 1.0
    assert correlation([1, 2, 3, 4, 5], [1, 4, 9, 16, 100]).coefficient < 0.9
    tied = correlation([1, 2, 2, 3], [1, 2, 3, 4], method="spearman")
    assert tied.coefficient == pytest.approx(0.9486832980505138)  # scipy.stats.spearmanr


def test_correlation_bad_input() -> None:
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="x needs at least 2 number"):
        correlation([1], [1])
    with pytest.raises(ValueError, match="y is constant"):
        correlation([1, 2, 3], [5, 5, 5])


def test_linear_regression() -> None:
    exact = linear_regression([1, 2, 3], [3, 5, 7], predict_at=[10])
    assert (exact.slope, exact.intercept, exact.r_squared) == (2, 1, 1)
    assert exact.predictions == [21] and exact.equation == "y = 2 * x + 1"
    noisy = linear_regression([0, 1, 2, 3], [1, 3, 5, 7.5])
    assert (noisy.slope, noisy.intercept) == (2.15, 0.9)
    assert noisy.r_squared == pytest.approx(0.9967654986522911)
    falling = linear_regression([0, 1], [1, -1])
    assert falling.equation == "y = -2 * x + 1"
    flat = linear_regression([1, 2, 3], [4, 4, 4])
    assert flat.slope == 0 and flat.r_squared is None
    with pytest.raises(ValueError, match="x is constant"):
        linear_regression([2, 2, 2], [1, 2, 3])


def test_zscore_outliers() -> None:
    values = [10, 11, 9, 10, 12, 10, 11, 9, 10, 100]
    report = zscore_outliers(values, threshold=2.5)
    assert [(o.index, o.value) for o in report.outliers] == [(9, 100)]
    assert report.outliers[0].z_score == pytest.approx(2.998438872577)
    assert report.mean == 19.2
    # Ten values can never reach |z| = 3; the report says so.
    assert zscore_outliers(values).outliers == []
    assert zscore_outliers(values).max_attainable_z == pytest.approx(9 / math.sqrt(10))
    assert zscore_outliers([4, 4, 4]).outliers == []
    with pytest.raises(ValueError, match="threshold must be positive"):
        zscore_outliers(values, threshold=0)


def test_histogram() -> None:
    result = histogram([1, 2, 2, 3, 3, 3, 4, 4, 4, 4], bins=3)
    assert result.bin_width == 1
    assert [(b.lower, b.upper, b.count) for b in result.bins] == [(1, 2, 1), (2, 3, 2), (3, 4, 7)]
    tenths = histogram([0.1, 0.2, 0.3, 0.7, 1.0, 1.5], bins=10, min_value=0, max_value=1)
    assert [b.count for b in tenths.bins] == [0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert tenths.outside_range == 1
    point = histogram([5, 5, 5], bins=2)
    assert [(b.lower, b.upper, b.count) for b in point.bins] == [(4.5, 5, 0), (5, 5.5, 3)]
    with pytest.raises(ValueError, match="bins must be at least 1"):
        histogram([1], bins=0)
    with pytest.raises(ValueError, match=r"min_value \(3\) is greater than max_value \(1\)"):
        histogram([2], min_value=3, max_value=1)
