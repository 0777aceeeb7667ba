"""Topic conventions every service shares: each topic's dead-letter topic, and what a topic is created with.
The topics themselves are the domain's (`civreg.topics`)."""

from dataclasses import dataclass

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """Dead letters of a topic go to `<topic>.dlq`, whichever consumer group gave up on them."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    # Registered acts are public facts partners rebuild state from: keep them forever.
    retention_ms: int = 7 * 24 * 3600 * 1000
