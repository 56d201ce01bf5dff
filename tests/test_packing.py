"""Bit packing of codes (skvq._packing): ``n_bits`` bits per code, against
a plain reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skvq import pack_codes, unpack_codes

ALL_N_BITS = list(range(1, 17))
SHAPES = [(0,), (1,), (7,), (8,), (9,), (3, 5), (2, 0, 4), (4, 3, 2)]


def reference_pack(codes, n_bits):
    """One byte per bit, then numpy.packbits: slow, obviously right."""
    flat = np.asarray(codes, dtype=np.int64).ravel()
    bits = (flat[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1
    return np.packbits(bits.astype(np.uint8).ravel())


def random_codes(n_bits, shape, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if n_bits <= 8 else np.uint16
    return rng.integers(0, 1 << n_bits, size=shape).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n_bits", ALL_N_BITS)
def test_round_trip_is_exact(n_bits, shape):
    codes = random_codes(n_bits, shape)
    packed = pack_codes(codes, n_bits)
    unpacked = unpack_codes(packed, n_bits, shape)
    assert unpacked.shape == shape
    assert unpacked.dtype == (np.uint8 if n_bits <= 8 else np.uint16)
    np.testing.assert_array_equal(unpacked, codes)


@pytest.mark.parametrize("n_codes", [0, 1, 5, 8, 13, 64, 1001])
@pytest.mark.parametrize("n_bits", ALL_N_BITS)
def test_packed_size_and_bits_follow_the_documented_layout(n_bits, n_codes):
    codes = random_codes(n_bits, n_codes, seed=n_codes)
    packed = pack_codes(codes, n_bits)
    assert packed.dtype == np.uint8
    assert packed.shape == (-(-n_codes * n_bits // 8),)
    np.testing.assert_array_equal(packed, reference_pack(codes, n_bits))


def test_three_bit_example_by_hand():
    # 000 001 010 011 100 101 110 111 | 111 (then zero padding)
    codes = [0, 1, 2, 3, 4, 5, 6, 7, 7]
    packed = pack_codes(np.array(codes), 3)
    assert [f"{b:08b}" for b in packed] == [
        "00000101",
        "00111001",
        "01110111",
        "11100000",
    ]


def test_sixteen_bits_are_big_endian_uint16():
    packed = pack_codes(np.array([0x1234, 0xABCD], dtype=np.uint16), 16)
    assert bytes(packed) == b"\x12\x34\xab\xcd"


def test_codes_are_read_in_c_order_from_non_contiguous_views():
    codes = random_codes(5, (6, 8))
    view = codes[::2, ::-3]
    packed = pack_codes(view, 5)
    np.testing.assert_array_equal(packed, reference_pack(view, 5))
    np.testing.assert_array_equal(unpack_codes(packed, 5, view.shape), view)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint32, ">u2", ">i4"])
def test_any_integer_dtype_is_accepted(dtype):
    codes = np.array([[3, 0, 2], [1, 3, 3]], dtype=dtype)
    packed = pack_codes(codes, 2)
    np.testing.assert_array_equal(unpack_codes(packed, 2, (2, 3)), codes)


def test_boolean_codes_are_bits():
    codes = np.array([True, False, True, True, False, False, False, False, True])
    packed = pack_codes(codes, 1)
    assert bytes(packed) == bytes([0b10110000, 0b10000000])


@pytest.mark.parametrize("n_bits", [1, 3, 8, 16])
def test_inputs_are_not_modified_and_outputs_do_not_alias_them(n_bits):
    codes = random_codes(n_bits, (5, 7))
    codes_before = codes.copy()
    packed = pack_codes(codes, n_bits)
    packed_before = packed.copy()
    unpacked = unpack_codes(packed, n_bits, codes.shape)
    np.testing.assert_array_equal(codes, codes_before)
    packed[...] = 0
    unpacked[...] = 0
    np.testing.assert_array_equal(codes, codes_before)
    packed_again = pack_codes(codes, n_bits)
    np.testing.assert_array_equal(packed_again, packed_before)


def test_read_only_inputs_are_accepted():
    codes = random_codes(4, (3, 3))
    codes.flags.writeable = False
    packed = pack_codes(codes, 4)
    packed.flags.writeable = False
    np.testing.assert_array_equal(unpack_codes(packed, 4, (3, 3)), codes)


def test_unpack_accepts_bytes_and_int_shape():
    codes = np.array([1, 2, 3, 0, 1], dtype=np.uint8)
    packed = bytes(pack_codes(codes, 2))
    np.testing.assert_array_equal(unpack_codes(packed, 2, 5), codes)


@pytest.mark.parametrize(
    "codes, n_bits, match",
    [
        (
            np.array([0, 8]),
            3,
            r"smaller than 2\*\*n_bits = 8 to fit in n_bits=3 bits, found 8",
        ),
        (np.array([0, 2]), 1, r"smaller than 2\*\*n_bits = 2 .* found 2"),
        (np.array([70000]), 16, r"smaller than 2\*\*n_bits = 65536 .* found 70000"),
        (np.array([1, -1]), 4, r"codes must be non-negative, found -1"),
    ],
)
def test_codes_that_do_not_fit_are_rejected(codes, n_bits, match):
    with pytest.raises(ValueError, match=match):
        pack_codes(codes, n_bits)


@pytest.mark.parametrize(
    "codes",
    [np.array([0.0, 1.0]), np.array(["a"]), np.array([1 + 0j]), np.array([None])],
)
def test_non_integer_codes_are_rejected(codes):
    with pytest.raises(
        TypeError, match="codes must be an array of integers, got dtype"
    ):
        pack_codes(codes, 4)


@pytest.mark.parametrize("n_bits", [0, 17, -1, 64])
def test_n_bits_out_of_range_is_rejected(n_bits):
    msg = f"n_bits must be an integer from 1 to 16, got {n_bits}"
    with pytest.raises(ValueError, match=msg):
        pack_codes(np.array([0]), n_bits)
    with pytest.raises(ValueError, match=msg):
        unpack_codes(np.zeros(1, dtype=np.uint8), n_bits, 1)


@pytest.mark.parametrize("n_bits", [3.0, "3", None, True])
def test_n_bits_of_wrong_type_is_rejected(n_bits):
    with pytest.raises(TypeError, match="n_bits must be an integer from 1 to 16"):
        pack_codes(np.array([0]), n_bits)
    with pytest.raises(TypeError, match="n_bits must be an integer from 1 to 16"):
        unpack_codes(np.zeros(1, dtype=np.uint8), n_bits, 1)


def test_numpy_integer_n_bits_is_accepted():
    codes = np.array([5, 6])
    packed = pack_codes(codes, np.int64(3))
    np.testing.assert_array_equal(unpack_codes(packed, np.uint8(3), (2,)), codes)


@pytest.mark.parametrize(
    "n_bytes, shape, n_bits",
    [(4, (3, 4), 3), (6, (3, 4), 3), (0, (1,), 1), (1, (0,), 8), (3, 2, 16)],
)
def test_unpack_rejects_a_byte_count_that_does_not_match(n_bytes, shape, n_bits):
    with pytest.raises(ValueError, match=f"packed has {n_bytes} bytes but .* take"):
        unpack_codes(np.zeros(n_bytes, dtype=np.uint8), n_bits, shape)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.float64])
def test_unpack_rejects_packed_of_another_dtype(dtype):
    with pytest.raises(
        TypeError,
        match=f"packed must be an array of uint8 bytes .* got dtype {np.dtype(dtype)}",
    ):
        unpack_codes(np.zeros(3, dtype=dtype), 8, 3)


def test_unpack_rejects_packed_that_is_not_1d():
    with pytest.raises(ValueError, match=r"packed must be 1-D .* shape \(2, 2\)"):
        unpack_codes(np.zeros((2, 2), dtype=np.uint8), 8, 4)


@pytest.mark.parametrize("shape", [(2, -1), -3])
def test_unpack_rejects_negative_shape(shape):
    with pytest.raises(ValueError, match="shape must not have negative entries"):
        unpack_codes(np.zeros(1, dtype=np.uint8), 8, shape)


@pytest.mark.parametrize("shape", [(2.0, 1), "ab", None, 2.5])
def test_unpack_rejects_shape_that_is_not_integers(shape):
    with pytest.raises(TypeError, match="shape must be an int or a tuple of ints"):
        unpack_codes(np.zeros(2, dtype=np.uint8), 8, shape)


@st.composite
def codes_and_n_bits(draw):
    n_bits = draw(st.integers(1, 16))
    dtype = draw(
        st.sampled_from(
            [np.uint8, np.uint16, np.int32, np.int64]
            if n_bits <= 7
            else [np.uint16, np.int32, np.int64]
        )
    )
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=12))
    codes = draw(hnp.arrays(dtype, shape, elements=st.integers(0, (1 << n_bits) - 1)))
    return codes, n_bits


@given(codes_and_n_bits())
def test_round_trip_property(codes_n_bits):
    codes, n_bits = codes_n_bits
    packed = pack_codes(codes, n_bits)
    assert packed.size == -(-codes.size * n_bits // 8)
    np.testing.assert_array_equal(packed, reference_pack(codes, n_bits))
    np.testing.assert_array_equal(unpack_codes(packed, n_bits, codes.shape), codes)
