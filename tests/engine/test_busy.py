"""The places for attempts doing CPU work (contacts/engine/busy.py): who gets a place that
frees, and that a waiter that gives up never loses one."""

from __future__ import annotations

import asyncio

from contacts.engine.busy import BusyGate, BusyPlace


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0)


def test_a_freed_place_goes_to_an_attempt_coming_back_to_finish_before_those_waiting_to_start():
    async def scenario():
        gate = BusyGate(1)
        holder = BusyPlace(gate)
        await holder.take()
        places = {name: BusyPlace(gate) for name in ("start 1", "start 2", "finish")}
        order: list[str] = []

        async def wait(name: str) -> None:
            await places[name].take(finishing=name == "finish")
            order.append(name)

        tasks = []
        for count, name in enumerate(places, 1):  # in this order: the finisher queues last
            tasks.append(asyncio.create_task(wait(name)))
            await until(lambda: gate.waiting() == count)
        for count in range(1, 4):
            holder.give_back()
            await until(lambda: len(order) == count)
            holder = places[order[-1]]
        await asyncio.gather(*tasks)
        return order

    assert run(scenario()) == ["finish", "start 1", "start 2"]


def test_places_are_counted_and_a_place_is_given_back_once():
    async def scenario():
        gate = BusyGate(2)
        first, second, third = BusyPlace(gate), BusyPlace(gate), BusyPlace(gate)
        await first.take()
        await first.take()  # held already: takes nothing more
        assert not second.must_wait()
        await second.take()
        assert third.must_wait() and gate.free == 0
        first.give_back()
        first.give_back()  # given back already: gives nothing more
        assert gate.free == 1 and not third.must_wait()
        await third.take()
        second.give_back()
        third.give_back()
        return gate.free

    assert run(scenario()) == 2


async def two_queued_behind_a_holder():
    """A one-place gate, its place held, and two attempts queued for it (their tasks)."""
    gate = BusyGate(1)
    holder = BusyPlace(gate)
    await holder.take()
    first, second = BusyPlace(gate), BusyPlace(gate)
    tasks = (asyncio.create_task(first.take()), asyncio.create_task(second.take()))
    await until(lambda: gate.waiting() == 2)
    return gate, holder, (first, second), tasks


def test_a_waiter_that_gives_up_takes_no_place_with_it():
    async def scenario():
        gate, holder, (gone, after), (leaving, staying) = await two_queued_behind_a_holder()
        leaving.cancel()  # its deadline passed while it queued
        await asyncio.gather(leaving, return_exceptions=True)
        holder.give_back()
        await staying
        return gone.held, after.held, gate.free, gate.waiting()

    assert run(scenario()) == (False, True, 0, 0)


def test_a_place_handed_to_a_waiter_as_it_is_cancelled_goes_on_to_the_next():
    async def scenario():
        gate, holder, (unlucky, next_in_line), (first, second) = await two_queued_behind_a_holder()
        holder.give_back()  # the place is handed to the first waiter...
        first.cancel()  # ...which is cancelled before it could run on
        await asyncio.gather(first, return_exceptions=True)
        await second
        return unlucky.held, next_in_line.held, gate.free

    assert run(scenario()) == (False, True, 0)
