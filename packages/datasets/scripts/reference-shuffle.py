#!/usr/bin/env python3
"""Reference values for test/shuffle.test.ts, written from the algorithm's description
(Mulberry32, then Fisher-Yates with rejection sampling) with Python integers.

Run: python3 scripts/reference-shuffle.py
"""

M = 0xFFFFFFFF


def mulberry32(seed):
    state = seed & M
    while True:
        state = (state + 0x6D2B79F5) & M
        t = ((state ^ (state >> 15)) * (state | 1)) & M
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & M)) & M) ^ t
        yield (t ^ (t >> 14)) & M


def permutation(n, seed):
    draws = mulberry32(seed)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        bound = i + 1
        limit = 2**32 - (2**32 % bound)
        while True:
            x = next(draws)
            if x < limit:
                break
        j = x % bound
        p[i], p[j] = p[j], p[i]
    return p


def first(gen, k):
    return [next(gen) for _ in range(k)]


if __name__ == "__main__":
    for seed in (0, 1, 42, 4294967295):
        print(f"mulberry32({seed}):", first(mulberry32(seed), 5))
    print("permutation(10, 0):", permutation(10, 0))
    print("permutation(10, 7):", permutation(10, 7))
    for seed in (0, 1):
        p = permutation(10000, seed)
        print(f"permutation(10000, {seed})[:8]:", p[:8], "[-4:]:", p[-4:])
