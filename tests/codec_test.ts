import assert from "node:assert/strict";
import { Codec, DecodeError, decodeText, DEFAULT_DECODE_LIMITS } from "../codec.ts";

const codec = new Codec();

function roundTrip(value: unknown): unknown {
  return codec.decode(codec.encode(value));
}

/** An array32 header (0xdd) announcing `count` elements, followed by `count` copies of `fill`. */
function array32(count: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(5 + count).fill(fill);
  bytes[0] = 0xdd;
  new DataView(bytes.buffer).setUint32(1, count);
  return bytes;
}

// Round trips

Deno.test("codec round-trips nested maps and arrays", () => {
  const value = {
    prompt: "hi",
    options: { steps: 4, seed: null, flags: [true, false], deep: { a: [{ b: { c: [] } }] } },
    empty: {},
  };
  assert.deepEqual(roundTrip(value), value);
});

Deno.test("codec round-trips negative and wide integers", () => {
  const ints = [
    0,
    -1,
    -32,
    -33,
    -128,
    -129,
    -32_768,
    -32_769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -Number.MAX_SAFE_INTEGER,
    127,
    128,
    255,
    256,
    65_535,
    65_536,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
  ];
  assert.deepEqual(roundTrip(ints), ints);
});

Deno.test("codec round-trips floats exactly, including NaN and infinities", () => {
  const floats = [0.1, -1.25, 3.141592653589793, 1e300, -5e-324, Infinity, -Infinity];
  assert.deepEqual(roundTrip(floats), floats);
  assert.ok(Number.isNaN(roundTrip(NaN)));
});

Deno.test("codec round-trips unicode strings of every length class", () => {
  const strings = [
    "",
    "héllo",
    "日本語のテキスト",
    "emoji 😀👍🏽",
    "a".repeat(300),
    "ü".repeat(40_000),
  ];
  assert.deepEqual(roundTrip(strings), strings);
});

Deno.test("codec decodes bin as a Uint8Array view of the input, with no copy", () => {
  const image = new Uint8Array([1, 2, 3, 254, 255]);
  const bytes = codec.encode({ prompt: "x", image });
  const value = codec.decode(bytes) as { image: Uint8Array };
  assert.ok(value.image instanceof Uint8Array);
  assert.deepEqual([...value.image], [...image]);
  assert.equal(value.image.buffer, bytes.buffer);
  // Writing through the input shows the view shares its memory.
  bytes[bytes.length - 1] = 7;
  assert.equal(value.image[4], 7);
});

Deno.test("codec decodes bin as a view of an ArrayBuffer input too", () => {
  const buffer = codec.encode(new Uint8Array([9, 8, 7])).buffer;
  const value = codec.decode(buffer) as Uint8Array;
  assert.deepEqual([...value], [9, 8, 7]);
  assert.equal(value.buffer, buffer);
});

Deno.test("codec round-trips a 10 MB bin without copying it on decode", () => {
  const size = 10 * 1024 * 1024;
  const big = new Uint8Array(size);
  for (let i = 0; i < size; i++) big[i] = (i * 31) & 0xff;
  const bytes = codec.encode({ frame: big });
  const { frame } = codec.decode(bytes) as { frame: Uint8Array };
  assert.equal(frame.byteLength, size);
  assert.equal(frame.buffer, bytes.buffer);
  let mismatches = 0;
  for (let i = 0; i < size; i++) if (frame[i] !== big[i]) mismatches++;
  assert.equal(mismatches, 0);
});

Deno.test("codec encodes typed arrays other than Uint8Array as bin of their bytes", () => {
  const value = codec.decode(codec.encode(new Uint16Array([0x0102]))) as Uint8Array;
  assert.equal(value.byteLength, 2);
});

Deno.test("codec round-trips a Date as a msgpack timestamp", () => {
  const date = new Date(1_700_000_000_123);
  assert.deepEqual(roundTrip({ at: date }), { at: date });
});

Deno.test("codec drops undefined map fields and encodes a bare undefined as nil", () => {
  assert.deepEqual(roundTrip({ a: 1, b: undefined }), { a: 1 });
  assert.equal(roundTrip(undefined), null);
});

Deno.test("codec decodes a message inside a larger buffer at an offset", () => {
  const message = codec.encode({ a: [1, 2] });
  const padded = new Uint8Array(message.length + 6).fill(0xc1);
  padded.set(message, 3);
  assert.deepEqual(codec.decode(padded.subarray(3, 3 + message.length)), { a: [1, 2] });
});

// encode and encodeShared

Deno.test("codec.encode returns a fresh buffer the caller keeps", () => {
  const first = codec.encode({ n: 1 });
  const second = codec.encode({ n: 2 });
  assert.notEqual(first.buffer, second.buffer);
  assert.deepEqual(codec.decode(first), { n: 1 });
  assert.deepEqual([...first], [0x81, 0xa1, 0x6e, 0x01]);
});

Deno.test("codec.encodeShared returns a view of one reused buffer, valid until the next encode", () => {
  const shared = new Codec();
  const first = shared.encodeShared({ n: 1 });
  assert.deepEqual(shared.decode(first), { n: 1 });
  const second = shared.encodeShared({ n: 2 });
  assert.equal(second.buffer, first.buffer);
  assert.deepEqual(shared.decode(second), { n: 2 });
  // The first view now reads the second message: it was not a copy.
  assert.deepEqual(shared.decode(first), { n: 2 });
});

// Decode errors

function decodeError(
  bytes: number[] | Uint8Array,
  limits?: ConstructorParameters<typeof Codec>[0],
) {
  try {
    new Codec(limits).decode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  } catch (error) {
    assert.ok(error instanceof DecodeError, `expected a DecodeError, got ${error}`);
    assert.equal(error.name, "DecodeError");
    return error.message;
  }
  assert.fail("decoding succeeded");
}

Deno.test("codec reports truncated input as 'unexpected end of input'", () => {
  const expected = "Cannot decode message: unexpected end of input";
  assert.equal(decodeError([0x92, 0x01]), expected); // array of 2, one element
  assert.equal(decodeError([0xa5, 0x61, 0x62]), expected); // str of 5, two bytes
  assert.equal(decodeError([0xcd, 0x01]), expected); // uint16, one byte
  assert.equal(decodeError([]), expected);
});

Deno.test("codec refuses trailing bytes after one message", () => {
  assert.match(decodeError([0x01, 0x02]), /^Cannot decode message: extra 1 of 2 byte/);
});

Deno.test("codec refuses bytes that are not msgpack", () => {
  assert.equal(decodeError([0xc1]), "Cannot decode message: unrecognized type byte: 0xc1");
  assert.match(decodeError([0x81, 0x80, 0x01]), /type of key must be string or number/);
});

Deno.test("codec refuses extension values other than timestamps", () => {
  const ext16 = [0xd8, 0x05, ...new Array(16).fill(0)]; // fixext 16 of type 5
  assert.match(decodeError(ext16), /ext length \(16\) > maxExtLength/);
});

Deno.test("codec keeps the cause of a decode error", () => {
  try {
    codec.decode(new Uint8Array([0xc1]));
    assert.fail("decoding succeeded");
  } catch (error) {
    assert.ok(error instanceof DecodeError);
    assert.ok(error.cause instanceof Error);
  }
});

// Per-container limits

Deno.test("codec refuses an array longer than maxArrayLength and accepts one at it", () => {
  const limits = { maxArrayLength: 3 };
  assert.deepEqual(new Codec(limits).decode(codec.encode([1, 2, 3])), [1, 2, 3]);
  assert.match(
    decodeError(codec.encode([1, 2, 3, 4]), limits),
    /array length \(4\) > maxArrayLength \(3\)/,
  );
});

Deno.test("codec refuses a map larger than maxMapLength and accepts one at it", () => {
  const limits = { maxMapLength: 2 };
  assert.deepEqual(new Codec(limits).decode(codec.encode({ a: 1, b: 2 })), { a: 1, b: 2 });
  assert.match(decodeError(codec.encode({ a: 1, b: 2, c: 3 }), limits), /map length \(3\)/);
});

Deno.test("codec refuses a string longer than maxStrLength (in UTF-8 bytes)", () => {
  const limits = { maxStrLength: 4 };
  assert.equal(new Codec(limits).decode(codec.encode("abcd")), "abcd");
  assert.match(
    decodeError(codec.encode("abcde"), limits),
    /byte length \(5\) > maxStrLength \(4\)/,
  );
  // "üü" is two characters but four bytes; "üüa" is five bytes.
  assert.equal(new Codec(limits).decode(codec.encode("üü")), "üü");
  assert.match(decodeError(codec.encode("üüa"), limits), /\(5\) > maxStrLength/);
});

Deno.test("codec refuses a bin longer than maxBinLength and accepts one at it", () => {
  const limits = { maxBinLength: 8 };
  const ok = new Codec(limits).decode(codec.encode(new Uint8Array(8))) as Uint8Array;
  assert.equal(ok.byteLength, 8);
  assert.match(
    decodeError(codec.encode(new Uint8Array(9)), limits),
    /bin length \(9\) > maxBinLength \(8\)/,
  );
});

Deno.test("codec uses the documented default limits", () => {
  assert.deepEqual({ ...DEFAULT_DECODE_LIMITS }, {
    maxStrLength: 16 * 1024 * 1024,
    maxBinLength: 64 * 1024 * 1024,
    maxArrayLength: 500_000,
    maxMapLength: 100_000,
    maxElements: 500_000,
  });
  assert.ok(Object.isFrozen(DEFAULT_DECODE_LIMITS));
  assert.match(
    decodeError(array32(500_001, 0x00)),
    /more than 500000 values|array length \(500001\)/,
  );
});

// The element budget

Deno.test("codec counts every value, key and element against maxElements", () => {
  const limits = { maxElements: 5 };
  // A map of two entries is five values: the map, two keys, two values.
  assert.deepEqual(new Codec(limits).decode(codec.encode({ a: 1, b: 2 })), { a: 1, b: 2 });
  assert.equal(
    decodeError(codec.encode({ a: 1, b: 2, c: 3 }), limits),
    "Cannot decode message: more than 5 values in one message",
  );
  // Nested containers count too: [[1], [2]] is five values, [[1], [2, 3]] is six.
  assert.deepEqual(new Codec(limits).decode(codec.encode([[1], [2]])), [[1], [2]]);
  assert.match(decodeError(codec.encode([[1, 0x100], [2, 3]]), limits), /more than 5 values/);
});

Deno.test("codec walks fixed-size and length-prefixed values to count the budget", () => {
  const limits = { maxElements: 10 };
  // An array of nine uint16, a float64, a str8 and a bin8 is 13 values: too many...
  const mixed = [...new Array(9).fill(0x1234), 0.5, "x".repeat(40), new Uint8Array(40)];
  assert.match(decodeError(codec.encode(mixed), limits), /more than 10 values/);
  // ...while nine long values (ten with the array) pass, however many bytes they take.
  const nine = [0.5, 2 ** 40, "x".repeat(300), new Uint8Array(300), -70_000, 1, 2, 3, 4];
  assert.deepEqual(new Codec(limits).decode(codec.encode(nine)), nine);
});

Deno.test("codec refuses a 16 MiB array32 of empty arrays without growing the heap", () => {
  const count = 16 * 1024 * 1024;
  const frame = array32(count, 0x90);
  // Lift the array limit, so that only the element budget stands in the way.
  const lenient = new Codec({ maxArrayLength: count });
  const before = Deno.memoryUsage().heapUsed;
  assert.throws(
    () => lenient.decode(frame),
    (error) =>
      error instanceof DecodeError &&
      error.message === "Cannot decode message: more than 500000 values in one message",
  );
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes`);
  // The default codec refuses it as well.
  assert.throws(() => codec.decode(frame), DecodeError);
});

Deno.test("codec element budget does not apply to a message no longer than the budget", () => {
  // Four bytes cannot hold more than four values.
  assert.deepEqual(new Codec({ maxElements: 4 }).decode(new Uint8Array([0x93, 1, 2, 3])), [
    1,
    2,
    3,
  ]);
});

Deno.test("codec leaves truncation to the decoder when the budget walk runs off the end", () => {
  const truncated = array32(20, 0x01).subarray(0, 15); // announces 20, holds 10
  assert.equal(
    decodeError(truncated, { maxElements: 12 }),
    "Cannot decode message: unexpected end of input",
  );
});

// decodeText

Deno.test("decodeText parses JSON text", () => {
  assert.deepEqual(decodeText('{"prompt":"héllo","n":[1,2.5,null]}'), {
    prompt: "héllo",
    n: [1, 2.5, null],
  });
});

Deno.test("decodeText throws a DecodeError for text that is not JSON", () => {
  assert.throws(
    () => decodeText("{prompt:"),
    (error) =>
      error instanceof DecodeError &&
      /^Cannot decode message: invalid JSON \(/.test(error.message) &&
      error.cause instanceof SyntaxError,
  );
});
