#!/usr/bin/env node
// Third-party checks of showpos payment requests, run by the Go tests in
// terminal/request (they skip when node or node_modules is missing, unless
// SHOWPOS_REQUIRE_JS=1). Install with: npm ci --prefix tools/js
//
//   node check.js uri '<EIP-681 URI>'
//       Parses the URI with eth-url-parser and prints its result as JSON.
//       Amounts are printed as eth-url-parser returns them (it may use
//       exponent form for large values, e.g. "1.2345e+29").
//
//   node check.js verify < document.json
//       Verifies the document's EIP-712 signature with ethers v6
//       verifyTypedData(domain, types without EIP712Domain, message, signature)
//       and prints {"signer": "0x…"}.
//
//   node check.js offers < document.json
//       Verifies a multi-network document's signature as verify does, and
//       prints {"signer", "signed": [{chainId, token}] (the options the
//       typed data signs), "offered": [{chainId, token, uriChainId,
//       uriToken}] (the document's "options", each uri read by
//       eth-url-parser: its chain id and target address)}. Chain ids are
//       decimal strings, addresses EIP-55 (ethers' getAddress).
'use strict';

const fs = require('fs');

function fail(msg) {
  process.stderr.write(msg + '\n');
  process.exit(1);
}

function checkURI(uri) {
  const { parse } = require('eth-url-parser');
  process.stdout.write(JSON.stringify(parse(uri)) + '\n');
}

function verify(docText) {
  const { verifyTypedData } = require('ethers');
  const doc = JSON.parse(docText);
  const td = doc.typedData;
  const types = Object.assign({}, td.types);
  delete types.EIP712Domain; // ethers derives the domain type from the domain
  const signer = verifyTypedData(td.domain, types, td.message, doc.signature);
  process.stdout.write(JSON.stringify({ signer }) + '\n');
}

function offers(docText) {
  const { verifyTypedData, getAddress, ZeroAddress } = require('ethers');
  const { parse } = require('eth-url-parser');
  const doc = JSON.parse(docText);
  const td = doc.typedData;
  const types = Object.assign({}, td.types);
  delete types.EIP712Domain;
  const signer = verifyTypedData(td.domain, types, td.message, doc.signature);
  const signed = (td.message.options || []).map((o) => ({
    chainId: BigInt(o.chainId).toString(),
    token: getAddress(o.token),
  }));
  const offered = (doc.options || []).map((o) => {
    const uri = parse(o.uri);
    return {
      chainId: String(o.chainId),
      token: o.token === undefined ? ZeroAddress : getAddress(o.token),
      uriChainId: String(uri.chain_id),
      uriToken: getAddress(uri.target_address),
    };
  });
  process.stdout.write(JSON.stringify({ signer, signed, offered }) + '\n');
}

const [mode, arg] = process.argv.slice(2);
try {
  switch (mode) {
    case 'uri':
      if (!arg) fail('usage: check.js uri <uri>');
      checkURI(arg);
      break;
    case 'verify':
      verify(fs.readFileSync(0, 'utf8'));
      break;
    case 'offers':
      offers(fs.readFileSync(0, 'utf8'));
      break;
    default:
      fail('usage: check.js uri <uri> | check.js verify < document.json | check.js offers < document.json');
  }
} catch (e) {
  fail(String(e && e.stack || e));
}
