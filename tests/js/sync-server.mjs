// The reference JavaScript sync server for the load benchmark: @automerge/automerge-repo with
// its WebSocket server adapter and NodeFS storage, as the automerge-repo sync server runs.
// Prints {"ready": true, "port": P} once listening.
//
//   node sync-server.mjs STORAGE_DIR PORT
import { Repo } from '@automerge/automerge-repo';
import { NodeWSServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { WebSocketServer } from 'ws';

const [dir, port] = process.argv.slice(2);
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port) });
// eslint-disable-next-line no-unused-vars
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: `js-sync-server-${process.pid}`,
  // A sync server does not announce documents; it answers for what peers send and ask.
  sharePolicy: async () => false,
});
// The adapter takes connections only once the repo has read its storage id: a connection
// accepted before that is dropped. Ready means listening and taking connections.
// (The adapter's own whenReady waits for a first connection, so its listener is looked for.)
await new Promise((resolve) => wss.on('listening', resolve));
while (wss.listenerCount('connection') === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log(JSON.stringify({ ready: true, port: wss.address().port }));
