#!/usr/bin/env node
// Starts the Azurite Blob service in memory on 127.0.0.1 with the flags recs
// needs, and stops it when our stdin closes (the test binary or script that
// started us exited) or on SIGTERM/SIGINT. Azurite's own ready line passes
// through on stdout:
//   Azurite Blob service successfully listens on http://127.0.0.1:PORT
// --skipApiVersionCheck: azblob v1.8.x sends an API version newer than
// Azurite 3.35.0 knows.
// Usage: node azurite.js [PORT]   (PORT 0 or absent: any free port)
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const pkg = require.resolve("azurite/package.json");
const main = path.join(path.dirname(pkg), require(pkg).bin["azurite-blob"]);
const port = process.argv[2] || "0";
const child = spawn(process.execPath, [main,
  "--blobHost", "127.0.0.1", "--blobPort", port,
  "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
], { stdio: ["ignore", "inherit", "inherit"] });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill("SIGTERM");
  setTimeout(() => { child.kill("SIGKILL"); process.exit(1); }, 5000).unref();
};
child.on("exit", (code, signal) => process.exit(stopping ? 0 : (code === null ? 1 : code)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
