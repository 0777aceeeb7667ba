"""The Kafka topics of the platform: one per entity, each with its dead-letter topic."""

from dataclasses import dataclass

APPLICATION = "civreg.application"
CASE = "civreg.case"
RECORD = "civreg.record"
FEE = "civreg.fee"
NOTIFICATION = "civreg.notification"

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


ENTITY_TOPICS = (APPLICATION, CASE, RECORD, FEE, NOTIFICATION)

ALL_TOPICS: tuple[TopicSpec, ...] = tuple(
    [
        TopicSpec(t, partitions=6, retention_ms=-1 if t == RECORD else 7 * 24 * 3600 * 1000)
        for t in ENTITY_TOPICS
    ]
    + [TopicSpec(dead_letter_topic(t), partitions=1, retention_ms=-1) for t in ENTITY_TOPICS]
)
