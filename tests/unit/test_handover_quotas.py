"""How a handover splits customers between receivers (pure)."""

from __future__ import annotations

from app.handover.assign import quotas, split


def test_split_by_weight_sums_to_n_and_favours_earlier_on_ties() -> None:
    assert split(7, [1, 1, 1]) == [3, 2, 2]
    assert split(8, [3, 1]) == [6, 2]
    assert split(0, [1, 2]) == [0, 0]
    assert sum(split(10_000, [5, 3, 2])) == 10_000


def test_round_robin_is_equal_quotas() -> None:
    assert quotas(6, [1, 1]) == [3, 3]
    assert quotas(5, []) == []


def test_capacity_fills_room_first_then_overflows_by_weight() -> None:
    assert quotas(6, [1, 1], rooms=[1, 4]) == [2, 4]  # the sixth fits nowhere: first receiver exceeds
    assert quotas(5, [1, 1], rooms=[1, 10]) == [1, 4]
    assert quotas(4, [1, 1], rooms=[0, 0]) == [2, 2]
    assert quotas(10_000, [1, 1, 1], rooms=[100, 5_000, 10_000]) == [100, 4_950, 4_950]
