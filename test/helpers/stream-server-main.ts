// The child side of stream-server-process.ts: serves startStreamServer(options from argv[2]) until told to close.
import { startStreamServer } from './stream-server.ts';

const server = await startStreamServer(JSON.parse(process.argv[2]!));
process.send!({ url: server.url });
process.on('message', (m: { records?: number; close?: boolean }) => {
  if (m.records !== undefined) process.send!({ id: m.records, records: server.records });
  if (m.close) void server.close().then(() => process.exit(0));
});
// The parent went away without closing: do not outlive it.
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
