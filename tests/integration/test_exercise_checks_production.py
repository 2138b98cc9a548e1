"""The checks of the production notebook's exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

import zlib

from esdemo.exercises import check_lock_key, check_safe_to_deliver


def right_safe(row, checkpoint, xmin):
    return row[0] < xmin and row > checkpoint


def test_the_safe_reader_condition_is_accepted():
    feedback = check_safe_to_deliver(right_safe)
    assert feedback.passed, feedback.message


def test_a_position_only_checkpoint_is_explained():
    feedback = check_safe_to_deliver(lambda row, checkpoint, xmin: row[0] < xmin and row[1] > checkpoint[1])
    assert not feedback.passed and ("positions alone" in feedback.message or "then position" in feedback.message)


def test_forgetting_the_high_water_mark_is_explained():
    feedback = check_safe_to_deliver(lambda row, checkpoint, xmin: row > checkpoint)
    assert not feedback.passed and "xmin" in feedback.message


def test_less_or_equal_xmin_and_non_bool_and_not_done():
    assert not check_safe_to_deliver(lambda row, checkpoint, xmin: row[0] <= xmin and row > checkpoint).passed
    assert "True or False" in check_safe_to_deliver(lambda row, checkpoint, xmin: 1).message
    assert not check_safe_to_deliver(...).passed


def test_a_stable_lock_key_is_accepted():
    feedback = check_lock_key(lambda name: zlib.crc32(name.encode()) & 0x7FFFFFFF)
    assert feedback.passed, feedback.message


def test_pythons_salted_hash_is_refused():
    feedback = check_lock_key(lambda name: hash(name) & 0x7FFFFFFF)
    assert not feedback.passed and "PYTHONHASHSEED" in feedback.message


def test_one_key_for_every_projection_and_too_big_keys_are_refused():
    assert "share" in check_lock_key(lambda name: 42).message
    assert "bigint" in check_lock_key(lambda name: zlib.crc32(name.encode()) << 40).message
    assert not check_lock_key(lambda name: str(name)).passed
    assert not check_lock_key(...).passed
