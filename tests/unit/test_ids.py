"""Object ids start with their creation time and end random; tokens and secrets are wholly random."""

import os
import re
import time

from kassa.domain import ids


def test_an_id_is_the_prefix_then_24_base62_characters():
    assert re.fullmatch(r"pi_[0-9A-Za-z]{24}", ids.new_id("pi"))
    assert re.fullmatch(r"cus_[0-9A-Za-z]{14}", ids.new_id("cus", 14))


def test_ids_made_later_sort_after_earlier_ones():
    earlier = [ids.new_id("evt") for _ in range(50)]
    time.sleep(0.002)
    later = [ids.new_id("evt") for _ in range(50)]
    assert max(earlier) < min(later)


def test_ids_of_one_millisecond_share_the_time_and_differ_in_the_rest():
    made = [ids.new_id("ch") for _ in range(1000)]
    assert len(set(made)) == 1000
    tails = {made_id[3 + ids.TIME_CHARS:] for made_id in made}
    assert len(tails) == 1000 and all(len(tail) == 24 - ids.TIME_CHARS for tail in tails)


def test_the_time_part_is_the_milliseconds_in_sorting_base62():
    before = time.time_ns() // 1_000_000
    head = ids.new_id("pi")[3:3 + ids.TIME_CHARS]
    after = time.time_ns() // 1_000_000
    value = 0
    for char in head:
        value = value * 62 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".index(char)
    assert before <= value <= after


def test_random_strings_use_all_62_characters_evenly_enough():
    text = "".join(ids.random_base62(40) for _ in range(2000))  # 80,000 characters
    counts = {char: text.count(char) for char in set(text)}
    assert len(counts) == 62
    assert min(counts.values()) > 0.8 * len(text) / 62 and max(counts.values()) < 1.2 * len(text) / 62


def test_a_forked_child_does_not_reuse_its_parents_random_characters():
    ids.random_base62(10)  # the pool holds characters not yet used
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, ids.random_base62(40).encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 40).decode()
    os.close(read)
    os.close(write)
    assert from_child != ids.random_base62(40)
