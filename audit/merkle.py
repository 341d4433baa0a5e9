"""The audit log's Merkle tree (RFC 6962 / RFC 9162 hashing): pure arithmetic, no database.

Leaves are the entries' hashes in seq order (leaf i is entry seq i + 1):
leaf = SHA-256(0x00 || the entry's 32-byte hash), node = SHA-256(0x01 || left || right).

Every hash the tree needs is the hash of a *range* of leaves [start, end). A range is
*complete* when its length is a power of two and start is a multiple of it: the drain stores
those as the tree grows (audit.merkle_store). A proof for a tree of size n also needs ranges
that end at n and are not complete (the "ephemeral" right edge of the tree); they are the
suffixes of n's decomposition into complete ranges, and are stored per checkpoint size when
a checkpoint is signed. So every hash a proof names is one stored row.

The proof shapes follow RFC 9162 2.1.3 (inclusion) and 2.1.4 (consistency); the verifiers
follow its algorithms step by step, and tests/audit/test_merkle.py runs the published
transparency-dev/merkle vectors through both.
"""

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def decomposition(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) as complete ranges, left to right.

    Used for prefixes [0, n) and for the suffixes of that decomposition, where the ranges come
    out largest first, so their hash is a fold from the right (`fold`).
    """
    ranges = []
    while start < end:
        size = 1
        while start % (size * 2) == 0 and start + size * 2 <= end:
            size *= 2
        ranges.append((start, start + size))
        start += size
    return ranges


def is_complete(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def fold(hashes: list[bytes]) -> bytes:
    """The hash of consecutive ranges of decreasing size: MTH as RFC 6962 splits them."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_from_leaves(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes, straight from the RFC's recursion (tests and small trees)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


# --- Which ranges a proof is made of ---------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1 as leaf ranges, bottom (leaf's sibling) first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path, start, end = [], 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 as leaf ranges, in the proof's order."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    proof: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True  # SUBPROOF(m, D[start:end], b)
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append((start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            start, m, complete = start + k, m - k, False
    return proof[::-1]


# --- Verifying (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2); ProofError if malformed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    if any(len(h) != 32 for h in proof) or len(leaf) != 32:
        raise ProofError("proof hashes must be 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """Raises ProofError unless `leaf` is leaf `index` of the tree of `size` with `root`."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"leaf {index} is not included in the tree of size {size} with this root")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: list[bytes]) -> None:
    """Raises ProofError unless the tree (new, new_root) extends (old, old_root)."""
    if not 0 <= old <= new:
        raise ProofError(f"size {old} cannot precede size {new}")
    if any(len(h) != 32 for h in proof):
        raise ProofError("proof hashes must be 32 bytes")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError(f"two different trees of size {new}")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root starts the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the tree of size {new} does not extend the given tree of size {old}")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the given root of size {new}")


# --- Building in one pass ----------------------------------------------------------------------


class CompactRange:
    """The right border of a growing tree: complete ranges of [0, size), largest first.

    `append` adds a leaf and returns every range it completed (start, end, hash), which is what
    the drain stores; memory is O(log n).
    """

    def __init__(self, size: int = 0, border: list[bytes] | None = None):
        self.size = size
        self.border = list(border or [])  # hashes of decomposition(0, size), left to right
        if len(self.border) != len(decomposition(0, size)):
            raise ValueError("border does not match the size")

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        start = self.size
        made = [(start, start + 1, leaf)]
        node, width = leaf, 1
        self.size += 1
        while self.size % (width * 2) == 0 and self.border:
            left = self.border.pop()
            node, width = node_hash(left, node), width * 2
            made.append((self.size - width, self.size, node))
        self.border.append(node)
        return made

    def root(self) -> bytes:
        return fold(self.border) if self.border else EMPTY_ROOT
