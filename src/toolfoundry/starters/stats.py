"""Statistics over lists of numbers for agents: descriptive statistics, percentiles,
correlation, linear regression, z-score outliers and histograms (standard library only)."""

import bisect
import math
import statistics
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from toolfoundry.registry.decorator import tool

# Floating-point sums leave noise in the last bits (0.30000000000000004); results are rounded
# to this many decimals, far below any meaningful precision of real data.
_DECIMALS = 12


class Descriptive(BaseModel):
    """Descriptive statistics of a list of numbers."""

    count: int
    sum: float
    mean: float
    median: float
    stdev: float | None = Field(description="Sample standard deviation (n - 1); null if n < 2.")
    variance: float | None = Field(description="Sample variance (n - 1); null if n < 2.")
    min: float
    max: float
    range: float
    q1: float = Field(description="25th percentile (linear interpolation).")
    q3: float = Field(description="75th percentile (linear interpolation).")
    iqr: float = Field(description="Interquartile range, q3 - q1.")


class Correlation(BaseModel):
    """A correlation coefficient between two variables."""

    coefficient: float = Field(
        description="From -1 (perfectly opposite) to 1 (perfectly together)."
    )
    method: Literal["pearson", "spearman"]
    n: int
    strength: str = Field(
        description="Rough reading of |coefficient|: none (< 0.1), weak (< 0.4), "
        "moderate (< 0.7) or strong, with the direction."
    )


class Regression(BaseModel):
    """An ordinary least-squares line y = slope * x + intercept."""

    slope: float
    intercept: float
    r_squared: float | None = Field(
        description="Share of the variance of y explained by the line; null if y is constant."
    )
    n: int
    equation: str
    predictions: list[float] = Field(description="Predicted y for each value of `predict_at`.")


class Outlier(BaseModel):
    """A value far from the mean."""

    index: int = Field(description="Position of the value in the input list.")
    value: float
    z_score: float


class OutlierReport(BaseModel):
    """Values whose z-score exceeds a threshold."""

    mean: float
    stdev: float = Field(description="Population standard deviation used for the z-scores.")
    threshold: float
    max_attainable_z: float = Field(
        description="The largest |z| that n values can reach, (n - 1) / sqrt(n); if it is below "
        "the threshold no value can ever be flagged, so lower the threshold."
    )
    outliers: list[Outlier]


class Bin(BaseModel):
    """One histogram bin, [lower, upper) except the last, which includes its upper edge."""

    lower: float
    upper: float
    count: int


class Histogram(BaseModel):
    """Counts of values in equal-width bins."""

    bin_width: float
    bins: list[Bin]
    outside_range: int = Field(description="Values below min_value or above max_value.")


def _clean(x: float) -> float:
    return round(x, _DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _check(values: list[float], name: str = "values", minimum: int = 1) -> list[float]:
    if len(values) < minimum:
        raise ValueError(f"{name} needs at least {minimum} number(s), got {len(values)}")
    for index, value in enumerate(values):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name}[{index}] is {value!r}, not a finite number")
    return [float(v) for v in values]


def _check_pair(x: list[float], y: list[float]) -> tuple[list[float], list[float]]:
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    return _check(x, "x", 2), _check(y, "y", 2)


def _percentile(ordered: list[float], percent: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    position = (len(ordered) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ranks(values: list[float]) -> list[float]:
    """1-based ranks; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


@tool(
    toolkit="stats",
    tags=["describe", "mean", "median", "stdev", "summary"],
    examples=[
        "what is the average of 4, 8 and 15",
        "mean, median and standard deviation of these test scores",
    ],
    version="1.0.1",
)
def descriptive_statistics(values: list[float]) -> Descriptive:
    """Compute count, sum, mean, median, standard deviation, min, max and quartiles of numbers.

    Args:
        values: The numbers to describe.

    Returns:
        The statistics; stdev and variance use the sample (n - 1) formula.
    """
    data = _check(values)
    ordered = sorted(data)
    q1, q3 = _percentile(ordered, 25), _percentile(ordered, 75)
    several = len(data) > 1
    return Descriptive(
        count=len(data),
        sum=_clean(math.fsum(data)),
        mean=_clean(statistics.fmean(data)),
        median=_clean(statistics.median(ordered)),
        stdev=_clean(statistics.stdev(data)) if several else None,
        variance=_clean(statistics.variance(data)) if several else None,
        min=ordered[0],
        max=ordered[-1],
        range=_clean(ordered[-1] - ordered[0]),
        q1=_clean(q1),
        q3=_clean(q3),
        iqr=_clean(q3 - q1),
    )


@tool(toolkit="stats", tags=["percentile", "quantile", "distribution"])
def percentiles(values: list[float], percents: list[float] | None = None) -> dict[str, float]:
    """Compute percentiles of numbers, e.g. the median (50) or the 95th percentile.

    Uses linear interpolation between closest ranks, as numpy and Excel's PERCENTILE.INC do.

    Args:
        values: The numbers.
        percents: Percentiles to compute, each from 0 to 100; 25, 50 and 75 if omitted.

    Returns:
        A mapping from "p<percent>" (e.g. "p95") to the value.
    """
    ordered = sorted(_check(values))
    result: dict[str, float] = {}
    for percent in percents if percents is not None else [25.0, 50.0, 75.0]:
        if not 0 <= percent <= 100:
            raise ValueError(f"percentile {percent} is outside 0..100")
        result[f"p{percent:g}"] = _clean(_percentile(ordered, percent))
    return result


@tool(toolkit="stats", tags=["correlation", "pearson", "spearman", "relationship"])
def correlation(
    x: list[float],
    y: list[float],
    method: Literal["pearson", "spearman"] = "pearson",
) -> Correlation:
    """Measure how strongly two variables move together (Pearson or Spearman correlation).

    Pearson measures a linear relationship; Spearman (on ranks) any monotonic one and resists
    outliers.

    Args:
        x: Values of the first variable.
        y: Values of the second variable, paired with x by position.
        method: "pearson" for linear correlation, "spearman" for rank correlation.

    Returns:
        The coefficient from -1 to 1, the method, the number of pairs and a reading of strength.
    """
    xs, ys = _check_pair(x, y)
    for name, data in (("x", xs), ("y", ys)):
        if len(set(data)) == 1:
            raise ValueError(f"{name} is constant; correlation is undefined without variation")
    if method == "spearman":
        xs, ys = _ranks(xs), _ranks(ys)
    coefficient = max(-1.0, min(1.0, _clean(statistics.correlation(xs, ys))))
    size = abs(coefficient)
    label = (
        "none" if size < 0.1 else "weak" if size < 0.4 else "moderate" if size < 0.7 else "strong"
    )
    if label != "none":
        label += " positive" if coefficient > 0 else " negative"
    return Correlation(coefficient=coefficient, method=method, n=len(xs), strength=label)


@tool(toolkit="stats", tags=["regression", "trend", "fit", "predict"])
def linear_regression(
    x: list[float],
    y: list[float],
    predict_at: list[float] | None = None,
) -> Regression:
    """Fit a straight line y = slope * x + intercept by least squares and report r².

    Args:
        x: Values of the explanatory variable.
        y: Values of the response variable, paired with x by position.
        predict_at: x values at which to predict y with the fitted line.

    Returns:
        Slope, intercept, r², the number of points, the equation and any predictions.
    """
    xs, ys = _check_pair(x, y)
    if len(set(xs)) == 1:
        raise ValueError("x is constant; a line cannot be fitted without variation in x")
    slope, intercept = statistics.linear_regression(xs, ys)
    mean_y = statistics.fmean(ys)
    ss_total = math.fsum((v - mean_y) ** 2 for v in ys)
    ss_residual = math.fsum((v - (slope * u + intercept)) ** 2 for u, v in zip(xs, ys, strict=True))
    slope, intercept = _clean(slope), _clean(intercept)
    sign = "-" if intercept < 0 else "+"
    return Regression(
        slope=slope,
        intercept=intercept,
        r_squared=_clean(1 - ss_residual / ss_total) if ss_total > 0 else None,
        n=len(xs),
        equation=f"y = {slope:g} * x {sign} {abs(intercept):g}",
        predictions=[
            _clean(slope * u + intercept) for u in _check(predict_at or [], "predict_at", 0)
        ],
    )


@tool(toolkit="stats", tags=["outliers", "anomaly", "zscore"])
def zscore_outliers(values: list[float], threshold: float = 3.0) -> OutlierReport:
    """Flag outliers: values whose z-score (distance from the mean in stdevs) exceeds a threshold.

    Args:
        values: The numbers to check.
        threshold: Minimum |z| for a value to count as an outlier; 2 or 2.5 suits small samples.

    Returns:
        Mean, standard deviation and the outliers with their positions and z-scores.
    """
    if threshold <= 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    data = _check(values)
    mean, stdev = statistics.fmean(data), statistics.pstdev(data)
    outliers = []
    if stdev > 0:
        for index, value in enumerate(data):
            z = (value - mean) / stdev
            if abs(z) > threshold:
                outliers.append(Outlier(index=index, value=value, z_score=_clean(z)))
    return OutlierReport(
        mean=_clean(mean),
        stdev=_clean(stdev),
        threshold=threshold,
        max_attainable_z=_clean((len(data) - 1) / math.sqrt(len(data))),
        outliers=outliers,
    )


@tool(toolkit="stats", tags=["histogram", "distribution", "bins", "frequency"], version="1.1.0")
def histogram(
    values: list[float],
    bins: Annotated[int, Field(ge=1, le=10_000)] = 10,
    min_value: float | None = None,
    max_value: float | None = None,
) -> Histogram:
    """Count numbers in equal-width bins to show their distribution.

    Args:
        values: The numbers to bin.
        bins: Number of bins, 1 to 10,000.
        min_value: Lower edge of the first bin; the smallest value if omitted.
        max_value: Upper edge of the last bin; the largest value if omitted.

    Returns:
        The bin width, each bin's edges and count, and how many values fell outside the range.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    data = _check(values)
    low = min(data) if min_value is None else min_value
    high = max(data) if max_value is None else max_value
    if low > high:
        raise ValueError(f"min_value ({low}) is greater than max_value ({high})")
    if low == high:
        # A single point gets a unit-wide range around it, as numpy does.
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    # Scaling before dividing keeps round edges exact (0.3, not 0.30000000000000004).
    edges = [low + (high - low) * i / bins for i in range(bins)] + [high]
    counts = [0] * bins
    outside = 0
    for value in data:
        if value < low or value > high:
            outside += 1
        else:
            counts[min(bisect.bisect_right(edges, value) - 1, bins - 1)] += 1
    return Histogram(
        bin_width=_clean(width),
        bins=[
            Bin(lower=_clean(edges[i]), upper=_clean(edges[i + 1]), count=counts[i])
            for i in range(bins)
        ],
        outside_range=outside,
    )
