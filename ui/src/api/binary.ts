// Decoder for `GET …/metrics/{key}?format=binary`: 24 bytes a point,
// little-endian (step i64, timestamp i64, value f64; NaN and ±infinity as
// themselves). Steps and timestamps become doubles: exact up to 2^53.

export const POINT_BYTES = 24;

export interface DecodedPoints {
  steps: Float64Array;
  timestamps: Float64Array;
  values: Float64Array;
}

export function decodeHistory(buffer: ArrayBuffer): DecodedPoints {
  if (buffer.byteLength % POINT_BYTES !== 0) {
    throw new Error(
      `binary history of ${buffer.byteLength} bytes is not a whole number of ${POINT_BYTES}-byte points`,
    );
  }
  const n = buffer.byteLength / POINT_BYTES;
  const view = new DataView(buffer);
  const steps = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0, off = 0; i < n; i++, off += POINT_BYTES) {
    steps[i] = int64(view, off);
    timestamps[i] = int64(view, off + 8);
    values[i] = view.getFloat64(off + 16, true);
  }
  return { steps, timestamps, values };
}

/** A little-endian i64 as a double, without BigInt on the hot path. */
function int64(view: DataView, off: number): number {
  const lo = view.getUint32(off, true);
  const hi = view.getInt32(off + 4, true);
  return hi * 4294967296 + lo;
}

/** Encoder, the inverse of decodeHistory (used by tests and fixtures). */
export function encodeHistory(points: { step: number; timestamp: number; value: number }[]): ArrayBuffer {
  const buffer = new ArrayBuffer(points.length * POINT_BYTES);
  const view = new DataView(buffer);
  points.forEach((p, i) => {
    const off = i * POINT_BYTES;
    view.setBigInt64(off, BigInt(p.step), true);
    view.setBigInt64(off + 8, BigInt(p.timestamp), true);
    view.setFloat64(off + 16, p.value, true);
  });
  return buffer;
}
