// Verifies webhook deliveries with the official Standard Webhooks library, as a receiver would.
// Reads {"secret": "whsec_…", "deliveries": [{"headers": {…}, "body": "…"}, …]} from the file
// named on the command line (or stdin) and prints one JSON line:
// {"results": [{"verified": true, "type": "…"} | {"verified": false, "error": "…"}, …]}.
//
//   node verify-webhook.mjs deliveries.json
import { readFileSync } from "node:fs"
import { Webhook } from "standardwebhooks"

const [file] = process.argv.slice(2)
let input = ""
if (file) {
  input = readFileSync(file, "utf8")
} else {
  for await (const chunk of process.stdin) input += chunk
}
const { secret, deliveries } = JSON.parse(input)
const webhook = new Webhook(secret)
const results = deliveries.map(({ headers, body }) => {
  try {
    // Checks the signature and that the timestamp is within five minutes of now.
    const payload = webhook.verify(body, headers)
    return { verified: true, type: payload.type ?? null }
  } catch (error) {
    return { verified: false, error: String(error.message || error) }
  }
})
console.log(JSON.stringify({ results }))
