// 情報提供等記録開示 — the verification half of the disclosure portal's page (plain JS, no
// build step), shared with the oversight commission's desk (oversight/web).
//
// The pure byte functions that check provision records against the signed tree head, and
// that the history shown is the person's whole history (they must match
// records/record_codec.cc, records/merkle.cc, records/tree_head.cc and
// records/person_map.cc byte for byte). Defines self.ipnVerify; loads in a browser (before
// app.js) and outside one (node: vm.runInThisContext exports globalThis.ipnVerify).
(function () {
  'use strict';

  const root = typeof window !== 'undefined' ? window : globalThis;
  const subtle = root.crypto && root.crypto.subtle;
  const utf8 = new TextEncoder();

  // ===================================================================================
  // Verification: leaf encoding, RFC 9162 Merkle hashes and inclusion proofs, tree head,
  // and the completeness of a person's history (history chain and person map proof)
  // ===================================================================================

  // Stable one-byte event codes (records/record_codec.cc kEventByCode).
  const EVENT_CODES = Object.freeze({
    inquiry_accepted: 1, inquiry_refused: 2, forwarded: 3, provided: 4, not_held: 5,
    failed: 6, timed_out: 7, received: 8, operator_action: 9,
  });
  const LEAF_FORMAT = 1;
  const HEAD_DOMAIN = 'ipn/records/tree-head/v1';
  const HEAD_DOMAIN_V2 = 'ipn/records/tree-head/v2';
  const TRUST_DOMAIN = 'ipn/portal/trust/v1\n';
  const COSIGN_DOMAIN = 'ipn/records/cosign/v1\n';
  const POLICY_FORMAT = 'ipn-policy-bundle/1';
  const POLICY_DOMAIN = 'ipn-policy-bundle/1\n';
  // The events that settle an exchange: each one extends the person's history chain
  // (records/person_map.h HistoryKindOf).
  const SETTLING_EVENTS = Object.freeze(['inquiry_refused', 'provided', 'not_held', 'failed', 'timed_out']);
  const MAX_MAP_DEPTH = 256;
  const U64_MAX = (1n << 64n) - 1n;
  const I64_MIN = -(1n << 63n);
  const I64_MAX = (1n << 63n) - 1n;

  function hexToBytes(hex) {
    if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw new Error('not a hex string');
    }
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    let s = '';
    for (const b of bytes) s += b.toString(16).padStart(2, '0');
    return s;
  }

  // Hex strings or byte arrays, checked for length when `length` is given.
  function asBytes(value, length, what) {
    const bytes = typeof value === 'string' ? hexToBytes(value) : new Uint8Array(value);
    if (length !== undefined && bytes.length !== length) {
      throw new Error(`${what || 'value'} must be ${length} bytes`);
    }
    return bytes;
  }

  function concatBytes(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  function toBigInt(value, what) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
    throw new Error(`${what || 'value'} is not an integer`);
  }

  function u64be(value, what) {
    const n = toBigInt(value, what);
    if (n < 0n || n > U64_MAX) throw new Error(`${what || 'value'} is out of range`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, n, false);
    return out;
  }

  function i64be(value, what) {
    const n = toBigInt(value, what);
    if (n < I64_MIN || n > I64_MAX) throw new Error(`${what || 'value'} is out of range`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, n, false);
    return out;
  }

  // Unsigned LEB128.
  function varint(n) {
    const out = [];
    while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
    out.push(n);
    return Uint8Array.from(out);
  }

  function lengthPrefixed(text) {
    const bytes = utf8.encode(text == null ? '' : String(text));
    return concatBytes(varint(bytes.length), bytes);
  }

  // An agency, business or item as the API gives it ({code, name_ja, name_en}) or a bare code.
  function codeOf(x) {
    if (x == null) return '';
    return typeof x === 'string' ? x : (x.code == null ? '' : String(x.code));
  }

  // The canonical leaf (format 1): u8 1 | u64 sequence | i64 time | 32-byte record symbol |
  // u8 event code | u8 flags | six (varint length, UTF-8 bytes) strings.
  function encodeLeaf(record) {
    const event = EVENT_CODES[record.event];
    if (!event) throw new Error(`unknown event ${record.event}`);
    return concatBytes(
      Uint8Array.of(LEAF_FORMAT),
      u64be(record.sequence, 'sequence'),
      i64be(record.time_unix_us, 'time_unix_us'),
      asBytes(record.record_symbol, 32, 'record_symbol'),
      Uint8Array.of(event, record.non_disclosure ? 1 : 0),
      lengthPrefixed(codeOf(record.inquirer)),
      lengthPrefixed(codeOf(record.provider)),
      lengthPrefixed(codeOf(record.business)),
      lengthPrefixed(codeOf(record.item)),
      lengthPrefixed(record.request_id),
      lengthPrefixed(record.outcome));
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest('SHA-256', bytes));
  }

  // RFC 9162: leaf hash = SHA-256(0x00 | leaf); interior node = SHA-256(0x01 | left | right).
  function leafHash(leaf) {
    return sha256(concatBytes(Uint8Array.of(0), asBytes(leaf)));
  }

  function nodeHash(left, right) {
    return sha256(concatBytes(Uint8Array.of(1), asBytes(left, 32), asBytes(right, 32)));
  }

  // RFC 9162 §2.1.3.2. `path` is leaf side first; hashes as hex strings or bytes.
  async function verifyInclusion(leafHashValue, leafIndex, treeSize, path, rootHash) {
    const index = toBigInt(leafIndex, 'leaf index');
    const size = toBigInt(treeSize, 'tree size');
    if (index < 0n || index >= size) return false;
    let fn = index;
    let sn = size - 1n;
    let r = asBytes(leafHashValue, 32, 'leaf hash');
    for (const entry of path) {
      const p = asBytes(entry, 32, 'path entry');
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equalBytes(r, asBytes(rootHash, 32, 'root hash'));
  }

  // v1: ASCII "ipn/records/tree-head/v1" | u64 tree_size | i64 timestamp_us | 32-byte root hash.
  // v2 (when `personRoot` is given): ASCII "ipn/records/tree-head/v2" | u64 tree_size |
  // i64 timestamp_us | root hash | person map root | withheld map root (32 bytes each).
  function headSigningInput(treeSize, timestampUs, rootHash, personRoot, withheldRoot) {
    const common = [u64be(treeSize, 'tree_size'), i64be(timestampUs, 'timestamp_us'),
                    asBytes(rootHash, 32, 'root_hash')];
    if (personRoot === undefined) return concatBytes(utf8.encode(HEAD_DOMAIN), ...common);
    return concatBytes(utf8.encode(HEAD_DOMAIN_V2), ...common, asBytes(personRoot, 32, 'person_root'),
                       asBytes(withheldRoot, 32, 'withheld_root'));
  }

  // A head without a version is a v1 head.
  async function verifyHeadSignature(head) {
    const version = head.version == null ? 1 : head.version;
    if (version !== 1 && version !== 2) throw new Error(`unknown tree head version ${version}`);
    const key = await subtle.importKey('raw', asBytes(head.signer, 32, 'signer'),
                                       { name: 'Ed25519' }, false, ['verify']);
    const input = version === 2
      ? headSigningInput(head.tree_size, head.timestamp_us, head.root_hash, head.person_root, head.withheld_root)
      : headSigningInput(head.tree_size, head.timestamp_us, head.root_hash);
    return subtle.verify({ name: 'Ed25519' }, key, asBytes(head.signature, 64, 'signature'), input);
  }

  // Checks the head's signature and every record's inclusion proof.
  // → {headOk, total, failed: [sequence…], treeSize, signer}
  async function verifyRecords(records, head) {
    let headOk = false;
    try { headOk = await verifyHeadSignature(head); } catch (e) { headOk = false; }
    const failed = await failedInclusions(records, head);
    return { headOk, total: records.length, failed, treeSize: head.tree_size,
             signer: String(head.signer || '') };
  }

  // The sequences of the records whose inclusion proofs do not lead to the head's root.
  // Records are checked CONCURRENCY at a time: each path is a chain of awaited digests, so
  // checking one record after another leaves WebCrypto idle between hops.
  const CONCURRENCY = 64;
  async function failedInclusions(records, head) {
    const failed = [];
    const one = async (record) => {
      try {
        const hash = await leafHash(encodeLeaf(record));
        return await verifyInclusion(hash, record.sequence, head.tree_size,
                                     record.inclusion_path || [], head.root_hash);
      } catch (e) { return false; }
    };
    for (let at = 0; at < records.length; at += CONCURRENCY) {
      const chunk = records.slice(at, at + CONCURRENCY);
      const oks = await Promise.all(chunk.map(one));
      oks.forEach((ok, i) => { if (!ok) failed.push(chunk[i].sequence); });
    }
    return failed;
  }

  // ---- Completeness: the person's history chain and the sparse Merkle map of all
  // persons' histories that a v2 head signs (records/person_map.h).

  async function taggedHash(tag, ...parts) {
    return sha256(concatBytes(Uint8Array.of(tag), ...parts));
  }

  // chain_{i+1} = SHA-256(0x10 | chain_i | leaf hash of record i)
  function historyChainStep(chain, recordLeafHash) {
    return taggedHash(0x10, asBytes(chain, 32, 'chain'), asBytes(recordLeafHash, 32, 'leaf hash'));
  }

  // SHA-256(0x11 | chain | u64 count)
  function historyValueHash(chain, count) {
    return taggedHash(0x11, asBytes(chain, 32, 'chain'), u64be(count, 'count'));
  }

  // SHA-256(0x12 | key | value hash)
  function mapLeafHash(key, valueHash) {
    return taggedHash(0x12, asBytes(key, 32, 'key'), asBytes(valueHash, 32, 'value hash'));
  }

  // SHA-256(0x13 | left | right)
  function mapNodeHash(left, right) {
    return taggedHash(0x13, asBytes(left, 32, 'left'), asBytes(right, 32, 'right'));
  }

  function isSettling(record) {
    return SETTLING_EVENTS.includes(record.event);
  }

  // The chain over the settling records among `records`, in the order given → {chain, count}.
  async function historyChain(records) {
    const settling = records.filter(isSettling);
    const leaves = [];
    for (let at = 0; at < settling.length; at += CONCURRENCY) {
      const chunk = settling.slice(at, at + CONCURRENCY);
      leaves.push(...await Promise.all(chunk.map((r) => leafHash(encodeLeaf(r)))));
    }
    let chain = new Uint8Array(32);
    for (const leaf of leaves) chain = await historyChainStep(chain, leaf);  // in order
    return { chain, count: BigInt(leaves.length) };
  }

  // Bit `d` of a 32-byte key, most significant first.
  function keyBit(key, d) {
    return (key[d >> 3] >> (7 - (d & 7))) & 1;
  }

  // The proof as the server sends it, with every hash checked for its length; throws
  // when it is not a readable proof.
  function parseHistoryProof(proof) {
    if (!proof || typeof proof !== 'object') throw new Error('no proof');
    if (!['leaf', 'empty', 'other_leaf'].includes(proof.end)) throw new Error('unknown proof end');
    if (!Array.isArray(proof.siblings) || proof.siblings.length > MAX_MAP_DEPTH) throw new Error('bad siblings');
    const p = {
      key: asBytes(proof.key, 32, 'key'),
      end: proof.end,
      siblings: proof.siblings.map((h) => asBytes(h, 32, 'sibling')),
      chain: new Uint8Array(32),
      count: 0n,
      otherKey: null,
      otherValue: null,
    };
    if (p.end === 'leaf') {
      p.chain = asBytes(proof.chain, 32, 'chain');
      p.count = toBigInt(proof.count, 'count');
      if (p.count < 0n || p.count > U64_MAX) throw new Error('count out of range');
    } else if (p.end === 'other_leaf') {
      p.otherKey = asBytes(proof.other_key, 32, 'other_key');
      p.otherValue = asBytes(proof.other_value, 32, 'other_value');
    }
    return p;
  }

  // The map root the proof leads to, or null when the proof contradicts itself.
  async function mapRootOfProof(p) {
    const depth = p.siblings.length;
    let node;
    if (p.end === 'leaf') {
      if (p.count < 1n) return null;
      node = await mapLeafHash(p.key, await historyValueHash(p.chain, p.count));
    } else if (p.end === 'empty') {
      node = new Uint8Array(32);
    } else {
      if (equalBytes(p.otherKey, p.key)) return null;
      for (let d = 0; d < depth; d++) if (keyBit(p.otherKey, d) !== keyBit(p.key, d)) return null;
      node = await mapLeafHash(p.otherKey, p.otherValue);
    }
    for (let d = depth - 1; d >= 0; d--) {
      node = keyBit(p.key, d) ? await mapNodeHash(p.siblings[d], node) : await mapNodeHash(node, p.siblings[d]);
    }
    return node;
  }

  // ---- Whom to trust: the trust document, signed by a key this page's build fixes
  // (trust_roots.js, IPN_TRUST_ROOTS), names the keys that sign the log's heads
  // (records_key) and the oversight commission's witness keys (witness_key); the witness
  // cosigns the heads it has checked (records/tree_head.h CosigningInput).

  // A 32-byte key as lowercase hex, or null when `value` is not 64 hex digits.
  function keyHex(value) {
    return typeof value === 'string' && /^[0-9a-fA-F]{64}$/.test(value) ? value.toLowerCase() : null;
  }

  // The well-formed keys of a trust-root list (anything else in it is ignored).
  function trustRootsOf(roots) {
    if (!Array.isArray(roots)) return [];
    return roots.map(keyHex).filter((k) => k !== null);
  }

  // ASCII "ipn/portal/trust/v1\n" | the document's text as UTF-8.
  function trustSigningInput(text) {
    return concatBytes(utf8.encode(TRUST_DOMAIN), utf8.encode(text));
  }

  // The text of a trust document: lines ending in "\n"; "ipn-trust v1" first; then one
  // "version <decimal>", one "issued <ISO time>", and "records_key <hex>",
  // "witness_key <hex>" and "policy_key <hex>" lines; other kinds of line are ignored.
  // → {version, issued, recordsKeys, witnessKeys, policyKeys}; throws when the text is
  // malformed.
  function parseTrustText(text) {
    if (typeof text !== 'string' || !text.endsWith('\n')) throw new Error('not lines ending in a newline');
    const lines = text.slice(0, -1).split('\n');
    if (lines[0] !== 'ipn-trust v1') throw new Error('does not start with "ipn-trust v1"');
    const doc = { version: null, issued: null, recordsKeys: [], witnessKeys: [], policyKeys: [] };
    const keysOf = { records_key: doc.recordsKeys, witness_key: doc.witnessKeys, policy_key: doc.policyKeys };
    for (const line of lines.slice(1)) {
      const space = line.indexOf(' ');
      const kind = space < 0 ? line : line.slice(0, space);
      const value = space < 0 ? '' : line.slice(space + 1);
      if (kind === 'version') {
        if (doc.version !== null || !/^[0-9]+$/.test(value)) throw new Error('bad version line');
        doc.version = BigInt(value);
      } else if (kind === 'issued') {
        if (doc.issued !== null ||
            !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
          throw new Error('bad issued line');
        }
        doc.issued = value;
      } else if (Object.hasOwn(keysOf, kind)) {
        const key = keyHex(value);
        if (key === null) throw new Error(`bad ${kind} line`);
        keysOf[kind].push(key);
      }
    }
    if (doc.version === null || doc.issued === null) throw new Error('no version or issued line');
    return doc;
  }

  async function ed25519Verify(publicKey, signature, message) {
    const key = await subtle.importKey('raw', asBytes(publicKey, 32, 'public key'),
                                       { name: 'Ed25519' }, false, ['verify']);
    return subtle.verify({ name: 'Ed25519' }, key, asBytes(signature, 64, 'signature'), message);
  }

  // Checks a trust document ({text, signer, signature} as GET /api/trust answers; null
  // when the portal has none) against the page's trust roots. In order: roots, presence,
  // shape, signer among the roots, signature, text.
  // → {ok, reason, key, doc}
  //   reason: 'ok' | 'noTrustRoots' | 'noTrust' | 'trustMalformed' | 'trustUnknownSigner' |
  //           'trustBad' | 'trustNoKeys'
  //   key: the signer's key (hex) when it is at fault; doc: parseTrustText's, when ok.
  async function verifyTrust(trust, trustRoots) {
    const roots = trustRootsOf(trustRoots);
    if (roots.length === 0) return { ok: false, reason: 'noTrustRoots', key: '', doc: null };
    if (trust == null) return { ok: false, reason: 'noTrust', key: '', doc: null };
    const signer = trust && typeof trust === 'object' ? keyHex(trust.signer) : null;
    if (signer === null || typeof trust.text !== 'string' || typeof trust.signature !== 'string' ||
        !/^[0-9a-fA-F]{128}$/.test(trust.signature)) {
      return { ok: false, reason: 'trustMalformed', key: '', doc: null };
    }
    if (!roots.includes(signer)) return { ok: false, reason: 'trustUnknownSigner', key: signer, doc: null };
    let valid = false;
    try { valid = await ed25519Verify(signer, trust.signature, trustSigningInput(trust.text)); } catch (e) { valid = false; }
    if (!valid) return { ok: false, reason: 'trustBad', key: signer, doc: null };
    let doc;
    try { doc = parseTrustText(trust.text); } catch (e) {
      return { ok: false, reason: 'trustMalformed', key: signer, doc: null };
    }
    if (doc.recordsKeys.length === 0 || doc.witnessKeys.length === 0) {
      return { ok: false, reason: 'trustNoKeys', key: signer, doc };
    }
    return { ok: true, reason: 'ok', key: signer, doc };
  }

  // The head's fixed encoding (records/tree_head.h EncodeTreeHead). v1, 145 bytes:
  // u8 1 | u64 tree_size | i64 timestamp_us | root_hash | signer | signature;
  // v2, 209 bytes: u8 2 | u64 tree_size | i64 timestamp_us | root_hash | person_root |
  // withheld_root | signer | signature.
  function encodeTreeHead(head) {
    const version = head.version == null ? 1 : head.version;
    if (version !== 1 && version !== 2) throw new Error(`unknown tree head version ${version}`);
    return concatBytes(
      Uint8Array.of(version), u64be(head.tree_size, 'tree_size'), i64be(head.timestamp_us, 'timestamp_us'),
      asBytes(head.root_hash, 32, 'root_hash'),
      ...(version === 2 ? [asBytes(head.person_root, 32, 'person_root'),
                           asBytes(head.withheld_root, 32, 'withheld_root')] : []),
      asBytes(head.signer, 32, 'signer'), asBytes(head.signature, 64, 'signature'));
  }

  // ASCII "ipn/records/cosign/v1\n" | the head's fixed encoding | u64 cosigned_unix_us.
  function cosigningInput(head, cosignedUnixUs) {
    return concatBytes(utf8.encode(COSIGN_DOMAIN), encodeTreeHead(head), u64be(cosignedUnixUs, 'cosigned_unix_us'));
  }

  // Whether `cosignature` ({witness, cosigned_unix_us, signature}) is its witness's
  // signature over `head` (it does not look at whose key the witness is).
  async function verifyCosignature(head, cosignature) {
    try {
      return await ed25519Verify(cosignature.witness, cosignature.signature,
                                 cosigningInput(head, cosignature.cosigned_unix_us));
    } catch (e) { return false; }
  }

  // ---- The names shown: agencies', businesses' and items' names come from the policy
  // bundle the policy administrator signs (proto/ipn/v1/policy.proto, policy/bundle.h),
  // served exactly as on disk at GET /api/policy; the trust document names the
  // administrator's keys (policy_key).

  // A protobuf message's fields, in order: [{field, wire, value}], `value` a BigInt for a
  // varint (wire type 0), the bytes (a view into `bytes`) for fixed64 (1), length-delimited
  // (2) and fixed32 (5). Throws on truncated input, a varint over 64 bits, field number 0
  // or above 2^29 - 1, and the group wire types (3, 4), which policy.proto does not use.
  function protoFields(bytes) {
    const out = [];
    let at = 0;
    const readVarint = () => {
      let n = 0n;
      for (let i = 0; i < 10; i++) {
        if (at >= bytes.length) throw new Error('truncated varint');
        const b = bytes[at++];
        n |= BigInt(b & 0x7f) << BigInt(7 * i);
        if ((b & 0x80) === 0) {
          if (n > U64_MAX) throw new Error('varint over 64 bits');
          return n;
        }
      }
      throw new Error('varint over 10 bytes');
    };
    const take = (n) => {
      if (n > bytes.length - at) throw new Error('truncated field');
      const v = bytes.subarray(at, at + n);
      at += n;
      return v;
    };
    while (at < bytes.length) {
      const tag = readVarint();
      const field = tag >> 3n;
      const wire = Number(tag & 7n);
      if (field === 0n || field > 0x1fffffffn) throw new Error('bad field number');
      let value;
      if (wire === 0) value = readVarint();
      else if (wire === 1) value = take(8);
      else if (wire === 5) value = take(4);
      else if (wire === 2) {
        const length = readVarint();
        if (length > BigInt(bytes.length - at)) throw new Error('truncated field');
        value = take(Number(length));
      } else throw new Error(`unsupported wire type ${wire}`);
      out.push({ field: Number(field), wire, value });
    }
    return out;
  }

  // Protobuf strings are UTF-8 (a byte-order mark is kept, as the C++ side keeps it).
  const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  function protoString(bytes, what) {
    try { return strictUtf8.decode(bytes); } catch (e) { throw new Error(`${what} is not UTF-8`); }
  }

  // The last length-delimited occurrence of each of `fields` ({number: name}) in `list` (a
  // scalar's last occurrence wins; a known field with another wire type is an unknown field,
  // as protobuf has it): {name: bytes}, empty bytes for an absent field.
  function lastBytes(list, fields) {
    const out = {};
    for (const name of Object.values(fields)) out[name] = new Uint8Array(0);
    for (const f of list) if (f.wire === 2 && fields[f.field]) out[fields[f.field]] = f.value;
    return out;
  }

  // The signed policy bundle file (ipn.v1.SignedPolicyBundle): format = 1, bundle = 2
  // (the serialized PolicyBundle as signed), signature = 3, signer_public_key = 4.
  // → {format, bundle, signature, signer} (signer: the field's bytes; informational);
  // throws when the bytes are not such a message.
  function parsePolicyFile(bytes) {
    const f = lastBytes(protoFields(asBytes(bytes)),
                        { 1: 'format', 2: 'bundle', 3: 'signature', 4: 'signer' });
    return { format: protoString(f.format, 'format'), bundle: f.bundle, signature: f.signature,
             signer: f.signer };
  }

  // ASCII "ipn-policy-bundle/1\n" | the bundle's bytes exactly as in the file.
  function policySigningInput(bundle) {
    return concatBytes(utf8.encode(POLICY_DOMAIN), asBytes(bundle));
  }

  // The names in a serialized ipn.v1.PolicyBundle: version = 1 (at least 1); agencies = 3
  // (PolicyAgency: code = 1, name_ja = 3, name_en = 4); businesses = 4 and items = 5
  // (PolicyNamedCode: code = 1, name_ja = 2, name_en = 3). Every other field is skipped.
  // → {version (BigInt), agencies, businesses, items}, each a Map code → {ja, en}; throws
  // when malformed, unversioned, or when a code appears twice in one list.
  function parsePolicyBundle(bytes) {
    const policy = { version: 0n, agencies: new Map(), businesses: new Map(), items: new Map() };
    const lists = {
      3: { map: policy.agencies, what: 'agency', fields: { 1: 'code', 3: 'ja', 4: 'en' } },
      4: { map: policy.businesses, what: 'business', fields: { 1: 'code', 2: 'ja', 3: 'en' } },
      5: { map: policy.items, what: 'item', fields: { 1: 'code', 2: 'ja', 3: 'en' } },
    };
    for (const f of protoFields(asBytes(bytes))) {
      if (f.field === 1 && f.wire === 0) { policy.version = f.value; continue; }
      const list = lists[f.field];
      if (!list || f.wire !== 2) continue;
      const n = lastBytes(protoFields(f.value), list.fields);
      const code = protoString(n.code, `${list.what} code`);
      if (list.map.has(code)) throw new Error(`${list.what} ${code} appears twice`);
      list.map.set(code, { ja: protoString(n.ja, `${list.what} ${code}'s name_ja`),
                           en: protoString(n.en, `${list.what} ${code}'s name_en`) });
    }
    if (policy.version === 0n) throw new Error('the bundle has no version');
    return policy;
  }

  // Checks the portal's signed policy bundle file (`file`, bytes; null when the portal has
  // none) against the policy administrator's keys the trust document names (`policyKeys`,
  // hex). In order: keys, presence, the file, its format, its signer field (when it names a
  // key, that key must be one of them), the signature (by that key, or by any of them when
  // the field names none), the bundle.
  // → {ok, reason, key, detail, policy, signer}
  //   reason: 'ok' | 'trustNoPolicyKeys' | 'noPolicy' | 'policyMalformed' |
  //           'policyUnknownSigner' | 'policyBad'
  //   key: the key at fault (hex; for 'policyBad' without a signer field, the keys tried,
  //   ", " between); detail: what is malformed (English); policy: parsePolicyBundle's and
  //   signer: the key whose signature verified, when ok.
  async function verifyPolicy(file, policyKeys) {
    const keys = trustRootsOf(policyKeys);
    const result = { ok: false, reason: '', key: '', detail: '', policy: null, signer: '' };
    const fail = (reason, extra) => Object.assign(result, { reason }, extra || {});
    if (keys.length === 0) return fail('trustNoPolicyKeys');
    if (file == null) return fail('noPolicy');
    let parsed;
    try { parsed = parsePolicyFile(file); } catch (e) { return fail('policyMalformed', { detail: e.message }); }
    if (parsed.format !== POLICY_FORMAT) {
      return fail('policyMalformed', { detail: `format "${parsed.format}", not "${POLICY_FORMAT}"` });
    }
    const named = parsed.signer.length === 32 ? bytesToHex(parsed.signer) : null;
    if (named !== null && !keys.includes(named)) return fail('policyUnknownSigner', { key: named });
    const candidates = named !== null ? [named] : keys;
    let signer = null;
    if (parsed.signature.length === 64) {
      const message = policySigningInput(parsed.bundle);
      for (const k of candidates) {
        let valid = false;
        try { valid = await ed25519Verify(k, parsed.signature, message); } catch (e) { valid = false; }
        if (valid) { signer = k; break; }
      }
    }
    if (signer === null) return fail('policyBad', { key: candidates.join(', ') });
    let policy;
    try { policy = parsePolicyBundle(parsed.bundle); } catch (e) {
      return fail('policyMalformed', { key: signer, detail: e.message });
    }
    return Object.assign(result, { ok: true, reason: 'ok', key: signer, policy, signer });
  }

  // Which list each named field of a record takes its names from.
  const NAMED_FIELDS = Object.freeze([['inquirer', 'agencies'], ['provider', 'agencies'],
                                      ['business', 'businesses'], ['item', 'items']]);

  // Whether every record shows, for its inquirer, provider, business and item, exactly the
  // names `policy` (parsePolicyBundle's) gives the code, both name_ja and name_en; a code
  // the bundle lacks must show the code itself as both names (portal/history_view.cc).
  // → null, or the first mismatch: {sequence, field ('inquirer' | 'provider' | 'business' |
  //   'item'), code, lang ('ja' | 'en'), shown, signed}
  function checkNames(records, policy) {
    for (const record of Array.isArray(records) ? records : []) {
      for (const [field, list] of NAMED_FIELDS) {
        const x = record[field];
        const code = codeOf(x);
        const signed = policy[list].get(code) || { ja: code, en: code };
        const shown = x && typeof x === 'object' ? x : {};
        for (const lang of ['ja', 'en']) {
          const name = shown[`name_${lang}`];
          if (name !== signed[lang]) {
            return { sequence: record.sequence, field, code, lang,
                     shown: typeof name === 'string' ? name : '', signed: signed[lang] };
          }
        }
      }
    }
    return null;
  }

  function sameInteger(a, b) {
    try { return toBigInt(a) === toBigInt(b); } catch (e) { return false; }
  }

  // Checks that `records` are one person's whole history (less what the law withholds) as
  // the v2 signed tree head `head` commits to it, with the map proof `proof`, and that the
  // head is one to trust. In order: the trust document `trust` against `trustRoots` (by
  // default the page's IPN_TRUST_ROOTS); the head is signed by one of its records keys;
  // the head is cosigned (`cosignature`) by one of its witness keys; then the head and its
  // signature, each record's inclusion proof, whose records they are, their order, that no
  // withheld record is shown, the history chain against the proof, and the proof against
  // the head's person map root. Last, the names each record shows (`policy`: the bytes of
  // the signed policy bundle file GET /api/policy serves, null when it has none): the
  // bundle is signed by one of the trust document's policy keys, and every record shows
  // its codes' names exactly as the bundle has them.
  // → {ok, reason, sequence, count, failed: [sequence…], total, treeSize, signer, witness, key,
  //    cosignedSize, detail, policy, policySigner, policyVersion, name}
  //   reason: 'ok' | 'noTrustRoots' | 'noTrust' | 'trustMalformed' | 'trustUnknownSigner' |
  //           'trustBad' | 'trustNoKeys' | 'noHead' | 'headUnknownSigner' | 'noCosignature' |
  //           'cosignMismatch' | 'cosignUnknownWitness' | 'cosignBad' | 'headVersion' |
  //           'headBad' | 'inclusion' | 'noProof' | 'otherPerson' | 'duplicate' | 'order' |
  //           'withheldShown' | 'missing' | 'extra' | 'notHistory' | 'mapBad' |
  //           'trustNoPolicyKeys' | 'noPolicy' | 'policyMalformed' | 'policyUnknownSigner' |
  //           'policyBad' | 'nameMismatch'
  //   sequence: the record at fault; count: how many exchanges are missing or extra;
  //   key: the key at fault (hex), for the trust, cosignature and policy reasons;
  //   cosignedSize: the cosignature's tree size, for 'cosignMismatch';
  //   detail: what is malformed, for 'policyMalformed' (English);
  //   policy (parsePolicyBundle's), policySigner (hex), policyVersion (BigInt): the bundle
  //   the names were checked against, when the bundle verified;
  //   name: checkNames' mismatch, for 'nameMismatch'.
  // The policy reasons and 'nameMismatch' come only after every check of the records passed.
  async function verifyHistory(records, head, proof, trust, cosignature, policy,
                               trustRoots = root.IPN_TRUST_ROOTS) {
    const list = Array.isArray(records) ? records : [];
    const result = { ok: false, reason: '', sequence: null, count: 0, failed: [], total: list.length,
                     treeSize: head && typeof head === 'object' ? head.tree_size : null,
                     signer: String((head && typeof head === 'object' && head.signer) || ''),
                     witness: '', key: '', cosignedSize: null, detail: '', policy: null,
                     policySigner: '', policyVersion: null, name: null };
    const fail = (reason, extra) => Object.assign(result, { reason }, extra || {});

    // a. The trust document, signed by one of the page's trust roots.
    const trusted = await verifyTrust(trust, trustRoots);
    if (!trusted.ok) return fail(trusted.reason, { key: trusted.key });

    // b. A head, signed by a records key the trust document names.
    if (!head || typeof head !== 'object') return fail('noHead');
    const signer = keyHex(head.signer);
    if (signer === null || !trusted.doc.recordsKeys.includes(signer)) {
      return fail('headUnknownSigner', { key: result.signer });
    }

    // c. The oversight commission's cosignature on that very head, by a witness key the
    // trust document names.
    if (!cosignature || typeof cosignature !== 'object') return fail('noCosignature');
    result.cosignedSize = cosignature.tree_size;
    if (!sameInteger(cosignature.tree_size, head.tree_size) ||
        !sameInteger(cosignature.timestamp_us, head.timestamp_us)) {
      return fail('cosignMismatch');
    }
    const witness = keyHex(cosignature.witness);
    if (witness === null) return fail('cosignBad');
    if (!trusted.doc.witnessKeys.includes(witness)) return fail('cosignUnknownWitness', { key: witness });
    if (head.version !== 2) return fail('headVersion');  // the cosigned encoding is a v2 head's
    if (!(await verifyCosignature(head, cosignature))) return fail('cosignBad', { key: witness });
    result.witness = witness;

    // 1. A v2 head, signed.
    if (head.version !== 2) return fail('headVersion');
    let headOk = false;
    try { headOk = await verifyHeadSignature(head); } catch (e) { headOk = false; }
    if (!headOk) return fail('headBad');

    // 2. Every record in the log the head signs.
    const failed = await failedInclusions(list, head);
    if (failed.length) return fail('inclusion', { failed });

    let p;
    try { p = parseHistoryProof(proof); } catch (e) { return fail('noProof'); }

    // 3. Every record about the person whose history the proof opens.
    for (const record of list) {
      if (!equalBytes(asBytes(record.record_symbol, 32, 'record_symbol'), p.key)) {
        return fail('otherPerson', { sequence: record.sequence, failed: [record.sequence] });
      }
    }

    // 4. Each record once, in the log's order.
    const seen = new Set();
    for (const record of list) {
      const n = String(toBigInt(record.sequence, 'sequence'));
      if (seen.has(n)) return fail('duplicate', { sequence: record.sequence, failed: [record.sequence] });
      seen.add(n);
    }
    for (let i = 1; i < list.length; i++) {
      if (toBigInt(list[i].sequence) < toBigInt(list[i - 1].sequence)) {
        return fail('order', { sequence: list[i].sequence });
      }
    }

    // 5. Nothing withheld from disclosure shown.
    for (const record of list) {
      if (isSettling(record) && record.non_disclosure) {
        return fail('withheldShown', { sequence: record.sequence, failed: [record.sequence] });
      }
    }

    // 6. The exchanges shown are the history the proof commits to.
    const shown = await historyChain(list);
    const committed = p.end === 'leaf' ? { chain: p.chain, count: p.count }
                                       : { chain: new Uint8Array(32), count: 0n };
    if (shown.count < committed.count) return fail('missing', { count: Number(committed.count - shown.count) });
    if (shown.count > committed.count) return fail('extra', { count: Number(shown.count - committed.count) });
    if (!equalBytes(shown.chain, committed.chain)) return fail('notHistory');

    // 7. The proof leads to the person map root the head signs.
    let rootOk = false;
    try {
      const mapRoot = await mapRootOfProof(p);
      rootOk = mapRoot !== null && equalBytes(mapRoot, asBytes(head.person_root, 32, 'person_root'));
    } catch (e) { rootOk = false; }
    if (!rootOk) return fail('mapBad');

    // 8. The names shown are the policy bundle's, signed by a policy key the trust
    // document names.
    const signed = await verifyPolicy(policy, trusted.doc.policyKeys);
    if (!signed.ok) return fail(signed.reason, { key: signed.key, detail: signed.detail });
    Object.assign(result, { policy: signed.policy, policySigner: signed.signer,
                            policyVersion: signed.policy.version });
    const name = checkNames(list, signed.policy);
    if (name) return fail('nameMismatch', { sequence: name.sequence, failed: [name.sequence], name });

    return Object.assign(result, { ok: true, reason: 'ok' });
  }

  root.ipnVerify = Object.freeze({
    EVENT_CODES, SETTLING_EVENTS, encodeLeaf, leafHash, nodeHash, verifyInclusion, headSigningInput,
    verifyHeadSignature, verifyRecords, historyChainStep, historyValueHash, mapLeafHash, mapNodeHash,
    historyChain, verifyHistory, hexToBytes, bytesToHex, trustSigningInput, parseTrustText, verifyTrust,
    encodeTreeHead, cosigningInput, verifyCosignature, protoFields, parsePolicyFile, policySigningInput,
    parsePolicyBundle, verifyPolicy, checkNames, codeOf,
  });
})();
