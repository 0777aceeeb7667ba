"""Pilots running at some sites (reference data, `pilots:` of a service centre in sites.yaml), and the terms they
promise. One definition, read by intake (the date on the receipt) and by the registry (the pilot's deadline).

S000 (news of 5 July 2017): at Department No. 1 of the Yesil district of the Astana public service centre, birth
and death registration take 3 working hours instead of 2 days — counted in the centre's working time.
"""

from __future__ import annotations

from civreg.catalogue import TermRule
from civreg.sites import ServiceCentre

ACCELERATED_BIRTH_DEATH = "accelerated_birth_death"
ACCELERATED_SERVICES = frozenset({"birth_registration", "death_registration"})
ACCELERATED_TERM = TermRule(
    when=ACCELERATED_BIRTH_DEATH,
    value=3,
    unit="working_hours",
    source="S000 (Astana pilot, 5 July 2017): 3 working hours instead of 2 days",
)


def accelerated(centre: ServiceCentre | None, service_id: str, variant: str | None = None) -> bool:
    """Whether the pilot's 3 working hours apply: birth or death registration accepted at a pilot centre.
    An amendment of such a record is not a registration and keeps its own term."""
    return (
        centre is not None
        and ACCELERATED_BIRTH_DEATH in centre.pilots
        and service_id in ACCELERATED_SERVICES
        and variant != "amendment"
    )
