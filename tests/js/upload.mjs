// A tablet uploading evidence as existing apps do: tus-js-client 4 (tus 1.0.0), interrupted at a
// chosen byte and resumed from where the server says it is. Prints one JSON line.
//
//   node upload.mjs <endpoint> <token> <file> <metadata-json> [cut-at-bytes]
import { readFileSync } from "node:fs"
import * as tus from "tus-js-client"

const [endpoint, token, file, metadataJson, cutAtText] = process.argv.slice(2)
const data = readFileSync(file)
const metadata = JSON.parse(metadataJson)
const cutAt = cutAtText ? Number(cutAtText) : null
const result = { size: data.length, attempts: 0 }

function attempt(uploadUrl) {
  return new Promise(resolve => {
    result.attempts += 1
    let cut = false
    const upload = new tus.Upload(data, {
      endpoint,
      uploadUrl,
      headers: { Authorization: `Bearer ${token}` },
      metadata,
      chunkSize: 256 * 1024,
      retryDelays: null,
      removeFingerprintOnSuccess: true,
      onProgress(sent) {
        if (cutAt !== null && !uploadUrl && !cut && sent >= cutAt) {
          cut = true
          result.cut_at = sent
          upload.abort(false).then(() => resolve({ aborted: true, url: upload.url }))
        }
      },
      onError(error) {
        resolve({ error: String(error.message || error), status: error.originalResponse?.getStatus?.() ?? null,
                  body: error.originalResponse?.getBody?.() ?? null })
      },
      onSuccess() {
        resolve({ done: true, url: upload.url })
      },
    })
    upload.start()
  })
}

let outcome = await attempt(null)
if (outcome.aborted) {
  outcome = await attempt(outcome.url)
}
Object.assign(result, outcome)
console.log(JSON.stringify(result))
