// Writes hand-made broken frames next to the captured ones: each must be refused with a typed
// error (named in expected.json) and never crash the decoder. Frames are built from
// automerge-repo's own CBOR helper where the CBOR itself is valid, and from raw bytes where the
// point is invalid CBOR.
//
// Usage: node broken.mjs <output dir>

import fs from "node:fs"
import path from "node:path"
import { cbor } from "@automerge/automerge-repo"

const outDir = process.argv[2]
if (!outDir) {
  console.error("usage: node broken.mjs <output dir>")
  process.exit(2)
}

const docId = "2YjYe5Udrjqzx5nTf6VedykMEQGr"
const emptySync = Uint8Array.from([0x42, 0, 0, 0, 0]) // V1 sync message: no heads, need, have, changes
const sync = extra => ({
  type: "sync",
  targetId: "server-peer",
  data: emptySync,
  documentId: docId,
  senderId: "tablet-peer",
  ...extra,
})
const join = cbor.encode({
  type: "join",
  senderId: "tablet-peer",
  peerMetadata: { isEphemeral: true },
  supportedProtocolVersions: ["1"],
})

// A V1 sync message whose one change "chunk" is the given bytes.
const syncCarrying = chunk =>
  Uint8Array.from([0x42, 0, 0, 0, 1, chunk.length, ...chunk])
const fakeChunk = Uint8Array.from([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 1, 3, 0x61, 0x62, 0x63])

const cases = [
  // [file, bytes, expected error (decoder variant, or session refusal for valid frames)]
  ["truncated-join", join.subarray(0, join.length - 5), "Truncated"],
  ["trailing-bytes", Buffer.concat([join, Buffer.from([0])]), "TrailingBytes"],
  ["not-a-map", cbor.encode(["sync"]), "NotAMap"],
  ["missing-sender", cbor.encode(sync({ senderId: undefined })), "MissingField"],
  ["data-as-text", cbor.encode(sync({ data: "hello" })), "WrongFieldType"],
  ["type-as-number", cbor.encode({ type: 7, senderId: "tablet-peer" }), "WrongFieldType"],
  ["bad-document-id", cbor.encode(sync({ documentId: "not-a-document" })), "InvalidDocumentId"],
  ["unknown-type", cbor.encode({ type: "hello", senderId: "tablet-peer" }), "UnknownType"],
  ["negative-count", cbor.encode({ type: "ephemeral", targetId: "s", documentId: docId, data: emptySync, count: -1, sessionId: "x", senderId: "t" }), "WrongFieldType"],
  ["indefinite-map", Buffer.from([0xbf, 0x64, 0x74, 0x79, 0x70, 0x65, 0x64, 0x6a, 0x6f, 0x69, 0x6e, 0xff]), "InvalidCbor"],
  ["invalid-utf8", Buffer.from([0xa1, 0x64, 0x74, 0x79, 0x70, 0x65, 0x62, 0xc3, 0x28]), "InvalidCbor"],
  ["duplicate-key", Buffer.from([0xa2, 0x64, 0x74, 0x79, 0x70, 0x65, 0x64, 0x6a, 0x6f, 0x69, 0x6e, 0x64, 0x74, 0x79, 0x70, 0x65, 0x64, 0x73, 0x79, 0x6e, 0x63]), "DuplicateField"],
  ["deep-nesting", Buffer.concat([Buffer.alloc(200, 0x81), Buffer.from([0x00])]), "TooDeep"],
  ["huge-declared-length", Buffer.from([0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "Truncated"],
  ["empty", Buffer.alloc(0), "Empty"],
  // Valid frames whose Automerge payload must be refused by the session.
  ["sync-data-not-automerge", cbor.encode(sync({ data: Uint8Array.from([1, 2, 3]) })), "session:Malformed"],
  ["sync-fake-change-chunk", cbor.encode(sync({ data: syncCarrying(fakeChunk) })), "session:MalformedChanges"],
  ["sync-non-chunk-bytes", cbor.encode(sync({ data: syncCarrying(Uint8Array.from([104, 101, 108, 108, 111])) })), "session:MalformedChanges"],
]

fs.mkdirSync(outDir, { recursive: true })
const expected = {}
for (const [name, bytes, error] of cases) {
  fs.writeFileSync(path.join(outDir, `${name}.cbor`), bytes)
  expected[`${name}.cbor`] = error
}
fs.writeFileSync(path.join(outDir, "expected.json"), JSON.stringify(expected, null, 2) + "\n")
console.log(`wrote ${cases.length} broken frames to ${outDir}`)
