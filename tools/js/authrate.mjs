#!/usr/bin/env node
// The peer of showpos's authorization check, for tools/posbench: ethers v6
// reading x402 "exact" payment payloads and recovering the EIP-3009
// authorizer with verifyTypedData, as a JavaScript facilitator or
// terminal would, on Node's one JavaScript thread.
//
//   node tools/js/authrate.mjs FILE [SECONDS]
//
// FILE holds x402 v2 PaymentPayloads, one JSON document a line. Each is
// parsed (JSON.parse) and its signer recovered over the token's domain
// (accepted.extra name and version, the chain id of accepted.network,
// accepted.asset as verifyingContract) once (the JIT warms up, and the
// signers are printed so posbench can check they are the authorizations'
// from), then the whole set again and again for SECONDS (default 2), each
// time from the JSON text. Prints one JSON line:
// {"count","seconds","perSecond","signers","node","ethers"}.
// Install with: npm ci --prefix tools/js
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { verifyTypedData, version } from 'ethers';

function fail(msg) {
  process.stderr.write(`authrate: ${msg}\n`);
  process.exit(2);
}

const [file, secondsArg] = process.argv.slice(2);
if (!file) fail('usage: node authrate.mjs FILE [SECONDS]');
const seconds = secondsArg === undefined ? 2 : Number(secondsArg);
if (!(seconds > 0)) fail(`bad SECONDS ${secondsArg}`);

const lines = readFileSync(file, 'utf8').split('\n').map((s) => s.trim()).filter((s) => s !== '');
if (lines.length === 0) fail(`no payloads in ${file}`);

// EIP-3009's TransferWithAuthorization, as FiatToken hashes it.
const types = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

function signer(line) {
  const p = JSON.parse(line);
  const acc = p.accepted;
  const m = /^eip155:(\d+)$/.exec(acc.network);
  if (!m) fail(`network ${acc.network}`);
  const domain = { name: acc.extra.name, version: acc.extra.version, chainId: BigInt(m[1]), verifyingContract: acc.asset };
  return verifyTypedData(domain, types, p.payload.authorization, p.payload.signature);
}

const signers = lines.map(signer);

let count = 0;
const budget = seconds * 1000;
const start = performance.now();
let now = start;
while (now - start < budget) {
  for (const line of lines) {
    signer(line);
    count++;
    if ((count & 31) === 0 && (now = performance.now()) - start >= budget) break;
  }
  now = performance.now();
}
const took = (now - start) / 1000;
process.stdout.write(JSON.stringify({
  count, seconds: took, perSecond: count / took, signers, node: process.version, ethers: version,
}) + '\n');
