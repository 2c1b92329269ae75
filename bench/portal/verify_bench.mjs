// Issue #16: the disclosure page's check of a person's history (`verifyHistory` in
// portal/web/verify.js) — proof size and verification time for a person with 20 and with
// 2,000 exchanges, in a log of T = 10,000,000 records and a person map of P = 1,000,000
// persons.
//
// Inputs are built in node without the whole log: the person's 4·E records (each exchange
// inquiry_accepted, forwarded, provided, received; demo codes) sit at chosen sequences of
// a virtual RFC 9162 tree of size T in which every subtree holding none of them is a fixed
// pseudo-random hash, so the root and every inclusion path are computed by one recursion
// that descends only into ranges holding the person's leaves. The person-map proof (end
// "leaf") has as many siblings as the median person's depth in a compact sparse Merkle map
// of P random keys (21), random hashes, folded to person_root. A v2 head, a trust document,
// the witness's cosignature and a policy bundle naming the records' agencies, business and
// item are signed with Ed25519 (records/tree_head.h, portal/trust_document.h,
// proto/ipn/v1/policy.proto, verify.js's own encoders). verifyHistory must pass before
// anything is timed; then median of 5 runs in node (WebCrypto) and in headless Chromium
// (verify.js loaded into an empty page at http://localhost/, a secure context, via
// page.route; timed inside the page with performance.now()).
//
//   node bench/portal/verify_bench.mjs        (prints one JSON object; each run's times,
//                                              and the SHA-256 count, go to stderr)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const verifyJs = fs.readFileSync(path.join(repo, 'portal/web/verify.js'), 'utf8');
vm.runInThisContext(verifyJs, { filename: 'verify.js' });  // exports globalThis.ipnVerify
const V = globalThis.ipnVerify;

const T = 10_000_000;      // records in the log
const P = 1_000_000;       // persons in the map
const RUNS = 5;
const SIZES = [20, 2000];  // exchanges of the person

// Deterministic pseudo-randomness: SHA-256 of a label and a counter.
let ctr = 0;
const sha = (...parts) => { const h = crypto.createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };
const rand32 = (label) => sha(label, String(ctr++));
const randInt = (n) => rand32('int').readUInt32BE(0) % n;
const hex = (b) => Buffer.from(b).toString('hex');
const u8 = (n) => Buffer.of(n);

// --- the person's records ---------------------------------------------------------------
const named = (code, ja, en) => ({ code, name_ja: ja, name_en: en });
const PEN = named('PEN-0001', '日本年金機構', 'Japan Pension Service');
const MUN = named('MUN-131016', '千代田区長', 'Mayor of Chiyoda City');
const BUS = named('np-benefit', '国民年金法による年金である給付の支給に関する事務', 'Payment of National Pension benefits');
const ITEM = named('local-tax', '地方税関係情報', 'Local tax information');
const EVENTS = [['inquiry_accepted', 'ACCEPTED'], ['forwarded', 'FORWARDED'], ['provided', 'PROVIDED'], ['received', 'PROVIDED']];
const T0 = Date.UTC(2026, 0, 1) * 1000;           // the log spans one year from 2026-01-01
const US_PER_RECORD = Math.floor(365 * 86_400e6 / T);
const utcText = (us) => new Date(Math.floor(us / 1000)).toISOString().slice(0, 19) + '.' + String(us % 1e6).padStart(6, '0') + 'Z';

function personRecords(E, symbol) {
  // Exchange starts spread over the log; an exchange's 4 records within a few hundred sequences.
  const gap = Math.floor((T - 2000) / E);
  const records = [];
  for (let x = 0; x < E; x++) {
    let seq = x * gap + randInt(gap - 1000);
    const requestId = `PEN-0001-${rand32('rid').toString('hex').slice(0, 6)}-${String(x + 1).padStart(5, '0')}`;
    for (const [event, outcome] of EVENTS) {
      const time = T0 + seq * US_PER_RECORD;
      records.push({ sequence: seq, time_unix_us: time, time: utcText(time), event, inquirer: PEN, provider: MUN,
                     business: BUS, item: ITEM, request_id: requestId, outcome, non_disclosure: false,
                     record_symbol: hex(symbol), inclusion_path: [] });
      seq += 1 + randInt(200);
    }
  }
  return records;
}

// --- RFC 9162 root and inclusion paths over the virtual tree ------------------------------
// `leaves`: sorted [{index, hash, path}]; fills each path (leaf side first), returns MTH(D[lo:hi]).
function mth(lo, hi, leaves, a, b) {
  if (a === b) return sha('filler', `${lo}:${hi}`);       // no person leaf here: a fixed hash
  if (hi - lo === 1) return leaves[a].hash;
  let k = 1; while (k * 2 < hi - lo) k *= 2;                // largest power of two below n
  let m = a; while (m < b && leaves[m].index < lo + k) m++;
  const left = mth(lo, lo + k, leaves, a, m), right = mth(lo + k, hi, leaves, m, b);
  for (let i = a; i < m; i++) leaves[i].path.push(right);
  for (let i = m; i < b; i++) leaves[i].path.push(left);
  return sha(u8(1), left, right);
}

// A person's depth in a compact sparse Merkle map of P random keys is one more than the
// longest prefix their key shares with another's, L: P(L <= d) = (1 - 2^-(d+1))^(P-1).
// The proof gets the median depth (21 at P = 1,000,000; 90 % of persons are at most 24).
function mapDepth() {
  let d = 0;
  while ((P - 1) * Math.log1p(-(2 ** -(d + 1))) < Math.log(0.5)) d++;
  return d + 1;
}

// --- keys and signatures ----------------------------------------------------------------
const keyPair = () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { pub: hex(Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')), privateKey };
};
const sign = (kp, bytes) => hex(crypto.sign(null, Buffer.from(bytes), kp.privateKey));
const trustRoot = keyPair(), recordsKey = keyPair(), witnessKey = keyPair(), policyKey = keyPair();
const trustText = `ipn-trust v1\nversion 1\nissued 2026-12-01T00:00:00Z\nrecords_key ${recordsKey.pub}\n` +
                  `witness_key ${witnessKey.pub}\npolicy_key ${policyKey.pub}\n`;
const trust = { text: trustText, signer: trustRoot.pub, signature: sign(trustRoot, V.trustSigningInput(trustText)) };
const trustRoots = [trustRoot.pub];

// The signed policy bundle file (ipn.v1.SignedPolicyBundle) naming the records' codes.
const pbVarint = (n) => { const o = []; while (n >= 0x80) { o.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); } o.push(n); return Buffer.from(o); };
const pbBytes = (field, bytes) => Buffer.concat([pbVarint(field * 8 + 2), pbVarint(bytes.length), Buffer.from(bytes)]);
const pbString = (field, text) => pbBytes(field, Buffer.from(text, 'utf8'));
const pbAgency = (x) => Buffer.concat([pbString(1, x.code), pbString(2, 'bench'), pbString(3, x.name_ja), pbString(4, x.name_en)]);
const pbNamed = (x) => Buffer.concat([pbString(1, x.code), pbString(2, x.name_ja), pbString(3, x.name_en)]);
const policyBundle = Buffer.concat([pbVarint(1 * 8 + 0), pbVarint(1), pbBytes(3, pbAgency(PEN)), pbBytes(3, pbAgency(MUN)),
                                    pbBytes(4, pbNamed(BUS)), pbBytes(5, pbNamed(ITEM))]);
const policyFile = Buffer.concat([pbString(1, 'ipn-policy-bundle/1'), pbBytes(2, policyBundle),
  pbBytes(3, Buffer.from(sign(policyKey, V.policySigningInput(policyBundle)), 'hex')),
  pbBytes(4, Buffer.from(policyKey.pub, 'hex'))]);

function buildHistory(E, depth) {
  const symbol = rand32('symbol');
  const records = personRecords(E, symbol);
  const leaves = records.map((r) => ({ index: r.sequence, hash: sha(u8(0), V.encodeLeaf(r)), path: [] }));
  const rootHash = mth(0, T, leaves, 0, leaves.length);
  records.forEach((r, i) => { r.inclusion_path = leaves[i].path.map(hex); });
  // The disclosed chain over the settling records (here: each exchange's "provided").
  let chain = Buffer.alloc(32), count = 0;
  records.forEach((r, i) => { if (r.event === 'provided') { chain = sha(u8(0x10), chain, leaves[i].hash); count++; } });
  const cnt = Buffer.alloc(8); cnt.writeBigUInt64BE(BigInt(count));
  const siblings = Array.from({ length: depth }, () => rand32('sibling'));
  let node = sha(u8(0x12), symbol, sha(u8(0x11), chain, cnt));
  for (let d = depth - 1; d >= 0; d--) {
    const bit = (symbol[d >> 3] >> (7 - (d & 7))) & 1;
    node = bit ? sha(u8(0x13), siblings[d], node) : sha(u8(0x13), node, siblings[d]);
  }
  const ts = T0 + 366 * 86_400e6;
  const head = { tree_size: T, timestamp_us: ts, root_hash: hex(rootHash), signer: recordsKey.pub, signature: '',
                 version: 2, person_root: hex(node), withheld_root: hex(rand32('withheld')) };
  head.signature = sign(recordsKey, V.headSigningInput(T, ts, head.root_hash, head.person_root, head.withheld_root));
  const cosignedAt = ts + 30e6;
  const cosignature = { tree_size: T, timestamp_us: ts, witness: witnessKey.pub, cosigned_unix_us: cosignedAt,
                        signature: sign(witnessKey, V.cosigningInput(head, cosignedAt)) };
  const proof = { key: hex(symbol), end: 'leaf', chain: hex(chain), count, other_key: '', other_value: '',
                  siblings: siblings.map(hex) };
  return { records, tree_head: head, cosignature, history_proof: proof, withheld_note: '' };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;

async function timeInNode(h) {
  const args = [h.records, h.tree_head, h.history_proof, trust, h.cosignature, policyFile, trustRoots];
  const check = await V.verifyHistory(...args);
  if (!check.ok) throw new Error(`verifyHistory failed in node: ${check.reason}`);
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await V.verifyHistory(...args);
    ms.push(performance.now() - t);
    if (!r.ok) throw new Error(`verifyHistory failed in node: ${r.reason}`);
  }
  return { ms, p50: median(ms) };
}

async function timeInChromium(browser, h) {
  const page = await browser.newPage();
  await page.route('http://localhost/bench', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' }));
  await page.goto('http://localhost/bench');  // localhost: a secure context, so WebCrypto is there
  await page.evaluate((roots) => { self.IPN_TRUST_ROOTS = roots; }, trustRoots);
  page.on('pageerror', () => {});
  await page.addScriptTag({ content: verifyJs });  // defines self.ipnVerify
  await page.evaluate(([h, t, p]) => { self.benchInput = { h, t, p: Uint8Array.from(p) }; },
                      [h, trust, [...policyFile]]);
  const result = await page.evaluate(async (runs) => {
    const { h, t, p } = self.benchInput;
    const go = () => self.ipnVerify.verifyHistory(h.records, h.tree_head, h.history_proof, t, h.cosignature, p,
                                                  self.IPN_TRUST_ROOTS);
    const check = await go();
    if (!check.ok) return { error: check.reason };
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await go();
      ms.push(performance.now() - t0);
      if (!r.ok) return { error: r.reason };
    }
    return { ms };
  }, RUNS);
  await page.close();
  if (result.error) throw new Error(`verifyHistory failed in Chromium: ${result.error}`);
  return { ms: result.ms, p50: median(result.ms) };
}

const { chromium } = createRequire(path.join(repo, 'tests/browser/package.json'))('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.IPN_CHROMIUM || '/usr/bin/chromium',
                                       args: ['--no-sandbox'] });
const out = { records_in_log: T, persons_in_map: P };
try {
  const depth = mapDepth();  // the same for both persons, so that only E differs
  for (const E of SIZES) {
    const h = buildHistory(E, depth);
    const node = await timeInNode(h);
    const chrome = await timeInChromium(browser, h);
    const hashes = h.records.reduce((n, r) => n + 1 + r.inclusion_path.length, 0) + 2 * E + depth + 2;
    console.error(`E=${E}: ${h.records.length} records, ${hashes} SHA-256, map depth ${depth}; node ms ${node.ms.map(round).join(', ')};` +
                  ` chromium ms ${chrome.ms.map(round).join(', ')}`);
    out[`e${E}`] = {
      json_bytes: Buffer.byteLength(JSON.stringify(h)),
      proof_bytes: Buffer.byteLength(JSON.stringify(h.history_proof)),
      proof_siblings: h.history_proof.siblings.length,
      node_verify_ms_p50: round(node.p50),
      chromium_verify_ms_p50: round(chrome.p50),
    };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
