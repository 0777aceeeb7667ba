"""The registry's use cases: commands and consumers on a unit of work (registry.app.unit_of_work)."""

# The CloudEvents source of every event the registry's own use cases append (the scheduler has its own).
SOURCE = "/registry"
