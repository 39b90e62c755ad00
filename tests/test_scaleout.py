"""Ingest with the per-item stages on Dask workers: the same stories as in-process, faults."""

from __future__ import annotations

import os
import signal

import pytest
from click.testing import CliRunner

from newsdesk import Desk
from newsdesk import ingest as sources
from newsdesk.cli import main
from newsdesk.data import demo_path
from newsdesk.evaluate import bcubed
from newsdesk.model import Item

distributed = pytest.importorskip("distributed", reason="the [cluster] extra (dask.distributed) is not installed")

BATCH = 12


def _items() -> list[Item]:
    return [r for r in sources.read(demo_path()) if isinstance(r, Item)]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_two_workers_give_the_stories_of_one_process_even_when_a_worker_dies(tmp_path):
    items = _items()
    with Desk(tmp_path / "one.db") as alone:
        alone.ingest(_items(), batch_size=BATCH)
        expected = alone.store.all_memberships()
        expected_entities = alone.store.entity_stats()["mentions"]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    client = distributed.Client(cluster)
    killed: list[int] = []
    try:
        pids = client.run(os.getpid)

        def kill_one_worker(n: int) -> None:
            # After the first batch is stored, a worker process dies with batches still out.
            if not killed:
                pid = min(pids.values())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        with Desk(tmp_path / "dask.db", settings={"cluster": cluster.scheduler_address,
                                                  "cluster_in_flight": 4}) as desk:
            report = desk.ingest(items, batch_size=BATCH, progress=kill_one_worker)
            got = desk.store.all_memberships()
            stats = desk.store.item_stats()
            mentions = desk.store.entity_stats()["mentions"]
    finally:
        client.close()
        cluster.close()
    assert killed
    assert report.new == len(items) and stats["items"] == len(items)
    assert stats["sightings"] == len(items)  # nothing stored twice
    assert mentions == expected_entities
    ids = sorted(expected)
    assert sorted(got) == ids
    assert bcubed([got[i] for i in ids], [expected[i] for i in ids])[2] == 1.0


def test_a_scheduler_that_is_down_is_one_line_and_exit_7(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(tmp_path / "d.db"), "ingest", "--no-progress",
                                  "--cluster", "tcp://127.0.0.1:9", str(demo_path())])
    assert result.exit_code == 7, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "scheduler not reachable" in lines[0]
    bad = runner.invoke(main, ["--db", str(tmp_path / "d.db"), "ingest", "--cluster", "local:x", str(demo_path())])
    assert bad.exit_code == 2 and "local:N" in bad.output
