// A tablet app as people build it: @automerge/automerge-repo with its WebSocket adapter.
// Driven by Fieldsync's end-to-end tests; prints one JSON line with what it saw.
//
//   node tablet.mjs <ws-url> <token> <index-url> [forbidden-document-url]
//
// It opens the technician's index document, opens the first job listed there, records a
// permission in the visit (as a technician's app would), waits until the server has it, and
// tries to open a document it must not see. It stays connected until its stdin closes.
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [url, token, indexUrl, forbiddenUrl] = process.argv.slice(2)
const result = {}
const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))

const adapter = new WebSocketClientAdapter(`${url}?token=${encodeURIComponent(token)}`)
const repo = new Repo({ network: [adapter] })

try {
  const index = await Promise.race([repo.find(indexUrl), timeout(10000, "index document")])
  const jobIds = Object.keys(index.doc().jobs ?? {})
  result.index_jobs = jobIds
  const job = await Promise.race([repo.find(`automerge:${jobIds[0]}`), timeout(10000, "job document")])
  result.customer = job.doc().customer.name
  job.change(d => {
    d.visit.permissions.push({
      item: "客厅地板",
      granted_by: "王秀英",
      at: new Date(),
      recorded_by: "js-tablet",
    })
  })
  result.heads = job.heads()
  result.edited = true
  if (forbiddenUrl) {
    try {
      await Promise.race([repo.find(forbiddenUrl), timeout(10000, "forbidden document")])
      result.forbidden = "opened"
    } catch (e) {
      result.forbidden = String(e.message).includes("unavailable") ? "unavailable" : `error: ${e.message}`
    }
  }
} catch (e) {
  result.error = String(e && e.message ? e.message : e)
}
console.log(JSON.stringify(result))
// Stay connected, so the edit reaches the server, until the test closes our stdin.
process.stdin.resume()
process.stdin.on("end", () => process.exit(0))
