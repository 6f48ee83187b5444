// Captures real automerge-repo network frames as golden fixtures for sync-protocol's wire tests.
//
// Two real Repos (a "server" behind WebSocketServerAdapter and a "tablet" with
// WebSocketClientAdapter) talk over a WebSocket on 127.0.0.1; every binary frame in either
// direction is recorded. A few message types that a plain two-repo session never sends (a
// protocol error, remote-heads gossip, leave) are produced by the adapter's real server code or
// by automerge-repo's own CBOR helper with the exact object shapes the library builds.
//
// Usage: node capture.mjs <output dir>
// Writes <NN>-<type>.cbor files and manifest.json (the decoded value of each frame, with byte
// strings as {"$bytes": "<hex>"} and undefined as {"$undefined": true}).

import fs from "node:fs"
import path from "node:path"
import { WebSocketServer, WebSocket } from "ws"
import { Repo, cbor } from "@automerge/automerge-repo"
import {
  WebSocketClientAdapter,
  WebSocketServerAdapter,
} from "@automerge/automerge-repo-network-websocket"
import { toJson } from "./json.mjs"

const outDir = process.argv[2]
if (!outDir) {
  console.error("usage: node capture.mjs <output dir>")
  process.exit(2)
}

const frames = []
const record = (origin, bytes) => {
  const buf = Buffer.from(bytes)
  frames.push({ origin, bytes: buf, message: cbor.decode(buf) })
}

const waitFor = async (what, predicate, timeoutMs = 10000) => {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}
const seen = type => frames.some(f => f.message.type === type)
const quiet = async () => {
  // Wait until no frame has been recorded for a while: the sync exchange has settled.
  let count = -1
  while (count !== frames.length) {
    count = frames.length
    await new Promise(r => setTimeout(r, 400))
  }
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
await new Promise(r => wss.on("listening", r))
wss.on("connection", socket => {
  socket.on("message", data => record("client", data))
  const send = socket.send.bind(socket)
  socket.send = (data, ...rest) => {
    record("server", data)
    return send(data, ...rest)
  }
})
const url = `ws://127.0.0.1:${wss.address().port}`

const server = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  peerId: "server-peer",
  sharePolicy: async () => false,
})
const tablet = new Repo({
  network: [new WebSocketClientAdapter(url, 0)],
  peerId: "tablet-peer",
})

// Handshake: join, peer.
await waitFor("peer", () => seen("peer"))

// The tablet asks for a document the server has: request, then sync both ways.
const job = server.create({ customer: "Acme", visits: [] })
const handle = await tablet.find(job.url)
await quiet()

// The tablet edits: sync carrying a change, and the server's acknowledgement.
handle.change(d => {
  d.visits.push({ arrivedAt: "2025-06-01T08:00:00Z" })
})
await quiet()

// Presence: an ephemeral message.
handle.broadcast({ cursor: 3 })
await waitFor("ephemeral", () => seen("ephemeral"))

// A document nobody has: request, then doc-unavailable.
// A fixed id (bs58check of UUID 6f0d1c52-0b8e-4d8e-9a0c-0d6a4f1e2b3c) so reruns stay comparable.
const missing = "automerge:2YjYe5Udrjqzx5nTf6VedykMEQGr"
await tablet.find(missing).catch(() => undefined)
await waitFor("doc-unavailable", () => seen("doc-unavailable"))
await quiet()

// A peer offering only an unknown protocol version: the real server adapter answers `error`.
const raw = new WebSocket(url)
await new Promise(r => raw.on("open", r))
const rawClosed = new Promise(r => raw.on("close", r))
raw.send(
  cbor.encode({
    type: "join",
    senderId: "future-peer",
    peerMetadata: { storageId: undefined, isEphemeral: true },
    supportedProtocolVersions: ["2"],
  })
)
await waitFor("error", () => seen("error"))
await rawClosed

// Gossip and leave, in the shapes Repo.ts and the protocol README give them.
record(
  "helper",
  cbor.encode({
    type: "remote-heads-changed",
    targetId: "tablet-peer",
    documentId: job.documentId,
    newHeads: {
      "storage-a": { heads: handle.heads(), timestamp: 1748764800123 },
    },
    senderId: "server-peer",
  })
)
record(
  "helper",
  cbor.encode({
    type: "remote-subscription-change",
    targetId: "server-peer",
    add: ["storage-a"],
    remove: [],
    senderId: "tablet-peer",
  })
)
record("helper", cbor.encode({ type: "leave", senderId: "tablet-peer" }))

await tablet.shutdown()
await server.shutdown()
wss.close()

fs.mkdirSync(outDir, { recursive: true })
for (const f of fs.readdirSync(outDir)) {
  if (f.endsWith(".cbor") || f === "manifest.json") fs.unlinkSync(path.join(outDir, f))
}
const manifest = frames.map((f, i) => {
  const file = `${String(i).padStart(2, "0")}-${f.message.type}.cbor`
  fs.writeFileSync(path.join(outDir, file), f.bytes)
  return { file, origin: f.origin, message: toJson(f.message) }
})
fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n")
console.log(`wrote ${frames.length} frames to ${outDir}`)
process.exit(0)
