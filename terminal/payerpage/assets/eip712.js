// EIP-712 hashing of typed data in the form eth_signTypedData_v4 takes
// ({types, primaryType, domain, message}), with keccak-256 from the
// vendored @noble/hashes. It covers the Solidity types EIP-712 allows:
// atomic (address, bool, bytesN, intN, uintN), dynamic (string, bytes),
// structs and arrays of them. The payer page's tests check its digest
// against ethers v6's TypedDataEncoder in the same browser.
import { keccak_256 } from './vendor/hashes/sha3.js';

const enc = new TextEncoder();

export function hexToBytes(hex) {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex: ' + hex);
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 + 2 * i, 2), 16);
  return out;
}

export function bytesToHex(b) {
  return '0x' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function word(n) { // a BigInt in 0..2^256-1 as 32 bytes
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}

function deps(types, name, found = new Set()) {
  const base = name.replace(/\[\d*\]$/, '');
  if (found.has(base) || !types[base]) return found;
  found.add(base);
  for (const f of types[base]) deps(types, f.type, found);
  return found;
}

export function encodeType(types, name) {
  const [primary, ...rest] = [...deps(types, name)];
  return [primary, ...rest.sort()].map((t) => t + '(' + types[t].map((f) => f.type + ' ' + f.name).join(',') + ')').join('');
}

function typeHash(types, name) { return keccak_256(enc.encode(encodeType(types, name))); }

function encodeValue(types, type, value) {
  const arr = type.match(/^(.*)\[(\d*)\]$/);
  if (arr) {
    if (!Array.isArray(value) || (arr[2] !== '' && value.length !== Number(arr[2]))) throw new Error('bad array for ' + type);
    return keccak_256(concat(value.map((v) => encodeValue(types, arr[1], v))));
  }
  if (types[type]) return hashStruct(types, type, value);
  if (type === 'string') return keccak_256(enc.encode(String(value)));
  if (type === 'bytes') return keccak_256(hexToBytes(value));
  if (type === 'bool') return word(value === true || value === 'true' ? 1n : 0n);
  if (type === 'address') {
    const b = hexToBytes(value);
    if (b.length !== 20) throw new Error('bad address ' + value);
    return word(BigInt(value));
  }
  let m = type.match(/^bytes(\d+)$/);
  if (m) {
    const b = hexToBytes(value);
    if (b.length !== Number(m[1])) throw new Error('bad ' + type);
    const out = new Uint8Array(32); out.set(b); return out;
  }
  m = type.match(/^(u?)int(\d+)$/);
  if (m) {
    const bits = BigInt(m[2]);
    const n = BigInt(value);
    if (m[1] === 'u') {
      if (n < 0n || n >= 1n << bits) throw new Error(type + ' out of range');
      return word(n);
    }
    if (n < -(1n << (bits - 1n)) || n >= 1n << (bits - 1n)) throw new Error(type + ' out of range');
    return word(BigInt.asUintN(256, n));
  }
  throw new Error('unknown type ' + type);
}

export function hashStruct(types, name, data) {
  const fields = types[name];
  return keccak_256(concat([typeHash(types, name), ...fields.map((f) => {
    if (data[f.name] === undefined) throw new Error('missing ' + name + '.' + f.name);
    return encodeValue(types, f.type, data[f.name]);
  })]));
}

// digest is keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(message)):
// what the signer signed.
export function digest(td) {
  return keccak_256(concat([
    new Uint8Array([0x19, 0x01]),
    hashStruct(td.types, 'EIP712Domain', td.domain),
    hashStruct(td.types, td.primaryType, td.message),
  ]));
}

// address is the Ethereum address of an uncompressed secp256k1 public key
// (65 bytes, 0x04 first): the last 20 bytes of its keccak-256.
export function address(pub) {
  return bytesToHex(keccak_256(pub.subarray(1)).subarray(12));
}

// checksum writes a 20-byte hex address in EIP-55 mixed case: a letter is
// upper case where the keccak-256 of the lower-case hex has a nibble of 8
// or more at its place (how the terminal writes addresses in its EIP-681
// URIs).
export function checksum(addr) {
  if (typeof addr !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(addr)) throw new Error('not an address: ' + addr);
  const lower = addr.slice(2).toLowerCase();
  const h = keccak_256(enc.encode(lower));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? h[i >> 1] >> 4 : h[i >> 1] & 0xf;
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}
