#!/usr/bin/env node
// Signs EIP-712 typed data with ethers v6, as a wallet's eth_signTypedData_v4
// would: the independent signer of tools/devchain's EIP-3009 tests. Install
// with: npm ci --prefix tools/js
//
//   node sign3009.mjs < request.json
//
// request.json: {"privateKey": "0x…", "domain": {…}, "types": {…},
// "message": {…}}; types may include EIP712Domain (it is dropped: ethers
// derives it from the domain). Prints {"signature": "0x…65 bytes",
// "signer": "0x…", "digest": "0x…"}.
import { readFileSync } from 'node:fs';
import { TypedDataEncoder, Wallet } from 'ethers';

try {
  const req = JSON.parse(readFileSync(0, 'utf8'));
  const types = { ...req.types };
  delete types.EIP712Domain;
  const wallet = new Wallet(req.privateKey);
  const signature = await wallet.signTypedData(req.domain, types, req.message);
  const digest = TypedDataEncoder.hash(req.domain, types, req.message);
  process.stdout.write(JSON.stringify({ signature, signer: wallet.address, digest }) + '\n');
} catch (e) {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
}
