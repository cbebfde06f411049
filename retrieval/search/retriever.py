"""The hybrid searcher as a LangChain retriever, any LangChain retriever as a PassageSearch,
and Documents back to Passages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Protocol

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, SkipValidation

from ingest.model.records import SearchFilter, calendar_epoch
from retrieval.records import Passage
from retrieval.search.hybrid import Searcher


class PassageSearch(Protocol):
    """What the answer engine searches with: `search` gives up to `k` passages best first
    within `where`; `context` the other chunks of the first `articles` articles of
    `passages` (the answerer reads them too)."""

    def search(self, query: str, k: int, where: SearchFilter | None) -> list[Passage]: ...

    def context(self, passages: list[Passage], articles: int) -> list[Passage]: ...


class NewsdeskRetriever(BaseRetriever):
    """Hybrid dense + BM25 retrieval over the Newsdesk store."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # A Protocol cannot be checked with isinstance: the type is for mypy and readers.
    searcher: Annotated[Searcher, SkipValidation]
    k: int  # the [retrieval] k setting
    where: SearchFilter = SearchFilter()

    def search(self, query: str, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]:
        return self.searcher.search(query, k or self.k,
                                    where if where is not None else self.where)

    def context(self, passages: list[Passage], articles: int) -> list[Passage]:
        return list(self.searcher.context(passages, articles)) if articles > 0 else []

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(p) for p in self.search(query)]


def to_document(passage: Passage) -> Document:
    metadata = passage.as_dict()
    text = metadata.pop("text")
    return Document(page_content=text, metadata=metadata, id=passage.chunk_id)


def to_passages(documents: Sequence[Document]) -> list[Passage]:
    """Passages from any retriever's Documents; missing metadata gets sensible defaults."""
    passages: list[Passage] = []
    for rank, doc in enumerate(documents):
        meta = doc.metadata or {}
        chunk_id = str(meta.get("chunk_id") or doc.id or f"doc-{rank}")
        published = meta.get("published")
        passages.append(Passage(
            chunk_id=chunk_id,
            article_id=str(meta.get("article_id") or meta.get("source") or chunk_id),
            title=str(meta.get("title") or ""),
            text=doc.page_content,
            score=float(meta.get("score", 1.0 / (rank + 1))),
            url=meta.get("url"),
            source=meta.get("source"),
            published=datetime.fromisoformat(published) if isinstance(published, str) else None,
        ))
    return passages


def filtered(passages: Sequence[Passage], where: SearchFilter | None) -> list[Passage]:
    """The passages `where` accepts: filters for retrievers that cannot apply them."""
    if where is None or where.empty:
        return list(passages)
    return [p for p in passages
            if where.accepts(p.source, calendar_epoch(p.published))]


class LangChainSearch:
    """Any other LangChain retriever as a PassageSearch. It knows nothing of our filters:
    they are applied to what it returns (so a filtered question may get fewer than k
    passages), never dropped; it has no context chunks."""

    def __init__(self, retriever: BaseRetriever) -> None:
        self.retriever = retriever

    def search(self, query: str, k: int, where: SearchFilter | None) -> list[Passage]:
        return filtered(to_passages(self.retriever.invoke(query)), where)[:k]

    def context(self, passages: list[Passage], articles: int) -> list[Passage]:
        return []


def passage_search(retriever: BaseRetriever) -> PassageSearch:
    """Ours as it is (it applies filters and reads context); any other behind LangChainSearch."""
    return retriever if isinstance(retriever, NewsdeskRetriever) else LangChainSearch(retriever)
