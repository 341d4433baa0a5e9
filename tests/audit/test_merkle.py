"""The Merkle arithmetic against the transparency-dev/merkle test vectors (proof/verify_test.go),
and the proofs this module builds against the RFC's own recursion."""

import hashlib

import pytest

from audit import merkle

# The vectors' values (transparency-dev/merkle, proof/verify_test.go): facts, copied.
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
INCLUSION = [  # (leaf, 1-based as in the vectors; tree size; proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (1, 1, []),
]
CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
LEAF_HASHES = [merkle.leaf_hash(data) for data in LEAVES]


def _range_hash(leaves, start, end):
    return merkle.root_from_leaves(leaves[start:end])


def test_roots_of_the_vectors():
    assert merkle.EMPTY_ROOT == EMPTY_TREE
    for size in range(1, 9):
        assert merkle.root_from_leaves(LEAF_HASHES[:size]) == ROOTS[size - 1]
        compact = merkle.CompactRange()
        for leaf in LEAF_HASHES[:size]:
            compact.append(leaf)
        assert compact.root() == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_vectors_verify_and_are_what_we_build(leaf, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    index, root, leaf_hash = leaf - 1, ROOTS[size - 1], LEAF_HASHES[leaf - 1]
    assert merkle.root_from_inclusion(index, size, leaf_hash, proof) == root
    merkle.verify_inclusion(index, size, leaf_hash, proof, root)
    built = [_range_hash(LEAF_HASHES, s, e) for s, e in merkle.inclusion_ranges(index, size)]
    assert built == proof


def _inclusion_refused(index, size, leaf, proof, root):
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaf, proof, root)


@pytest.mark.parametrize(("leaf", "size", "proof"), [v for v in INCLUSION if v[2]])
def test_corrupted_inclusion_proofs_are_refused(leaf, size, proof):
    """The vectors' corruptions (verify_test.go corruptInclusionProof)."""
    proof = [bytes.fromhex(h) for h in proof]
    index, root, leaf_hash = leaf - 1, ROOTS[size - 1], LEAF_HASHES[leaf - 1]
    for wrong_index in (index - 1, index + 1, index ^ 2):
        if wrong_index >= 0:
            _inclusion_refused(wrong_index, size, leaf_hash, proof, root)
    _inclusion_refused(index, size * 2, leaf_hash, proof, root)
    if size // 2 > index:
        _inclusion_refused(index, size // 2, leaf_hash, proof, root)
    _inclusion_refused(index, size, hashlib.sha256(b"WrongLeaf").digest(), proof, root)
    _inclusion_refused(index, size, leaf_hash, proof, EMPTY_TREE)
    _inclusion_refused(index, size, leaf_hash, proof, SOME_HASH)
    _inclusion_refused(index, size, leaf_hash, [*proof, root], root)
    _inclusion_refused(index, size, leaf_hash, [root, *proof], root)
    _inclusion_refused(index, size, leaf_hash, [*proof, b""], root)
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        _inclusion_refused(index, size, leaf_hash, flipped, root)
    _inclusion_refused(index, size, leaf_hash, proof[:-1], root)
    if len(proof) > 1:
        _inclusion_refused(index, size, leaf_hash, [proof[0], SOME_HASH, *proof[1:]], root)


def test_degenerate_inclusion_is_refused():
    for index, size in ((0, 0), (1, 0), (2, 1)):
        _inclusion_refused(index, size, SOME_HASH, [], EMPTY_TREE)
    _inclusion_refused(0, 1, SOME_HASH, [], EMPTY_TREE)


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_vectors_verify_and_are_what_we_build(size1, size2, proof):
    proof = [bytes.fromhex(h) for h in proof]
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    merkle.verify_consistency(size1, size2, root1, root2, proof)
    built = [_range_hash(LEAF_HASHES, s, e) for s, e in merkle.consistency_ranges(size1, size2)]
    assert built == proof


@pytest.mark.parametrize(("size1", "size2", "proof"), [v for v in CONSISTENCY if v[2]])
def test_corrupted_consistency_proofs_are_refused(size1, size2, proof):
    """The vectors' corruptions (verify_test.go corruptConsistencyProof)."""
    proof = [bytes.fromhex(h) for h in proof]
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    wrong = hashlib.sha256(b"WrongRoot").digest()
    probes = [
        (size1 - 1, size2, root1, root2, proof), (size1 + 1, size2, root1, root2, proof),
        (size1 ^ 2, size2, root1, root2, proof), (size1, size2 * 2, root1, root2, proof),
        (size1, size2 // 2, root1, root2, proof), (size1, size2, wrong, root2, proof),
        (size1, size2, root1, wrong, proof), (size1, size2, root2, root1, proof),
        (size1, size2, root1, root2, []), (size1, size2, root1, root2, [*proof, root1]),
        (size1, size2, root1, root2, [*proof, root2]),
        (size1, size2, root1, root2, [*proof, b""]),
        (size1, size2, root1, root2, [root1, *proof]),
        (size1, size2, root1, root2, [root2, *proof]),
        (size1, size2, root1, root2, [proof[0], *proof]), (size1, size2, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((size1, size2, root1, root2, flipped))
    for s1, s2, r1, r2, p in probes:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(s1, s2, r1, r2, p)


def test_trivial_consistency_cases():
    merkle.verify_consistency(0, 0, EMPTY_TREE, EMPTY_TREE, [])
    merkle.verify_consistency(0, 5, SOME_HASH, EMPTY_TREE, [])
    merkle.verify_consistency(3, 3, SOME_HASH, SOME_HASH, [])
    for args in ((1, 1, SOME_HASH, EMPTY_TREE, []), (2, 1, SOME_HASH, SOME_HASH, []),
                 (1, 2, SOME_HASH, EMPTY_TREE, []), (1, 1, SOME_HASH, SOME_HASH, [EMPTY_TREE]),
                 (0, 1, SOME_HASH, SOME_HASH, [EMPTY_TREE])):
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)


def test_every_proof_up_to_70_leaves_verifies():
    leaves = [merkle.leaf_hash(b"entry %d" % i) for i in range(70)]
    roots = [merkle.root_from_leaves(leaves[:n]) for n in range(71)]
    for size in range(1, 71):
        for index in range(size):
            proof = [_range_hash(leaves, s, e) for s, e in merkle.inclusion_ranges(index, size)]
            merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
        for old in range(0, size + 1):
            ranges = merkle.consistency_ranges(old, size)
            proof = [_range_hash(leaves, s, e) for s, e in ranges]
            merkle.verify_consistency(old, size, roots[old], roots[size], proof)


def test_compact_range_emits_every_complete_range_once():
    compact, made = merkle.CompactRange(), {}
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(37)]
    for leaf in leaves:
        for start, end, digest in compact.append(leaf):
            assert merkle.is_complete(start, end) and (start, end) not in made
            made[(start, end)] = digest
    assert all(digest == _range_hash(leaves, s, e) for (s, e), digest in made.items())
    assert len(made) == 37 + 18 + 9 + 4 + 2 + 1
    border = [made[r] for r in merkle.decomposition(0, 37)]
    resumed = merkle.CompactRange(37, border)
    resumed.append(merkle.leaf_hash(b"37"))
    assert resumed.root() == merkle.root_from_leaves([*leaves, merkle.leaf_hash(b"37")])
