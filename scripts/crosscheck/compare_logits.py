#!/usr/bin/env python3
"""Compares Strata's greedy run with llama.cpp's on one model (scripts/crosscheck_llamacpp.sh).

usage: compare_logits.py N_VOCAB REF_IDS OURS.bin REF.bin
REF_IDS: llama.cpp's generated ids, space separated; the .bin files: one row of N_VOCAB float32
per step. Prints one line: steps, where the greedy ids first differ (if they do), the largest
logit difference up to and including that step, the largest logit, and llama.cpp's top-2 gap at
the step that differs (a gap below the logit difference is a near tie, not an error).
"""
import array
import sys


def rows(path, n_vocab):
    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return [a[i * n_vocab:(i + 1) * n_vocab] for i in range(len(a) // n_vocab)]


def main():
    n_vocab = int(sys.argv[1])
    ref_ids = [int(x) for x in sys.argv[2].split()]
    ours, ref = rows(sys.argv[3], n_vocab), rows(sys.argv[4], n_vocab)
    n = min(len(ours), len(ref), len(ref_ids))
    if n == 0:
        print("no steps to compare")
        return 1
    our_ids = [max(range(n_vocab), key=row.__getitem__) for row in ours[:n]]
    first = next((i for i in range(n) if our_ids[i] != ref_ids[i]), None)
    upto = n if first is None else first + 1  # after a different token the contexts differ
    diff = max(max(abs(a - b) for a, b in zip(ref[i], ours[i])) for i in range(upto))
    top = max(max(abs(v) for v in ref[i]) for i in range(upto))
    verdict = "same ids" if first is None else f"ids differ from step {first}"
    line = f"{n} steps, {verdict}; largest logit difference {diff:.4f} (largest logit {top:.2f})"
    if first is not None:
        s = sorted(ref[first], reverse=True)
        gap = s[0] - s[1]
        line += f"; llama.cpp's top-2 gap there {gap:.4f}" + (" (a near tie)" if gap < diff else "")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
