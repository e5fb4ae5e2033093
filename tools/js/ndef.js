// ndef.js: the independent NDEF check for terminal/nfcpay's tests. It reads
// an NDEF message as hex on stdin, decodes it with the npm `ndef` package
// (pinned in package.json), and prints JSON: each record's TNF, type, and
// URI (for a well-known "U" record), whether re-encoding the decoded
// records gives the same bytes, and what `ndef.uriRecord(uri)` encodes for
// the URIs, as one message of a record each (its own choice of prefix
// code, flags and lengths), when every record is a URI record.
'use strict';
const ndef = require('ndef');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const bytes = Buffer.from(input.trim(), 'hex');
  const records = ndef.decodeMessage(bytes);
  const out = records.map((r) => {
    const type = Buffer.from(r.type).toString('latin1');
    const rec = { tnf: r.tnf, type, payload: Buffer.from(r.payload).toString('hex') };
    if (r.tnf === ndef.TNF_WELL_KNOWN && type === 'U') {
      rec.uri = ndef.uri.decodePayload(r.payload);
    }
    return rec;
  });
  const reencoded = Buffer.from(ndef.encodeMessage(records)).toString('hex');
  let ownEncoding = '';
  if (out.length > 0 && out.every((r) => r.uri !== undefined)) {
    ownEncoding = Buffer.from(ndef.encodeMessage(out.map((r) => ndef.uriRecord(r.uri)))).toString('hex');
  }
  process.stdout.write(JSON.stringify({
    records: out,
    reencodedSame: reencoded === bytes.toString('hex'),
    ownEncoding,
  }) + '\n');
});
