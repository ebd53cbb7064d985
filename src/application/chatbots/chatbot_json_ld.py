"""GetChatbotJsonLd: the schema.org ``WebApplication`` document of a public chatbot."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from application.chatbots.discovery_ports import ChatbotDiscovery
from application.errors import NotFound

_SUBCATEGORY = {
    "CREATOR": "Creator Q&A",
    "FRAMEWORK": "Framework Coaching",
    "DEEP_DIVE": "Book Deep Dive",
    "ADVISOR_BOARD": "Advisory Board",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChatbotJsonLdQuery:
    chatbot_id: str
    base_url: str  # the public web address, e.g. https://canon.example


class GetChatbotJsonLd:
    """JSON-LD for search engines, filled only from real data.

    - Only public, active chatbots have one (others: 404, as for a missing one). It is public
      like the listing (crawlers carry no credentials), so it needs no principal.
    - Follows the default SEO schema (WebApplication, publisher, versions, dates) with the
      chatbot's own title, description, creators and version.
    - ``aggregateRating`` and ``review`` come from real ratings and are left out entirely when
      there are none: never placeholders, never invented numbers.
    """

    def __init__(self, discovery: ChatbotDiscovery) -> None:
        self._discovery = discovery

    async def __call__(self, query: GetChatbotJsonLdQuery) -> dict[str, Any]:
        facts = await self._discovery.public_facts(query.chatbot_id)
        if facts is None:
            raise NotFound("this chatbot is not public", extra={"resource": "chatbot"})
        summary = await self._discovery.rating_summary(query.chatbot_id)
        base = query.base_url.rstrip("/")
        url = f"{base}/chatbots/{facts.slug}"
        doc: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "WebApplication",
            "name": facts.title,
            "url": url,
            "installUrl": url,
            "publisher": {"@type": "Organization", "name": "Canon", "url": base},
            "author": [{"@type": "Person", "name": name} for name in facts.creator_names],
            "datePublished": facts.published_at.date().isoformat(),
            "dateModified": facts.modified_at.date().isoformat(),
            "operatingSystem": "Any",
            "softwareVersion": str(facts.version_number),
            "applicationCategory": "BusinessApplication",
            "browserRequirements": "Requires a modern web browser with JavaScript enabled",
        }
        subcategory = _SUBCATEGORY.get(facts.chatbot_type)
        if subcategory:
            doc["applicationSubCategory"] = subcategory
        if facts.description:
            doc["description"] = facts.description
        if summary.count:
            average = (Decimal(summary.total) / summary.count).quantize(Decimal("0.01"), ROUND_HALF_UP)
            doc["aggregateRating"] = {
                "@type": "AggregateRating",
                "ratingCount": summary.count,
                "ratingValue": str(average),
                "bestRating": 5,
                "worstRating": 1,
            }
        if summary.recent:
            doc["review"] = [
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": r.author_name},
                    "reviewBody": r.body,
                    "reviewRating": {"@type": "Rating", "ratingValue": r.rating},
                    "datePublished": r.published_at.date().isoformat(),
                }
                for r in summary.recent
            ]
        return doc
