#!/usr/bin/env node
// The peer of showpos's transaction check, for tools/posbench: ethers v6
// parsing signed transactions and recovering their senders, as a payer
// app or a JavaScript terminal would, on Node's one JavaScript thread.
//
//   node tools/js/checkrate.mjs FILE [SECONDS]
//
// FILE holds raw signed transactions, one 0x-hex string a line. Each is
// parsed and its sender recovered once (the JIT warms up, and the senders
// are printed so posbench can check they match its own), then the whole
// set again and again for SECONDS (default 2), each time from the raw hex
// with a fresh Transaction: Transaction.from(raw), then .from. Prints one
// JSON line: {"count","seconds","perSecond","senders","node","ethers"}.
// Install with: npm ci --prefix tools/js
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Transaction, version } from 'ethers';

function fail(msg) {
  process.stderr.write(`checkrate: ${msg}\n`);
  process.exit(2);
}

const [file, secondsArg] = process.argv.slice(2);
if (!file) fail('usage: node checkrate.mjs FILE [SECONDS]');
const seconds = secondsArg === undefined ? 2 : Number(secondsArg);
if (!(seconds > 0)) fail(`bad SECONDS ${secondsArg}`);

const raws = readFileSync(file, 'utf8').split('\n').map((s) => s.trim()).filter((s) => s !== '');
if (raws.length === 0) fail(`no transactions in ${file}`);

function sender(raw) {
  const from = Transaction.from(raw).from;
  if (from === null) fail(`unsigned transaction ${raw.slice(0, 20)}…`);
  return from;
}

const senders = raws.map(sender);

let count = 0;
const budget = seconds * 1000;
const start = performance.now();
let now = start;
while (now - start < budget) {
  for (const raw of raws) {
    sender(raw);
    count++;
    if ((count & 31) === 0 && (now = performance.now()) - start >= budget) break;
  }
  now = performance.now();
}
const took = (now - start) / 1000;
process.stdout.write(JSON.stringify({
  count, seconds: took, perSecond: count / took, senders, node: process.version, ethers: version,
}) + '\n');
