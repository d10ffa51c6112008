#!/usr/bin/env node
// Starts @vercel/cosmosdb-server over plain HTTP with keep-alive on
// 127.0.0.1 (its CLI answers "Connection: close" on every response and its
// bundled TLS certificate has expired). Prints one ready line:
//   cosmosdb-server listening on http://127.0.0.1:PORT
// Usage: node cosmos.js [PORT]   (PORT 0 or absent: any free port)
"use strict";
const { createHttpServer } = require("@vercel/cosmosdb-server");

const port = parseInt(process.argv[2] || "0", 10);
const server = createHttpServer({ keepAlive: true });
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.listen(port, "127.0.0.1", () => {
  const addr = server.address();
  process.stdout.write(`cosmosdb-server listening on http://127.0.0.1:${addr.port}\n`);
});
// Stop cleanly when the parent closes our stdin or sends a signal, so no
// emulator outlives the test binary that started it.
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
