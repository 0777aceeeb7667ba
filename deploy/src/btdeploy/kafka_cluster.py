"""Three KRaft nodes (each a combined broker and controller) on loopback, as one cluster with the security of the
single node (docs/adr/0023-kafka-principals-and-acls.md, docs/adr/0029-more-than-one-machine.md).

The nodes share a cluster id, a static quorum (`controller.quorum.voters`, formatted without `--standalone`) and
the administrator's secret; every topic has three replicas and `min.insync.replicas=2`, so one node can be killed
while producers (acks=all) and consumers go on. It offers what `Stack` and the fixtures use of a `KafkaServer`
(bootstrap, passwords, provision, launch/wait/stop), plus `nodes` to kill and restart one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from btdeploy.kafka import (
    ADMIN_SECRET_FILE,
    BrokerLogins,
    ClusterNode,
    KafkaServer,
    new_cluster_id,
    write_secret,
)
from btdeploy.ports import free_ports
from btdeploy.postgres import new_password

CLUSTER_ID_FILE = "cluster.id"


class KafkaCluster(BrokerLogins):
    """`size` nodes in `workdir/node<N>`; `ports` are (client port, controller port) per node, free ones if not
    given. A workdir formatted before is reused with its cluster id and secret."""

    def __init__(
        self,
        workdir: Path,
        ports: Iterable[tuple[int, int]] | None = None,
        *,
        size: int = 3,
        lib_dir: Path | None = None,
        heap: str = "384m",
    ) -> None:
        if size < 3:
            raise ValueError(
                "a cluster that outlives one node needs at least three (a majority of the voters)"
            )
        self.workdir = workdir
        self.secret_path = workdir / ADMIN_SECRET_FILE
        pairs = list(ports) if ports is not None else _free_pairs(size)
        if len(pairs) != size:
            raise ValueError(f"{size} nodes need {size} port pairs, got {len(pairs)}")
        self.replication = size
        cluster_id = self._cluster_id()
        voters = ",".join(f"{i}@127.0.0.1:{cport}" for i, (_port, cport) in enumerate(pairs, start=1))
        self.nodes = [
            KafkaServer(
                workdir / f"node{i}",
                port,
                cport,
                lib_dir=lib_dir,
                heap=heap,
                node=ClusterNode(i, cluster_id, voters, self.secret_path, size),
            )
            for i, (port, cport) in enumerate(pairs, start=1)
        ]

    @property
    def bootstrap(self) -> str:
        """Every node: a client finds the cluster through whichever answers."""
        return ",".join(node.bootstrap for node in self.nodes)

    # -- lifecycle --

    def start(self, timeout: float = 120.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """The shared secret first (each node formats with it), then every JVM without waiting."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.secret_path.exists():
            write_secret(self.secret_path, new_password())
        for node in self.nodes:
            node.launch()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Every node registered as a broker (a majority elects the controller; each broker then registers)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            node.wait_ready(max(5.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 20.0) -> None:
        # All at once: one after the other, the last nodes would wait for a quorum that has already gone.
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            for done in [pool.submit(node.stop, timeout) for node in self.nodes]:
                done.result()

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def _cluster_id(self) -> str:
        """The id every node is formatted with, kept beside them so a restart finds the same cluster."""
        path = self.workdir / CLUSTER_ID_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        self.workdir.mkdir(parents=True, exist_ok=True)
        cluster_id = new_cluster_id()
        path.write_text(cluster_id + "\n")
        return cluster_id


def _free_pairs(size: int) -> list[tuple[int, int]]:
    ports = free_ports(2 * size)
    return [(ports[2 * i], ports[2 * i + 1]) for i in range(size)]
