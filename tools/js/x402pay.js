#!/usr/bin/env node
// Payer-side x402 payment payloads for terminal/check's tests: an EIP-3009
// transferWithAuthorization signed by libraries independent of the
// terminal's Go code. Reads one JSON object on stdin, prints the payment
// payload (JSON) on stdout. Nothing here touches the network.
//
//   node x402pay.js x402 < {"privateKey", "paymentRequired"}
//       @x402/evm's exact client (registered on an @x402/core x402Client,
//       with a viem account) makes the payload for the PaymentRequired
//       response given (x402Version 1 or 2, its accepts list), as an x402
//       client answering a 402 would.
//
//   node x402pay.js ethers < {"privateKey", "requirements"}
//       ethers v6 Wallet.signTypedData signs a TransferWithAuthorization
//       for v2 requirements {network "eip155:<id>", amount, asset, payTo,
//       maxTimeoutSeconds, extra {name, version}} and the script wraps it
//       as an x402 v2 payload: validAfter "0", validBefore now +
//       maxTimeoutSeconds, a random 32-byte nonce.
'use strict';

const fs = require('fs');

async function viaX402(input) {
  const { x402Client } = require('@x402/core/client');
  const { registerExactEvmScheme } = require('@x402/evm/exact/client');
  const { privateKeyToAccount } = require('viem/accounts');
  const client = new x402Client();
  // The test token is no default asset of @x402/evm: let the client's
  // spend controls take it (the payer's spending policy is not what the
  // terminal's tests check).
  client.setSpendControls({ allowedAssets: true });
  registerExactEvmScheme(client, { signer: privateKeyToAccount(input.privateKey) });
  return client.createPaymentPayload(input.paymentRequired);
}

async function viaEthers(input) {
  const { Wallet, getAddress, hexlify, randomBytes } = require('ethers');
  const req = input.requirements;
  const wallet = new Wallet(input.privateKey);
  const chainId = BigInt(req.network.replace(/^eip155:/, ''));
  const now = Math.floor(Date.now() / 1000);
  const authorization = {
    from: wallet.address,
    to: getAddress(req.payTo),
    value: req.amount,
    validAfter: '0',
    validBefore: String(now + req.maxTimeoutSeconds),
    nonce: hexlify(randomBytes(32)),
  };
  const domain = { name: req.extra.name, version: req.extra.version, chainId, verifyingContract: getAddress(req.asset) };
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
  const signature = await wallet.signTypedData(domain, types, authorization);
  return { x402Version: 2, accepted: req, payload: { signature, authorization } };
}

async function main() {
  const [mode] = process.argv.slice(2);
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  let out;
  switch (mode) {
    case 'x402': out = await viaX402(input); break;
    case 'ethers': out = await viaEthers(input); break;
    default: throw new Error('usage: node x402pay.js x402|ethers < input.json');
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
