"""The exchange core without sockets: group commit, sessions, keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from lob.engine.commands import NewOrder
from lob.engine.replay import NEW_YORK
from lob.engine.types import Side, TimeInForce
from lob.server.auth import KEYS_FILE, AuthError, KeyStore, load_keys, parse_key_specs
from lob.server.exchange import Exchange
from lob.server.sequencer import Sequencer, SequencerClosed
from lob.store.journal import Journal
from tests.server.support import config_for


def _ns(year: int, month: int, day: int, hour: int) -> int:
    moment = dt.datetime(year, month, day, hour, tzinfo=NEW_YORK)
    return int(moment.timestamp()) * 1_000_000_000


def test_exchange_restart_same_session_keeps_day_orders_next_session_expires_them(
    tmp_path: Path,
) -> None:
    config = config_for(tmp_path)
    day1 = iter(range(_ns(2026, 3, 2, 10), _ns(2026, 3, 2, 11), 1000))
    ex = Exchange(config, clock=lambda: next(day1))
    ex.recover()
    ex.start()
    ex.sequencer.enqueue(NewOrder("a", "day", "AAPL", Side.BUY, 100, 2_270_000))
    ex.sequencer.enqueue(
        NewOrder("a", "gtc", "AAPL", Side.BUY, 100, 2_260_000, tif=TimeInForce.GTC)
    )
    ex.journal.close()

    same_day = iter(range(_ns(2026, 3, 2, 15), _ns(2026, 3, 2, 16), 1000))
    ex = Exchange(config, clock=lambda: next(same_day))
    ex.recover()
    ex.start()
    assert {o.id for o in ex.engine.open_orders("a")} == {"day", "gtc"}
    ex.journal.close()

    next_day = iter(range(_ns(2026, 3, 3, 9), _ns(2026, 3, 3, 10), 1000))
    ex = Exchange(config, clock=lambda: next(next_day))
    ex.recover()
    ex.start()
    assert {o.id for o in ex.engine.open_orders("a")} == {"gtc"}
    status = ex.accounts.order("a", "day")
    assert status is not None and (status.status, status.reason) == ("cancelled", "expired")
    ex.journal.close()


def test_sequencer_group_commit_acknowledges_after_fewer_fsyncs(tmp_path: Path) -> None:
    async def body() -> tuple[int, int, list[int]]:
        ex = Exchange(config_for(tmp_path, fsync="batch"))
        ex.recover()
        ex.start()
        commands = [NewOrder("a", str(i), "AAPL", Side.BUY, 1, 2_270_000) for i in range(200)]
        results = await asyncio.gather(*(ex.sequencer.submit(c) for c in commands))
        syncs = ex.sequencer.syncs
        await ex.close()
        return len(results), syncs, [r[0].seq for r in results]

    count, syncs, seqs = asyncio.run(body())
    assert count == 200 and 1 <= syncs < 200
    assert seqs == sorted(seqs)  # acknowledged in the order they were sequenced
    journal = Journal.open(tmp_path)
    assert len(journal.recovered) == 200
    journal.close()


def test_sequencer_always_mode_syncs_every_input(tmp_path: Path) -> None:
    async def body() -> int:
        ex = Exchange(config_for(tmp_path, fsync="always"))
        ex.recover()
        ex.start()
        commands = [NewOrder("a", str(i), "AAPL", Side.BUY, 1, 2_270_000) for i in range(20)]
        await asyncio.gather(*(ex.sequencer.submit(c) for c in commands))
        syncs = ex.sequencer.syncs
        await ex.close()
        return syncs

    assert asyncio.run(body()) == 20


def test_sequencer_refuses_input_after_close(tmp_path: Path) -> None:
    async def body() -> None:
        ex = Exchange(config_for(tmp_path, fsync="batch"))
        ex.recover()
        ex.start()
        await ex.close()
        with pytest.raises(SequencerClosed):
            ex.sequencer.enqueue(NewOrder("a", "x", "AAPL", Side.BUY, 1, 2_270_000))

    asyncio.run(body())


def test_sequencer_rejects_an_unknown_fsync_mode(tmp_path: Path) -> None:
    ex = Exchange(config_for(tmp_path))
    with pytest.raises(ValueError):
        Sequencer(ex.engine, ex.journal, "sometimes")
    ex.journal.close()


def test_keys_resolve_accounts_by_bearer_header_only_with_the_exact_key() -> None:
    store = KeyStore(parse_key_specs(["alice:secret-key-1", "bob:secret-key-2"]))
    assert store.account_for_header("Bearer secret-key-1") == "alice"
    assert store.account_for_header("bearer  secret-key-2 ") == "bob"
    for header in (None, "", "Bearer", "Basic secret-key-1", "Bearer secret-key-", "secret-key-1"):
        assert store.account_for_header(header) is None


@pytest.mark.parametrize("spec", ["nokey", "a:short", "bad account:long-enough-key", ":x" * 5])
def test_keys_bad_specs_are_refused_without_echoing_the_key(spec: str) -> None:
    with pytest.raises(AuthError) as err:
        parse_key_specs([spec])
    key = spec.partition(":")[2]
    assert not key or key not in str(err.value)


def test_keys_created_once_in_the_data_dir_private_and_reused(tmp_path: Path) -> None:
    store, created = load_keys([], None, tmp_path)
    assert created is not None and store.accounts == ["demo"]
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = json.loads(path.read_text())["keys"][0]["key"]
    again, created_again = load_keys([], None, tmp_path)
    assert created_again is None and again.account_for(key) == "demo"


def test_keys_from_options_and_environment_take_precedence(tmp_path: Path) -> None:
    store, created = load_keys(
        ["alice:alice-key-01"], "bob:bob-key-0001, carol:carol-key-1", tmp_path
    )
    assert created is None and store.accounts == ["alice", "bob", "carol"]
    assert not (tmp_path / KEYS_FILE).exists()
