// Checks in JS the frames our Rust encoder wrote (tests/fixtures/wire/rust, refreshed by
// `UPDATE_WIRE_FIXTURES=1 cargo test -p sync-protocol --test wire_rust_fixtures`):
// - automerge-repo's own CBOR decoder reads each frame to exactly the value in manifest.json;
// - the Repo accepts the per-document ones as repo messages;
// - sync payloads are Automerge sync messages, and the sync one delivers the job to an empty doc;
// - our `join` frame, sent to a real WebSocketServerAdapter, gets a `peer` answer.
//
// Usage: node check.mjs <dir>; exits non-zero on the first mismatch.

import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { WebSocketServer, WebSocket } from "ws"
import * as A from "@automerge/automerge"
import { Repo, cbor, isRepoMessage } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { toJson } from "./json.mjs"

const dir = process.argv[2]
if (!dir) {
  console.error("usage: node check.mjs <dir>")
  process.exit(2)
}

const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"))
let passed = 0
for (const { file, message: expected } of manifest) {
  const frame = fs.readFileSync(path.join(dir, file))
  const decoded = cbor.decode(frame)
  assert.deepEqual(toJson(decoded), expected, `${file} decodes to the manifest value`)
  if (!["join", "peer", "error"].includes(decoded.type)) {
    assert.ok(isRepoMessage(decoded), `${file} is a repo message`)
  }
  if (decoded.type === "sync" || decoded.type === "request") {
    A.decodeSyncMessage(decoded.data)
  }
  if (decoded.type === "sync") {
    const [doc] = A.receiveSyncMessage(A.init(), A.initSyncState(), decoded.data)
    assert.equal(String(doc.customer), "Acme", `${file} delivers the job`)
  }
  passed += 1
}

// Our join against the real server adapter.
const join = manifest.find(e => e.message.type === "join")
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
await new Promise(r => wss.on("listening", r))
const server = new Repo({ network: [new WebSocketServerAdapter(wss)], peerId: "js-server" })
const socket = new WebSocket(`ws://127.0.0.1:${wss.address().port}`)
await new Promise(r => socket.on("open", r))
const answer = new Promise(r => socket.once("message", data => r(cbor.decode(data))))
socket.send(fs.readFileSync(path.join(dir, join.file)))
const peer = await answer
assert.equal(peer.type, "peer")
assert.equal(peer.targetId, join.message.senderId)
assert.equal(peer.selectedProtocolVersion, "1")
passed += 1
socket.close()
await server.shutdown()
wss.close()

console.log(`${passed} passed, 0 failed`)
process.exit(0)
