// Shared by the case scripts: the namespace and key from the environment, a bounded run, and
// one JSON result on stdout. The scripts drive Microsoft's clients (hyco-ws, hyco-https)
// unchanged; anything they need beyond the clients' API is done here, in the test.
'use strict';

const crypto = require('crypto');

const env = {
  ns: process.env.HYCO_NS,
  entity: process.env.HYCO_ENTITY || 'hc1',
  keyName: process.env.HYCO_KEY_NAME,
  key: process.env.HYCO_KEY,
  // Every case ends by then at the latest, with what it saw so far.
  limitMs: Number(process.env.HYCO_LIMIT_MS || 30000),
};

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

// A case that has not finished in time reports what it saw, as a failure the test names.
function bounded(name, state) {
  setTimeout(() => done(Object.assign({ case: name, timedOut: true }, state)), env.limitMs).unref();
}

function sha(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// Deterministic bytes of a given length (a pattern that is not all one byte).
function bytes(length, seed) {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return buf;
}

function text(length, seed) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 éü€';
  let out = '';
  for (let i = 0; out.length < length; i++) out += alphabet[(i * 7 + seed) % alphabet.length];
  return out.slice(0, length);
}

// A line on stdout as the case goes (for the test to wait on), before the final result.
function event(name, details) {
  process.stdout.write(JSON.stringify(Object.assign({ event: name }, details || {})) + '\n');
}

module.exports = { env, done, bounded, sha, bytes, text, event };
