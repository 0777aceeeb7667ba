"""The Kafka topics of civil registration: one per entity, each with its dead-letter topic (the naming rule and
the topic spec are the kernel's, `btkernel.topics`)."""

from btkernel.topics import DLQ_SUFFIX as DLQ_SUFFIX
from btkernel.topics import TopicSpec as TopicSpec
from btkernel.topics import dead_letter_topic as dead_letter_topic

APPLICATION = "civreg.application"
CASE = "civreg.case"
RECORD = "civreg.record"
FEE = "civreg.fee"
NOTIFICATION = "civreg.notification"
# Complaints on a state service (S004 p.11-12): the registry keeps them, intake and notification follow them.
COMPLAINT = "civreg.complaint"

ENTITY_TOPICS = (APPLICATION, CASE, RECORD, FEE, NOTIFICATION, COMPLAINT)

ALL_TOPICS: tuple[TopicSpec, ...] = tuple(
    [
        TopicSpec(t, partitions=6, retention_ms=-1 if t == RECORD else 7 * 24 * 3600 * 1000)
        for t in ENTITY_TOPICS
    ]
    + [TopicSpec(dead_letter_topic(t), partitions=1, retention_ms=-1) for t in ENTITY_TOPICS]
)
