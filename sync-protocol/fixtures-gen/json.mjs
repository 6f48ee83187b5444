// The JSON form of a decoded CBOR message shared by the capture and check scripts and the Rust
// tests: byte strings become {"$bytes": "<hex>"} and undefined becomes {"$undefined": true}, so
// nothing is lost that would change the encoding.

export function toJson(value) {
  if (value === undefined) return { $undefined: true }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("hex") }
  if (Array.isArray(value)) return value.map(toJson)
  if (value !== null && typeof value === "object") {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v)
    return out
  }
  return value
}
