"""Reed-Solomon coding over GF(2^8), batched over codewords with NumPy.

Codewords are byte-for-byte those of ``reedsolo.RSCodec(nsym)``: primitive polynomial
0x11d, generator 2, first consecutive root 0, systematic (data bytes first, then ``nsym``
parity bytes), length :data:`RS_N` = 255. Shortened codewords are handled by the caller
as full codewords with a known zero prefix.

* :func:`rs_encode` -- ``(C, 255 - nsym)`` uint8 data -> ``(C, 255)`` codewords.
* :func:`rs_decode` -- errors-and-erasures decoding (Berlekamp-Massey, Chien search,
  Forney); a codeword is accepted only when all its syndromes are zero after correction.
  Each erasure costs one parity byte, each unknown error two.
* :func:`erasure_schedule` -- how many least-reliable bytes to erase on retries.
* :func:`body_layout`, :func:`encode_blocks`, :func:`decode_blocks` -- a frame's bytes in
  shortened, interleaved codewords (what :mod:`stegnet.payload.container` writes).

Pure-Python ``reedsolo`` takes ~13 ms per noisy codeword; this is batched and vectorised.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RS_N = 255  # codeword length in bytes


_PRIM = 0x11D


def _build_gf_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (exp[510], log[256], flat multiplication table[65536], inverse[256])."""
    exp = np.zeros(510, dtype=np.uint8)
    log = np.zeros(256, dtype=np.int64)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= _PRIM
    exp[255:] = exp[:255]
    mul = exp[(log[:, None] + log[None, :]) % 255]
    mul[0, :] = 0
    mul[:, 0] = 0
    inv = np.zeros(256, dtype=np.uint8)
    inv[1:] = exp[(255 - log[1:]) % 255]
    return exp, log, np.ascontiguousarray(mul.reshape(-1)), inv


_EXP, _LOG, _MUL, _INV = _build_gf_tables()


def _gmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise (broadcasting) product in GF(2^8) of uint8 arrays."""
    return _MUL[(a.astype(np.intp) << 8) | b]


def _alpha_pow(e: np.ndarray | int) -> np.ndarray:
    """alpha ** e for integer exponent(s) (any sign)."""
    return _EXP[np.mod(e, 255)]


@lru_cache(maxsize=16)
def _generator_poly(nsym: int) -> np.ndarray:
    """prod_{i<nsym} (x - alpha^i), coefficients highest degree first (monic)."""
    g = np.array([1], dtype=np.uint8)
    for i in range(nsym):
        root = _alpha_pow(i)
        nxt = np.zeros(len(g) + 1, dtype=np.uint8)
        nxt[:-1] = g
        nxt[1:] ^= _gmul(g, root)
        g = nxt
    return g


@lru_cache(maxsize=16)
def _chien_powers(nsym: int) -> np.ndarray:
    """table[i, j] = x_j ** i with x_j = alpha^-(254 - j), the inverse locator of byte j."""
    i = np.arange(nsym + 1)[:, None]
    j = np.arange(RS_N)[None, :]
    return _alpha_pow(i * (j + 1))


def rs_encode(msgs: np.ndarray, nsym: int) -> np.ndarray:
    """Systematic RS encoding of (C, 255 - nsym) uint8 messages -> (C, 255) codewords."""
    gen_tail = _generator_poly(nsym)[1:][None, :]
    rem = np.zeros((msgs.shape[0], nsym), dtype=np.uint8)
    for j in range(msgs.shape[1]):
        feedback = msgs[:, j] ^ rem[:, 0]
        rem[:, :-1] = rem[:, 1:]
        rem[:, -1] = 0
        rem ^= _gmul(feedback[:, None], gen_tail)
    return np.concatenate([msgs, rem], axis=1)


def _rs_syndromes(cws: np.ndarray, nsym: int) -> np.ndarray:
    """(C, 255) codewords -> (C, nsym) syndromes S_i = c(alpha^i) (Horner over bytes)."""
    alphas = _alpha_pow(np.arange(nsym))[None, :]
    synd = np.zeros((cws.shape[0], nsym), dtype=np.uint8)
    for j in range(cws.shape[1]):
        synd = _gmul(synd, alphas) ^ cws[:, j : j + 1]
    return synd


def _poly_mul_trunc(a: np.ndarray, b: np.ndarray, length: int) -> np.ndarray:
    """Row-wise product of ascending-coefficient polynomials, truncated to `length` terms."""
    out = np.zeros((a.shape[0], length), dtype=np.uint8)
    for i in range(min(a.shape[1], length)):
        coef = a[:, i : i + 1]
        if not coef.any():
            continue
        width = min(b.shape[1], length - i)
        out[:, i : i + width] ^= _gmul(coef, b[:, :width])
    return out


def rs_decode(
    cws: np.ndarray, nsym: int, erase_pos: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Errors-and-erasures decoding of a batch of codewords.

    Args:
        cws: (C, 255) uint8 received codewords.
        nsym: parity bytes per codeword.
        erase_pos: optional (C, E) byte indices to treat as erasures, -1 for "none".

    Returns:
        (corrected codewords, ok) where ok[c] is True only if codeword c now has all
        syndromes zero and the correction was within the code's guaranteed radius
        (2 * errors + erasures <= nsym).  Rows with ok False are returned unchanged.
    """
    cws = np.asarray(cws, dtype=np.uint8)
    n_cw = cws.shape[0]
    out = cws.copy()
    ok = np.zeros(n_cw, dtype=bool)
    if n_cw == 0:
        return out, ok
    synd = _rs_syndromes(cws, nsym)
    dirty = synd.any(axis=1)
    ok[~dirty] = True
    if erase_pos is not None:
        erase_pos = np.asarray(erase_pos, dtype=np.int64).reshape(n_cw, -1)
    if not dirty.any():
        return out, ok
    rows = np.flatnonzero(dirty)
    s = synd[rows]
    c = len(rows)
    plen = nsym + 1

    # Erasure locator Gamma(x) = prod (1 - X_k x), X_k = alpha^(254 - pos_k); ascending.
    gamma = np.zeros((c, plen), dtype=np.uint8)
    gamma[:, 0] = 1
    rho = np.zeros(c, dtype=np.int64)
    if erase_pos is not None and erase_pos.shape[1]:
        ep = erase_pos[rows]
        for slot in range(ep.shape[1]):
            pos = ep[:, slot]
            valid = (pos >= 0) & (pos < RS_N) & (rho < nsym)
            if not valid.any():
                continue
            x_k = _alpha_pow(RS_N - 1 - np.where(valid, pos, 0))[:, None]
            shifted = np.zeros_like(gamma)
            shifted[:, 1:] = _gmul(gamma[:, :-1], x_k)
            gamma = np.where(valid[:, None], gamma ^ shifted, gamma)
            rho += valid
    # Forney syndromes: T_j = (Gamma * S)_{j + rho}, j < nsym - rho.
    xi = _poly_mul_trunc(gamma, s, nsym)
    idx = np.arange(nsym)[None, :] + rho[:, None]
    t_len = nsym - rho
    t = np.where(idx < nsym, np.take_along_axis(xi, np.minimum(idx, nsym - 1), axis=1), 0)
    t = t.astype(np.uint8)

    # Berlekamp-Massey on T (errors only), batched; rows freeze once r >= len(T).
    sigma = np.zeros((c, plen), dtype=np.uint8)
    sigma[:, 0] = 1
    b = sigma.copy()
    big_l = np.zeros(c, dtype=np.int64)
    for r in range(int(t_len.max())):
        active = r < t_len
        k = min(r + 1, plen)
        delta = np.bitwise_xor.reduce(_gmul(sigma[:, :k], t[:, r::-1][:, :k]), axis=1)
        xb = np.zeros_like(b)
        xb[:, 1:] = b[:, :-1]
        nz = active & (delta != 0)
        grow = nz & (2 * big_l <= r)
        new_sigma = sigma ^ _gmul(delta[:, None], xb)
        b = np.where(grow[:, None], _gmul(sigma, _INV[delta][:, None]), xb)
        sigma = np.where(nz[:, None], new_sigma, sigma)
        big_l = np.where(grow, r + 1 - big_l, big_l)

    # Errata locator Psi = sigma * Gamma, evaluator Omega = S * Psi mod x^nsym.
    psi = _poly_mul_trunc(sigma, gamma, plen)
    nonzero = psi != 0
    deg = plen - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    feasible = (2 * big_l + rho <= nsym) & (deg == big_l + rho)
    omega = _poly_mul_trunc(s, psi, nsym)

    # Chien search + Forney over all 255 byte positions.
    powers = _chien_powers(nsym)
    psi_val = np.zeros((c, RS_N), dtype=np.uint8)
    dpsi_val = np.zeros((c, RS_N), dtype=np.uint8)
    om_val = np.zeros((c, RS_N), dtype=np.uint8)
    for i in range(int(deg.max()) + 1):
        term = psi[:, i : i + 1]
        if term.any():
            psi_val ^= _gmul(term, powers[i][None, :])
            if i % 2 == 1:
                dpsi_val ^= _gmul(term, powers[i - 1][None, :])
        if i < nsym:
            oterm = omega[:, i : i + 1]
            if oterm.any():
                om_val ^= _gmul(oterm, powers[i][None, :])
    roots = psi_val == 0
    feasible &= roots.sum(axis=1) == deg
    feasible &= ~(roots & (dpsi_val == 0)).any(axis=1)
    x_big = _alpha_pow(RS_N - 1 - np.arange(RS_N))[None, :]
    magnitude = _gmul(x_big, _gmul(om_val, _INV[dpsi_val]))
    fixed = cws[rows] ^ np.where(roots, magnitude, 0).astype(np.uint8)

    cand = np.flatnonzero(feasible)
    if len(cand):
        clean = ~_rs_syndromes(fixed[cand], nsym).any(axis=1)
        good = cand[clean]
        out[rows[good]] = fixed[good]
        ok[rows[good]] = True
    return out, ok


def erasure_schedule(nsym: int) -> list[int]:
    """Erasure counts tried, in increasing order, for codewords that failed plain decoding."""
    counts = {max(1, (nsym * f) // 16) for f in (4, 8, 10, 12, 13, 14, 15, 16)}
    return sorted(counts)


# --------------------------------------------------------------------------------------
# Block layout: shortened Reed-Solomon codewords, interleaved
# --------------------------------------------------------------------------------------


def body_layout(frame_len: int, nsym: int) -> tuple[int, int, int]:
    """(codewords, data bytes per codeword, parity bytes per codeword) for a body.

    Full codewords have ``255 - nsym`` data bytes; a body that needs ``C`` codewords spreads
    its bytes evenly over them (``d = ceil(len / C)``) and gives each the parity of the same
    code rate (``p = ceil(d * nsym / (255 - nsym))``), so a 20-byte message costs ~54 bytes,
    not 255.
    """
    k = RS_N - nsym
    n_cw = max(1, -(-frame_len // (RS_N - max(nsym, 2))))  # parity is at least 2 bytes
    data = max(1, -(-frame_len // n_cw))
    parity = data * nsym // k if data * nsym % k == 0 else data * nsym // k + 1
    return n_cw, data, max(2, parity)


def encode_blocks(data: bytes, n_cw: int, d: int, p: int) -> np.ndarray:
    """``n_cw * d`` data bytes -> channel bytes (n_cw * (d + p),), interleaved.

    Data byte ``i`` goes to codeword ``i % n_cw``; byte ``j`` of codeword ``c`` is stream
    byte ``j * n_cw + c``, so a burst of channel errors spreads over codewords.  Shortened
    codewords are encoded as full ones with a known zero prefix that is not transmitted.
    """
    msgs = np.frombuffer(data, dtype=np.uint8).reshape(d, n_cw).T
    full = np.zeros((n_cw, RS_N - p), dtype=np.uint8)
    full[:, RS_N - p - d :] = msgs
    cws = rs_encode(full, p)[:, RS_N - p - d :]
    return np.ascontiguousarray(cws.T).reshape(-1)


def decode_blocks(stream: np.ndarray, rel: np.ndarray | None, n_cw: int, d: int,
                   p: int) -> bytes | None:
    """Inverse of :func:`encode_blocks`; None unless every codeword decodes.

    ``rel`` (same shape as ``stream``) are per-byte reliabilities: codewords that fail plain
    decoding are retried with their least reliable bytes erased (GMD decoding).
    """
    pad = RS_N - p - d
    cws = np.zeros((n_cw, RS_N), dtype=np.uint8)
    cws[:, pad:] = stream.reshape(d + p, n_cw).T
    decoded, ok = rs_decode(cws, p)
    ok &= ~decoded[:, :pad].any(axis=1)  # a "correction" into the untransmitted zero prefix
    if not ok.all() and rel is not None:
        byte_rel = np.full((n_cw, RS_N), np.inf)
        byte_rel[:, pad:] = rel.reshape(d + p, n_cw).T
        order = np.argsort(byte_rel, axis=1, kind="stable")
        for n_erase in erasure_schedule(p):
            left = np.flatnonzero(~ok)
            if not len(left):
                break
            fixed, ok_sub = rs_decode(cws[left], p, order[left, :n_erase])
            ok_sub &= ~fixed[:, :pad].any(axis=1)
            decoded[left[ok_sub]] = fixed[ok_sub]
            ok[left[ok_sub]] = True
    if not ok.all():
        return None
    return decoded[:, pad : pad + d].T.reshape(-1).tobytes()
