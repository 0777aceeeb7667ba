"""The fee service's domain: the duty in MRP turned into tiyn, the dated MRP table, fee decisions and who may read
them. Pure code — no database, no HTTP, no Kafka, no clock."""
