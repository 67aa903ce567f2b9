#!/usr/bin/env python3
"""A straightforward vectorised NumPy implementation of SPEC sections 2, 3.1, 3.2 and 4.2:
the Markov oracle, the d2f and threshold anchor decoders, and LoPA with k lookahead
branches (default score knobs, spawn_completion = "ends"). It is the yardstick the
benchmark compares `lopa-sim run` against (benches/reference/compare.sh), not part of CI.

Each branch's prediction is one batch of NumPy operations over its masked positions
(nearest revealed neighbours by running max/min, powers gathered by fancy indexing); the
round, block and branch bookkeeping is plain Python, as a researcher would write it.

Usage: markov_ref.py CONFIG.json  -> prints one line per (k, seq): k,seq,rounds,tokens
"""
import json
import sys
import time

import numpy as np

MASK = -1


def powers(t, n):
    """P[d] = T^d for d = 0..n, computed as T^(d-1) @ T."""
    v = t.shape[0]
    p = np.empty((n + 1, v, v))
    p[0] = np.eye(v)
    for d in range(1, n + 1):
        p[d] = p[d - 1] @ t
    return p


class Branch:
    __slots__ = ("tok", "n", "blocks", "eos")

    def __init__(self, tok, n, blocks, eos):
        self.tok, self.n, self.blocks, self.eos = tok, n, blocks, eos

    def copy(self):
        return Branch(self.tok.copy(), self.n, [b[:] for b in self.blocks], self.eos)


def predict(br, pw, prompt_len, bsz, causal, kind):
    """prob, token, conf over every existing position (NaN where not masked)."""
    n = br.n
    tok = br.tok[:n]
    idx = np.arange(n)
    rev = tok != MASK
    left = np.maximum.accumulate(np.where(rev, idx, -1))
    right = np.minimum.accumulate(np.where(rev, idx, n)[::-1])[::-1]
    m = np.flatnonzero(~rev)
    prob = np.full(n, np.nan)
    token = np.zeros(n, dtype=np.int64)
    conf = np.full(n, np.nan)
    if m.size == 0:
        return prob, token, conf
    l = left[m]
    r = right[m]
    if causal:
        end = prompt_len + ((m - prompt_len) // bsz + 1) * bsz
    else:
        end = np.full(m.size, n)
    has_r = r < end
    lrow = pw[m - l, tok[l], :]
    rr = np.where(has_r, r, m + 1)
    xr = np.where(has_r, tok[np.minimum(rr, n - 1)], 0)
    rcol = pw[rr - m, :, xr]
    q = lrow * np.where(has_r[:, None], rcol, 1.0)
    s = q.sum(axis=1)
    bad = s <= 0
    q[bad] = lrow[bad]
    q /= q.sum(axis=1, keepdims=True)
    best = q.argmax(axis=1)
    top = q[np.arange(m.size), best]
    if kind == "prob":
        c = top
    elif kind == "neg_entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(q > 0, q * np.log(q), 0.0).sum(axis=1)
    else:
        q2 = q.copy()
        q2[np.arange(m.size), best] = -1.0
        c = top - np.maximum(q2.max(axis=1), 0.0)
    prob[m], token[m], conf[m] = top, best, c
    return prob, token, conf


def masked_in(br, a, b):
    seg = br.tok[a:b]
    return a + np.flatnonzero(seg == MASK)


class D2f:
    def __init__(self, c):
        self.b, self.blocks = c["block_size"], c["gen_length"] // c["block_size"]
        self.add, self.act, self.fill_t = c["add_threshold"], c["activate_threshold"], c["fill_threshold"]

    def initial(self, prompt, total):
        tok = np.full(total, MASK, dtype=np.int64)
        tok[: len(prompt)] = prompt
        return Branch(tok, len(prompt), [], False)

    def ratio(self, blk):
        return (self.b - blk[1]) / self.b

    def begin(self, br):
        last = 1.0 if not br.blocks else self.ratio(br.blocks[-1])
        added = len(br.blocks) < self.blocks and not br.eos and last >= self.add
        if added:
            br.blocks.append([br.n, self.b, False])
            br.n += self.b
        if br.blocks:
            br.blocks[0][2] |= 1.0 >= self.act
        for i in range(1, len(br.blocks)):
            if self.ratio(br.blocks[i - 1]) >= self.act:
                br.blocks[i][2] = True
        return (not added) and all(b[1] == 0 for b in br.blocks)

    def window(self, br, p):
        return masked_in(br, p, br.n)

    def fill(self, br, prob, conf):
        out = []
        for start, masked, full in br.blocks:
            if masked == 0:
                continue
            ms = masked_in(br, start, start + self.b)
            s = ms[prob[ms] > self.fill_t]
            if s.size == 0 and full:
                s = ms[[int(np.argmax(conf[ms]))]]
            out.extend(s.tolist())
        return out


class Threshold:
    def __init__(self, c):
        self.b, self.blocks, self.tau = c["block_size"], c["gen_length"] // c["block_size"], c["fill_threshold"]

    def initial(self, prompt, total):
        tok = np.full(total, MASK, dtype=np.int64)
        tok[: len(prompt)] = prompt
        p = len(prompt)
        return Branch(tok, p + self.blocks * self.b, [[p + i * self.b, self.b, True] for i in range(self.blocks)], False)

    def begin(self, br):
        return all(b[1] == 0 for b in br.blocks)

    def current(self, br):
        for blk in br.blocks:
            if blk[1] > 0:
                return blk
        return None

    def window(self, br, p):
        blk = self.current(br)
        if blk is None:
            return np.zeros(0, dtype=np.int64)
        return masked_in(br, blk[0], blk[0] + self.b)

    def fill(self, br, prob, conf):
        ms = self.window(br, 0)
        s = set(ms[prob[ms] >= self.tau].tolist())
        s.add(int(ms[int(np.argmax(conf[ms]))]))
        return sorted(s)


def commit(br, pos, token, prompt_len, bsz, eos):
    br.tok[pos] = token
    br.blocks[(pos - prompt_len) // bsz][1] -= 1
    if token == eos:
        br.eos = True


def decode(prompt, c, k, pw, dec):
    p, bsz, causal, kind, eos = len(prompt), c["block_size"], c["attention"] == "block_causal", c["confidence"], c["eos_token"]
    live = [dec.initial(prompt, p + c["gen_length"])]
    rounds = 0
    while True:
        for br in live:
            if dec.begin(br):
                return rounds, br.n - p
        rounds += 1
        preds, scores = [], []
        for br in live:
            prob, token, conf = predict(br, pw, p, bsz, causal, kind)
            w = dec.window(br, p)
            scores.append(1.0 if w.size == 0 else conf[w].sum() / w.size)
            preds.append((prob, token, conf))
        best = max(scores)
        win = next(i for i, s in enumerate(scores) if s >= best - 1e-9)
        br = live[win]
        prob, token, conf = preds[win]
        for i in dec.fill(br, prob, conf):
            commit(br, i, token[i], p, bsz, eos)
        w = dec.window(br, p)
        order = sorted(w.tolist(), key=lambda i: (-conf[i], i))[:k]
        nxt = []
        for i in order:
            b2 = br.copy()
            commit(b2, i, token[i], p, bsz, eos)
            nxt.append(b2)
        nxt.append(br)
        live = nxt


def main():
    c = json.load(open(sys.argv[1]))
    t = np.loadtxt(c["transitions"], delimiter=",", ndmin=2)
    t0 = time.perf_counter()
    pw = powers(t, c["gen_length"] + max(len(x) for x in c["prompts"]) + 1)
    dec = D2f(c) if c["decoder"] == "d2f" else Threshold(c)
    n = 0
    for k in c["branches"]:
        for s in range(c["sequences"]):
            prompt = np.array(c["prompts"][s % len(c["prompts"])], dtype=np.int64)
            r, toks = decode(prompt, c, k, pw, dec)
            print(f"{k},{s},{r},{toks}")
            n += 1
    el = time.perf_counter() - t0
    print(f"# {n} decodes in {el:.3f} s: {n / el:.2f} sequences/s", file=sys.stderr)


if __name__ == "__main__":
    main()
