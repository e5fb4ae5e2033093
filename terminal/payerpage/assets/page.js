// The payer page's script. It trusts nothing the terminal says about its
// own signature: it hashes the request's EIP-712 typed data and recovers
// the signer here, and shows and pays only the signed message's terms.
// Every text goes on the page through textContent, never as markup.
import * as secp from './vendor/secp256k1/index.js';
import { digest, address, hexToBytes, bytesToHex, checksum } from './eip712.js';

const API = '/api/showpos/';
const $ = (id) => document.getElementById(id);
const text = (id, t) => { $(id).textContent = t; };

const pathID = decodeURIComponent(location.pathname.replace(/^\/pay\/?/, ''));
let doc = null;       // the request as served
let primary = null;   // the signed terms on the request's own network, with every signed option (networks)
let terms = null;     // the signed terms on the chosen network: {id, merchant, token, asset, decimals, amount, memo, expiresAt, chainId}
let choice = 0;       // the network the payer chose: an index into primary.options (0: the request's own)
let verified = false; // the signature recovers to the request's signer
let offer = null;     // the x402 requirements, checked against the signed terms: sign to pay is offered
let walletURI = '';   // the chosen network's EIP-681 URI, once it is the one the signed terms give: Open in wallet app
let walletRefusal = ''; // why Open in wallet app is not offered, when the URI is not the signed terms'
let watching = false; // the request is followed for a payment the wallet app sends
let phase = 'loading';  // loading, ready, working, accepted, sent, paid, done
const wallets = [];   // EIP-6963 announcements: {name, provider}
let chosen = null;

function state(s, headline, detail = '') {
  $('state').dataset.state = s;
  text('state', headline);
  text('detail', detail);
}

function canPay() {
  return phase === 'ready' && verified && terms && Date.now() < terms.expiresAt && doc.status === 'pending';
}

function refresh() {
  $('pay').disabled = !canPay();
  for (const b of $('networks').children) b.disabled = !canPay();
  $('sign').disabled = !(canPay() && offer);
  // Open in wallet app: a link to the request's EIP-681 URI, which a phone
  // hands to its wallet app. It is navigation, not a fetch, so the page's
  // Content-Security-Policy (nothing loads from anywhere else) does not
  // stop it. First when this browser has no wallet, else the last way.
  const a = $('wallet-app');
  const shown = walletURI !== '' && canPay();
  const none = provider() === null;
  a.hidden = !shown;
  if (shown) a.setAttribute('href', walletURI); else a.removeAttribute('href');
  a.classList.toggle('primary', none);
  let note = walletRefusal;
  if (shown) {
    note = none ? 'No wallet in this browser: Open in wallet app hands the payment to your phone\'s wallet app; ' +
      'or open this page in your wallet app\'s browser.' : '';
    if (offer) {
      note += (note ? ' ' : '') + 'The wallet app pays by a transaction, which it sends itself and pays the gas for; ' +
        'to sign to pay without gas, open this page in a wallet\'s browser.';
    }
  }
  text('wallet-app-note', note);
}

// formatUnits writes base units in whole units, exactly (no floats).
function formatUnits(units, decimals) {
  const s = units.toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  return frac ? whole + '.' + frac : whole;
}

function errText(e) {
  if (e && typeof e === 'object') {
    const code = e.code !== undefined ? ' (' + e.code + ')' : '';
    return String(e.message || e) + code;
  }
  return String(e);
}

// signedTerms reads the terms from the signed typed data, the only source
// the page shows or pays.
function signedTerms(d) {
  const td = d.typedData;
  if (!td || td.primaryType !== 'PaymentRequest' || !td.domain || td.domain.name !== 'showpos') {
    throw new Error('the request is not a showpos PaymentRequest');
  }
  const m = td.message;
  const chainId = BigInt(td.domain.chainId);
  // The networks it may be paid on, the request's own first: the signed
  // options list (options: PaymentOption[]) of a request on several,
  // else its one chain and token.
  let options = [{ chainId, token: String(m.token) }];
  if (m.options !== undefined) {
    if (!Array.isArray(m.options) || m.options.length === 0) throw new Error('the signed options are not a list');
    options = m.options.map((o) => ({ chainId: BigInt(o.chainId), token: String(o.token) }));
    if (options[0].chainId !== chainId || options[0].token.toLowerCase() !== String(m.token).toLowerCase()) {
      throw new Error('the first signed option is not the request\'s own chain and token');
    }
  }
  return {
    options,
    id: String(m.id),
    merchant: String(m.merchant),
    token: String(m.token),
    asset: String(m.asset),
    decimals: Number(m.decimals),
    amount: BigInt(m.amount),
    memo: String(m.memo),
    expiresAt: Number(m.expiresAt) * 1000,
    chainId,
    terminal: String(m.terminalId),
    // A priced request (tip or price in the shop's currency) signs these
    // too; an unpriced one has none of them.
    tip: m.tip !== undefined ? BigInt(m.tip) : 0n,
    fiatCurrency: m.fiatCurrency ? String(m.fiatCurrency) : '',
    fiatAmount: String(m.fiatAmount || ''),
    fiatTip: String(m.fiatTip || ''),
    rate: String(m.rate || ''),
  };
}

// fiatLine is what the signed price says beside the asset amount:
// "= EUR 4.95 (tip EUR 0.45), at 2500.00 EUR per ETH", or for a tip keyed
// in the asset "incl. tip 0.5 TUSD"; '' for neither.
function fiatLine(t) {
  if (t.fiatCurrency) {
    let s = '= ' + t.fiatCurrency + ' ' + t.fiatAmount;
    if (t.fiatTip) s += ' (tip ' + t.fiatCurrency + ' ' + t.fiatTip + ')';
    return s + ', at ' + t.rate + ' ' + t.fiatCurrency + ' per ' + t.asset;
  }
  if (t.tip > 0n) return 'incl. tip ' + formatUnits(t.tip, t.decimals) + ' ' + t.asset;
  return '';
}

// queryEscape escapes s as Go's url.QueryEscape does (the terminal's
// req parameter): every byte but A-Z a-z 0-9 - _ . ~ as %XX, space as +.
function queryEscape(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');
}

// eip681 is the EIP-681 URI the terminal writes for the signed terms
// (terminal/request's URI): ethereum:<merchant>@<chain>?value=<wei> for the
// native coin, ethereum:<token>@<chain>/transfer?address=<merchant>&uint256=<units>
// for a token, addresses in EIP-55 case, then &req=<the request URL> when
// there is one.
function eip681(t, requestURL) {
  const chain = t.chainId.toString();
  let uri = /^0x0{40}$/i.test(t.token)
    ? 'ethereum:' + checksum(t.merchant) + '@' + chain + '?value=' + t.amount.toString()
    : 'ethereum:' + checksum(t.token) + '@' + chain + '/transfer?address=' + checksum(t.merchant) + '&uint256=' + t.amount.toString();
  if (requestURL) uri += '&req=' + queryEscape(requestURL);
  return uri;
}

// served is what the document serves beside the signed option i (not
// signed): its network's name, EIP-681 URI and x402 requirements. The
// request's own network's URI and requirements are the top-level uri and
// x402; another's are in the options list, found by its chain id.
function served(i) {
  const id = primary.options[i].chainId;
  const list = Array.isArray(doc.options) ? doc.options : [];
  const o = list.find((x) => {
    try { return x && typeof x === 'object' && BigInt(x.chainId) === id; } catch (e) { return false; }
  }) || {};
  const name = typeof o.network === 'string' && o.network !== '' ? o.network
    : (i === 0 && typeof doc.network === 'string' && doc.network !== '' ? doc.network : 'chain id ' + id.toString());
  return i === 0 ? { name, uri: doc.uri, x402: doc.x402 } : { name, uri: o.uri, x402: o.x402 };
}

// choose makes network i the one the page pays on: the signed terms
// with that option's chain and token, its x402 requirements and its
// EIP-681 URI, each checked against them as for a request on one network.
function choose(i) {
  choice = i;
  terms = Object.assign({}, primary, { chainId: primary.options[i].chainId, token: primary.options[i].token });
  show();
  offerAuthorization();
  offerWalletApp();
  renderNetworks();
  refresh();
}

// renderNetworks draws a button per signed network when there are
// several (names as the terminal serves them, unsigned: as text), the
// chosen one pressed.
function renderNetworks() {
  const box = $('networks');
  box.replaceChildren();
  box.hidden = primary.options.length < 2;
  if (box.hidden) return;
  primary.options.forEach((o, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = served(i).name;
    b.dataset.chainId = o.chainId.toString();
    b.setAttribute('aria-pressed', String(i === choice));
    b.addEventListener('click', () => { if (canPay() && i !== choice) choose(i); });
    box.append(b);
  });
}

// offerAuthorization offers Sign to pay on the chosen network when its
// x402 requirements agree with the signed terms there.
function offerAuthorization() {
  offer = null;
  $('sign').hidden = true;
  text('pay', 'Pay');
  text('x402', '');
  const x = served(choice).x402;
  if (x === undefined || x === null) return;
  try {
    offer = authorizationOffer(x);
    $('sign').hidden = false;
    text('pay', 'Pay by transaction');
  } catch (e) {
    offer = null;
    text('x402', 'Sign to pay is not offered: the terminal\'s x402 terms disagree with its signed request (' +
      errText(e) + '). Pay by transaction pays the signed terms.');
  }
}

// offerWalletApp takes the chosen network's EIP-681 URI for Open in
// wallet app only when it is, byte for byte, the one the signed terms
// give: the uri beside the typed data is not signed, and a payer's
// wallet app pays whatever it says.
function offerWalletApp() {
  walletURI = '';
  walletRefusal = '';
  try {
    const want = eip681(terms, typeof doc.requestUrl === 'string' ? doc.requestUrl : '');
    const uri = served(choice).uri;
    if (uri === want) {
      walletURI = uri;
      return;
    }
    walletRefusal = 'Open in wallet app is not offered: the request\'s EIP-681 URI is not the one its signed terms give (' + want + ').';
  } catch (e) {
    walletRefusal = 'Open in wallet app is not offered: ' + errText(e);
  }
}

function verify(d) {
  const sig = hexToBytes(d.signature);
  if (sig.length !== 65 || (sig[64] !== 27 && sig[64] !== 28)) throw new Error('signature is not 65 bytes with v 27 or 28');
  const rec = new Uint8Array(65);
  rec[0] = sig[64] - 27;
  rec.set(sig.subarray(0, 64), 1);
  const pub = secp.recoverPublicKey(rec, digest(d.typedData), { prehash: false, isCompressed: false });
  return address(pub);
}

const CERT_KIND = 'showpos-terminal-certificate/1';

function base64(s) {
  const bin = atob(String(s));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// checkCertificate checks the fleet's terminal certificate (terminal/fleet):
// ed25519 over the payload bytes by the fleet key it names, and that it
// names this request's terminal, signer and merchant and has not expired.
// It returns what it says; it throws what is wrong. Whether the fleet key
// is the merchant's is the payer's to know: the page shows it.
async function checkCertificate(cert, signer) {
  const [ed, sha2] = await Promise.all([import('./vendor/ed25519/index.js'), import('./vendor/hashes/sha2.js')]);
  ed.hashes.sha512 = sha2.sha512;
  const payload = base64(cert.payload);
  const sig = base64(cert.signature);
  const c = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  if (c.kind !== CERT_KIND) throw new Error('not a terminal certificate');
  if (!/^[0-9a-f]{64}$/.test(String(c.fleetKey))) throw new Error('no fleet key');
  if (!ed.verify(sig, payload, hexToBytes('0x' + c.fleetKey))) throw new Error('its signature does not verify');
  if (c.terminal !== terms.terminal) throw new Error('it is for terminal ' + c.terminal + ', not ' + terms.terminal);
  if (String(c.signer).toLowerCase() !== signer.toLowerCase()) throw new Error('it vouches for signer ' + c.signer + ', not ' + signer);
  if (String(c.merchant).toLowerCase() !== terms.merchant.toLowerCase()) throw new Error('it names merchant ' + c.merchant + ', not ' + terms.merchant);
  const exp = Date.parse(c.expires);
  if (!(exp > Date.now())) throw new Error('it expired at ' + c.expires);
  return c;
}

function show() {
  text('amount', formatUnits(terms.amount, terms.decimals));
  text('asset', terms.asset);
  const fl = fiatLine(terms);
  text('fiat', fl);
  document.getElementById('fiat').hidden = fl === '';
  text('memo', terms.memo);
  text('to', terms.merchant);
  text('chain', primary.options.length > 1 ? served(choice).name + ' (chain id ' + terms.chainId.toString() + ')'
    : 'chain id ' + terms.chainId.toString());
  text('signer', doc.signer);
  tick();
}

function tick() {
  if (!terms) return;
  const left = Math.max(0, Math.floor((terms.expiresAt - Date.now()) / 1000));
  text('countdown', left > 0 ? Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') : 'expired');
  if (left === 0 && phase === 'ready') {
    phase = 'done';
    state('expired', 'EXPIRED', 'Ask the cashier for a new request.');
  }
  refresh();
}

async function getRequest(id) {
  const r = await fetch(API + 'getPaymentRequest' + (id ? '?id=' + encodeURIComponent(id) : ''),
    { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const body = await r.json();
  if (!r.ok) {
    const e = body && body.error ? body.error : { code: String(r.status), message: '' };
    throw Object.assign(new Error(e.message), { code: e.code, refused: true });
  }
  return body;
}

async function load() {
  try {
    doc = await getRequest(pathID);
  } catch (e) {
    phase = 'done';
    state('error', e.refused ? 'No request: ' + e.code : 'The terminal did not answer', errText(e));
    return;
  }
  try {
    primary = signedTerms(doc);
    terms = primary;
    const signer = verify(doc);
    verified = signer.toLowerCase() === String(doc.signer).toLowerCase() && terms.id === doc.id;
    const sig = $('sig');
    sig.dataset.ok = String(verified);
    text('sig', verified ? 'verifies (EIP-712, checked on this phone)' : 'DOES NOT VERIFY: recovered ' + signer);
  } catch (e) {
    verified = false;
    $('sig').dataset.ok = 'false';
    text('sig', 'DOES NOT VERIFY: ' + errText(e));
  }
  if (!terms) { phase = 'done'; state('error', 'Not a payment request'); return; }
  show();
  if (!verified) { phase = 'done'; state('error', 'Do not pay: the signature does not verify'); return; }
  if (doc.certificate) {
    try {
      const c = await checkCertificate(doc.certificate, doc.signer);
      $('cert').dataset.ok = 'true';
      text('cert', 'certified by fleet key ' + c.fleetKey.slice(0, 8) + '…' + c.fleetKey.slice(-8) +
        ' until ' + c.expires + ' (trust it if that is your merchant\'s fleet key)');
      if (c.merchantName) {
        text('merchant', c.merchantName);
        text('merchant-note', '(named by the fleet certificate)');
      }
    } catch (e) {
      $('cert').dataset.ok = 'false';
      text('cert', 'CERTIFICATE DOES NOT CHECK: ' + errText(e));
      phase = 'done';
      state('error', 'Do not pay: the fleet certificate does not check');
      return;
    }
  }
  if (doc.status !== 'pending') {
    phase = 'done';
    state(doc.status === 'paid' ? 'paid' : 'expired', doc.status.toUpperCase());
    return;
  }
  phase = 'ready';
  choose(0);
  state('ready', 'Ready to pay');
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MAX_TIMEOUT = 31 * 24 * 3600; // the terminal's settle window is at most 30 days

// authorizationOffer checks the request's x402 requirements (not signed by
// the terminal) against the signed terms and returns what the page signs:
// the signed amount, token, merchant and chain, never the unsigned object's
// alone. It throws what disagrees.
function authorizationOffer(x) {
  if (typeof x !== 'object' || Array.isArray(x)) throw new Error('not an object');
  if (x.scheme !== 'exact') throw new Error('scheme ' + String(x.scheme) + ', not exact');
  if (/^0x0{40}$/i.test(terms.token)) throw new Error('the native coin takes no authorization');
  if (x.network !== 'eip155:' + terms.chainId.toString()) {
    throw new Error('network ' + String(x.network) + ', the signed chain is eip155:' + terms.chainId.toString());
  }
  if (typeof x.amount !== 'string' || !/^[0-9]{1,78}$/.test(x.amount) || BigInt(x.amount) !== terms.amount) {
    throw new Error('amount ' + String(x.amount) + ', the signed amount is ' + terms.amount.toString());
  }
  if (typeof x.asset !== 'string' || !ADDRESS.test(x.asset) || x.asset.toLowerCase() !== terms.token.toLowerCase()) {
    throw new Error('asset ' + String(x.asset) + ', the signed token is ' + terms.token);
  }
  if (typeof x.payTo !== 'string' || !ADDRESS.test(x.payTo) || x.payTo.toLowerCase() !== terms.merchant.toLowerCase()) {
    throw new Error('payTo ' + String(x.payTo) + ', the signed merchant is ' + terms.merchant);
  }
  const timeout = x.maxTimeoutSeconds;
  if (!Number.isSafeInteger(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT) {
    throw new Error('maxTimeoutSeconds ' + String(timeout));
  }
  const extra = x.extra;
  if (!extra || typeof extra.name !== 'string' || typeof extra.version !== 'string' || !extra.name || !extra.version) {
    throw new Error('no token domain (extra.name, extra.version)');
  }
  return { requirements: x, timeout, name: extra.name, version: extra.version };
}

// authorizationTypedData is the EIP-3009 TransferWithAuthorization the
// payer signs, from the signed terms: the token's domain (its name and
// version from the requirements; a wrong one only makes a signature the
// token and the terminal refuse), the signed token as verifyingContract
// and the signed chain; value the signed amount to the signed merchant.
// validAfter is 10 minutes back and validBefore now + maxTimeoutSeconds,
// as x402 clients sign them (the slack covers a phone clock off the
// terminal's); the nonce is 32 random bytes.
function authorizationTypedData(from) {
  const now = Math.floor(Date.now() / 1000);
  const nonce = new Uint8Array(32);
  crypto.getRandomValues(nonce);
  return {
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
      ],
      TransferWithAuthorization: [
        { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    domain: { name: offer.name, version: offer.version, chainId: Number(terms.chainId), verifyingContract: terms.token },
    message: {
      from, to: terms.merchant, value: terms.amount.toString(),
      validAfter: String(Math.max(0, now - 600)), validBefore: String(now + offer.timeout), nonce: bytesToHex(nonce),
    },
  };
}

// recoverSigner is the address that made sig (65 bytes, v 27/28 or 0/1)
// over the typed data's digest, as the token will recover it.
function recoverSigner(td, sigHex) {
  const sig = hexToBytes(sigHex);
  if (sig.length !== 65) throw new Error('the wallet\'s signature is ' + sig.length + ' bytes, not 65');
  const v = sig[64] >= 27 ? sig[64] - 27 : sig[64];
  if (v !== 0 && v !== 1) throw new Error('the wallet\'s signature has v ' + sig[64]);
  const rec = new Uint8Array(65);
  rec[0] = v;
  rec.set(sig.subarray(0, 64), 1);
  return address(secp.recoverPublicKey(rec, digest(td), { prehash: false, isCompressed: false }));
}

// Wallets: EIP-6963 announcements, else window.ethereum (EIP-1193).
window.addEventListener('eip6963:announceProvider', (ev) => {
  const d = ev.detail;
  if (!d || !d.provider || typeof d.provider.request !== 'function') return;
  if (wallets.some((w) => w.provider === d.provider)) return;
  wallets.push({ name: String((d.info && d.info.name) || 'Wallet'), provider: d.provider });
  renderWallets();
  refresh();
});

function renderWallets() {
  const box = $('wallets');
  box.replaceChildren();
  if (wallets.length < 2) return;
  for (const w of wallets) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = (w === chosen ? '✓ ' : '') + w.name;
    b.addEventListener('click', () => { chosen = w; renderWallets(); });
    box.append(b);
  }
}

function provider() {
  if (chosen) return chosen.provider;
  if (wallets.length > 0) return wallets[0].provider;
  return window.ethereum && typeof window.ethereum.request === 'function' ? window.ethereum : null;
}

// unsupported reports a wallet's "I do not offer this method" (EIP-1193
// 4200, JSON-RPC -32601 method not found, EIP-1474 -32004).
function unsupported(e) {
  return !!e && (e.code === 4200 || e.code === -32601 || e.code === -32004 ||
    /not supported|unsupported|does not exist|not found|not available/i.test(String(e.message)));
}

function word(n) { return n.toString(16).padStart(64, '0'); }

function transaction(from) {
  const chainId = '0x' + terms.chainId.toString(16);
  if (/^0x0{40}$/i.test(terms.token)) {
    return { from, to: terms.merchant, value: '0x' + terms.amount.toString(16), gas: '0x5208', chainId };
  }
  const data = '0xa9059cbb' + word(BigInt(terms.merchant)) + word(terms.amount);
  return { from, to: terms.token, value: '0x0', data, gas: '0xfde8', chainId };
}

async function pay() {
  if (!canPay()) return;
  const p = provider();
  if (!p) {
    state('error', 'No wallet found', 'Press Open in wallet app, or open this page in your wallet app\'s browser.');
    return;
  }
  phase = 'working';
  refresh();
  try {
    const from = await connect(p);
    const tx = transaction(from);
    state('working', 'Confirm the payment in your wallet…');
    let signed = null;
    try {
      signed = await p.request({ method: 'eth_signTransaction', params: [tx] });
    } catch (e) {
      if (!unsupported(e)) throw e;
    }
    if (signed) {
      await handOver(JSON.stringify({ requestId: doc.id, rawTx: typeof signed === 'string' ? signed : signed.raw }), 'payment');
      return;
    }
    state('working', 'Confirm the payment in your wallet…', 'Your wallet sends it to the network itself.');
    const hash = await p.request({ method: 'eth_sendTransaction', params: [tx] });
    phase = 'sent';
    state('sent', 'SENT: waiting for the terminal to see it', 'Transaction ' + String(hash));
    follow(() => requestPaid());
  } catch (e) {
    phase = 'ready';
    if (e && e.code === 4001) {
      state('declined', 'You declined in your wallet', 'Nothing was paid. Press Pay to try again.');
    } else {
      state('error', 'Your wallet could not pay', errText(e));
    }
    refresh();
  }
}

// connect asks the wallet for its account and switches it to the
// request's chain (or checks it is there, when it cannot switch).
async function connect(p) {
  state('working', 'Connecting to your wallet…');
  const accounts = await p.request({ method: 'eth_requestAccounts' });
  if (!Array.isArray(accounts) || typeof accounts[0] !== 'string' || !ADDRESS.test(accounts[0])) {
    throw new Error('the wallet named no account');
  }
  const chainId = '0x' + terms.chainId.toString(16);
  state('working', 'Switching your wallet to chain ' + terms.chainId.toString() + '…');
  try {
    await p.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
  } catch (e) {
    if (!unsupported(e)) throw e;
    const now = await p.request({ method: 'eth_chainId' });
    if (BigInt(now) !== terms.chainId) throw new Error('your wallet is on chain ' + BigInt(now) + ', the request is for ' + terms.chainId);
  }
  return accounts[0];
}

// signToPay pays by an EIP-3009 authorization: the wallet signs typed
// data (no gas, no nonce, nothing broadcast), the page checks the
// signature is the account's over what it built, and the terminal gets it
// as an x402 v2 PaymentPayload.
async function signToPay() {
  if (!canPay() || !offer) return;
  const p = provider();
  if (!p) {
    state('error', 'No wallet found', 'Press Open in wallet app, or open this page in your wallet app\'s browser.');
    return;
  }
  phase = 'working';
  refresh();
  try {
    const from = await connect(p);
    const td = authorizationTypedData(from);
    state('working', 'Sign the payment in your wallet…', 'You sign ' + formatUnits(terms.amount, terms.decimals) + ' ' +
      terms.asset + ' to ' + terms.merchant + '; you pay no gas.');
    let sig;
    try {
      sig = await p.request({ method: 'eth_signTypedData_v4', params: [from, JSON.stringify(td)] });
    } catch (e) {
      if (unsupported(e)) throw new Error('your wallet cannot sign typed data; press Pay by transaction');
      throw e;
    }
    const signer = recoverSigner(td, String(sig));
    if (signer.toLowerCase() !== from.toLowerCase()) {
      throw new Error('the wallet\'s signature is not ' + from + '\'s over this payment (it recovers ' + signer + ')');
    }
    const m = td.message;
    const payment = {
      x402Version: 2,
      accepted: offer.requirements,
      payload: {
        signature: String(sig),
        authorization: { from: m.from, to: m.to, value: m.value, validAfter: m.validAfter, validBefore: m.validBefore, nonce: m.nonce },
      },
    };
    await handOver(JSON.stringify({ requestId: doc.id, payment }), 'signed authorization');
  } catch (e) {
    phase = 'ready';
    if (e && e.code === 4001) {
      state('declined', 'You declined in your wallet', 'Nothing was signed. Press Sign to pay to try again.');
    } else {
      state('error', 'Your wallet could not sign', errText(e));
    }
    refresh();
  }
}

async function broadcast(body) {
  const r = await fetch(API + 'broadcastTx', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body, cache: 'no-store',
  });
  return { status: r.status, body: await r.json() };
}

// handOver gives the terminal body (a raw transaction or an x402 payment,
// what names the payment); the same body again answers its state.
async function handOver(body, what) {
  state('working', 'Handing your payment to the terminal…');
  const a = await broadcast(body);
  if (a.status !== 200 && a.status !== 202) {
    const e = a.body.error || {};
    phase = 'ready';
    state('rejected', 'REJECTED: ' + String(e.code), String(e.message || ''));
    refresh();
    return;
  }
  phase = 'accepted';
  state('accepted', 'ACCEPTED', 'The terminal has your ' + what + ' (' + String(a.body.txHash) + '); it settles on chain.');
  follow(async () => {
    const now = await broadcast(body);
    const s = now.body.status;
    if (s === 'confirmed' || s === 'final') {
      phase = 'paid';
      state('paid', 'PAID', 'Your ' + what + ' ' + String(now.body.txHash));
      return true;
    }
    if (s === 'failed') {
      phase = 'done';
      state('rejected', 'FAILED on chain', 'Ask the cashier.');
      return true;
    }
    return false;
  });
}

// requestPaid follows the request after the wallet sent the transfer
// itself: the terminal's chain watcher sees it (SEEN), and it is PAID once
// confirmed. A terminal that names no paidState says paid when it is.
async function requestPaid(known) {
  const d = known || await getRequest(doc.id);
  if (d.status !== 'paid') {
    return false;
  }
  const tx = d.paidTx ? 'Transaction ' + String(d.paidTx) : '';
  switch (d.paidState) {
    case 'seen':
      state('sent', 'SEEN on chain: waiting for confirmation', tx);
      return false;
    case 'queued':
    case 'broadcast':
      state('accepted', 'ACCEPTED', tx);
      return false;
    case 'failed':
      phase = 'done';
      state('rejected', 'FAILED on chain', 'Ask the cashier.');
      return true;
  }
  phase = 'paid';
  state('paid', 'PAID', tx);
  return true;
}

// watchWalletApp follows the request after the payer pressed Open in
// wallet app: the wallet app sends the transfer itself and the terminal's
// chain watcher sees it. The page stays payable meanwhile (the payer may
// come back without paying); the watch ends when the page pays another
// way or the request is paid, expired or cancelled.
function watchWalletApp() {
  state('sent', 'Pay in your wallet app', 'It sends the transfer itself; this page says PAID once the terminal sees it on chain.');
  if (watching) return;
  watching = true;
  follow(async () => {
    if (phase !== 'ready' && phase !== 'working') return true;
    const d = await getRequest(doc.id);
    if (d.status === 'paid') {
      phase = 'sent';
      refresh();
      if (!(await requestPaid(d))) follow(() => requestPaid());
      return true;
    }
    if (d.status !== 'pending') {
      phase = 'done';
      state('expired', String(d.status).toUpperCase());
      refresh();
      return true;
    }
    return false;
  });
}

// follow asks step every second until it says done; a failed ask (the
// terminal briefly out of reach) is asked again.
function follow(step) {
  const again = () => setTimeout(async () => {
    let done = false;
    try { done = await step(); } catch (e) { /* asked again */ }
    if (!done) again();
  }, 1000);
  again();
}

$('pay').addEventListener('click', pay);
$('sign').addEventListener('click', signToPay);
$('wallet-app').addEventListener('click', watchWalletApp);
window.dispatchEvent(new Event('eip6963:requestProvider'));
setInterval(tick, 1000);
load();
