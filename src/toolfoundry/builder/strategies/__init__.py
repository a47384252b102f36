"""How a build turns a requirement into server code: `base` (the protocol and what a strategy
returns), `selection` (which one a build uses), `wrap/` (no model: wrap a package's functions)
and `codereact/` (the LLM generate → check → repair loop)."""
