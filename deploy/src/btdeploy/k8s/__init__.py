"""The production deployment on Kubernetes, as data (docs/deployment.md): the five services' workloads and the
Strimzi topics and users are generated from the same tables `make run` uses (`btdeploy.stack.SERVICES`,
`civreg.topics.ALL_TOPICS`, `btdeploy.kafka_access`), so the two cannot drift; `python -m btdeploy k8s` writes them
to deploy/k8s/generated/, and a test refuses a committed file that differs. The Kafka cluster, the PostgreSQL
cluster, the Ingress and the namespace-wide policies are written by hand in deploy/k8s/."""

# Every object lives in one namespace, next to the Kafka and PostgreSQL clusters the operators run for it.
NAMESPACE = "bir-tereze"
# The Strimzi `Kafka` resource's name; its bootstrap Service is `<name>-kafka-bootstrap`.
KAFKA_CLUSTER = "bt-kafka"
# The CloudNativePG `Cluster`'s name; its primary's Service is `<name>-rw`, its CA the Secret `<name>-ca`.
POSTGRES_CLUSTER = "bt-postgres"
PART_OF = "bir-tereze"
