"""The library: `ToolLibrary` (the facade) over parts wired in `wiring.py`."""

from toolfoundry.library.facade import DescribeFormat, ToolLibrary

__all__ = ["DescribeFormat", "ToolLibrary"]
