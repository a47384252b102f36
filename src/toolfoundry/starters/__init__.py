"""Starter toolkits preloaded into a new catalog: tabular data, text, statistics, dates and
conversions. Listing them imports none of their modules."""

from dataclasses import dataclass

__all__ = ["STARTER_TOOLKITS", "StarterToolkit"]


@dataclass(frozen=True)
class StarterToolkit:
    """A toolkit shipped with toolfoundry; `module` is the dotted path of its tool functions."""

    name: str
    description: str
    category: str
    module: str


STARTER_TOOLKITS: dict[str, StarterToolkit] = {
    toolkit.name: toolkit
    for toolkit in (
        StarterToolkit(
            name="tabular",
            description="Read CSV, JSON, JSON Lines and Excel files into rows; describe, "
            "summarise, filter, select, sort and group-by aggregate tables.",
            category="data",
            module="toolfoundry.starters.tabular",
        ),
        StarterToolkit(
            name="text",
            description="Count words and sentences, extract keywords, regex find and replace, "
            "slugify, truncate and wrap, compare texts, extract emails, URLs and numbers.",
            category="text",
            module="toolfoundry.starters.text",
        ),
        StarterToolkit(
            name="stats",
            description="Descriptive statistics, percentiles, Pearson and Spearman correlation, "
            "linear regression, z-score outliers and histograms over lists of numbers.",
            category="analysis",
            module="toolfoundry.starters.stats",
        ),
        StarterToolkit(
            name="datetime",
            description="Current time in any time zone, parse dates to ISO 8601, convert time "
            "zones, date differences, add durations, weekday and ISO week, business days.",
            category="time",
            module="toolfoundry.starters.datetime_tools",
        ),
        StarterToolkit(
            name="convert",
            description="Convert CSV to and from JSON, JSON to and from YAML, units of length, "
            "mass, temperature and data size, number bases, and rows to Markdown tables.",
            category="conversion",
            module="toolfoundry.starters.convert",
        ),
    )
}
