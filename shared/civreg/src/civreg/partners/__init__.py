"""Partner agencies: their contracts (contracts.yaml), the partner event types (catalogue) and the projection of
internal record events into each agency's events (projection). The publisher lives in the registry service;
credentials and ACLs in btdeploy (onboarding)."""

from civreg.partners.catalogue import TYPES as TYPES
from civreg.partners.catalogue import PartnerType as PartnerType
from civreg.partners.contracts import Contract as Contract
from civreg.partners.contracts import Grant as Grant
from civreg.partners.contracts import all_contracts as all_contracts
from civreg.partners.contracts import by_agency as by_agency
from civreg.partners.contracts import deciding_agencies as deciding_agencies
from civreg.partners.projection import PartnerEvent as PartnerEvent
from civreg.partners.projection import RecordRef as RecordRef
from civreg.partners.projection import data_schema as data_schema
from civreg.partners.projection import project as project
