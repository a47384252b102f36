"""What the discovery index knows about a tool, and the text it indexes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from toolfoundry.discovery.tokenize import split_identifier

__all__ = ["ToolDocument"]


class ToolDocument(BaseModel):
    """One tool as seen by retrieval: identity, texts, place in the hierarchy and usage prior."""

    id: str
    name: str
    description: str = ""
    toolkit: str | None = None
    parameters: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(
        default_factory=list, description="Requests the tool serves, given by its author."
    )
    generated_examples: list[str] = Field(
        default_factory=list,
        description="Requests the tool serves, written by a model at registration.",
    )
    effectiveness: float = Field(default=0.0, ge=0.0, le=1.0)
    served_requests: list[str] = Field(
        default_factory=list,
        description="Requests of successful agent runs that used the tool: users' own words "
        "for what it does, learned from trajectories.",
    )

    def parameter_texts(self) -> list[str]:
        """``name: description`` for each top-level parameter of the JSON schema."""
        props = (self.parameters or {}).get("properties") or {}
        if not isinstance(props, dict):
            return []
        texts = []
        for pname, spec in props.items():
            desc = spec.get("description", "") if isinstance(spec, dict) else ""
            texts.append(f"{split_identifier(pname)}: {desc}".rstrip(": "))
        return texts

    def name_text(self) -> str:
        """The tool name with its identifier parts split into words."""
        return split_identifier(self.name)

    def lexical_text(self, *, learned: bool = True) -> str:
        """Everything a keyword may hit: toolkit, split name, description, tags, parameters and
        (with `learned`) the requests the tool served."""
        parts = [self.toolkit or "", self.name_text(), self.description, " ".join(self.tags)]
        parts.extend(self.parameter_texts())
        parts.extend(self.example_texts())
        if learned:
            parts.extend(self.served_requests)
        return "\n".join(p for p in parts if p)

    def example_texts(self) -> list[str]:
        """Requests the tool serves: its author's, then a model's."""
        return [*self.examples, *self.generated_examples]

    def embedding_text(self) -> str:
        """Name and description only: sentence encoders dilute meaning over long schema dumps,
        and the toolkit reaches the score through the toolkit signal (measured: adding it here
        cost 1-2 points of Recall@5)."""
        return f"{self.name_text()}: {self.description}".strip().rstrip(":")
