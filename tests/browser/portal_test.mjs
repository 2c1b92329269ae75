// Browser tests of the disclosure portal, in headless Debian Chromium driven by
// playwright-core, against a real demo network (`ipn demo --keep-running`: the core,
// nodes, demo agencies, the commission's node and ipn-portal, all real processes on
// loopback). Citizens get in by their card only (SoftHSM2 tokens issued by the demo's card
// issuer with `ipn card issue`, linked with `ipn card link`, signing with `ipn card sign`,
// the local card application): the demo citizen logs in through the page and sees
// exactly their own records — the commission's verified pull of the whole log is the
// yardstick, and the exchange the provider declared non-disclosure is in the pull but not
// on the page; the language switches; the page's own check against the signed tree head
// passes, and says A's history is complete (for a period too, over the whole history);
// a lying portal (request interception) is caught, each lie with its own message: a head
// signed by a key the trust document does not name, a head without the oversight
// commission's cosignature, one cosigned by another witness key or with a broken
// cosignature, a trust document signed by a key the page does not pin, an exchange
// dropped, every record dropped, a record twice, exchanges reordered, another citizen's
// exchange slipped in, the tail cut off, a forged proof, a period's answer that leaves out
// or alters a record; the names shown are the signed policy bundle's, and a name changed
// (in the history, in a period's answer, or in the bundle too), a bundle signed by a key
// the trust document does not name, one with a broken signature and none at all are each
// caught with their own message; the CSV download matches; a second citizen enrols with their card through the
// page; a resident code alone, an unlinked, revoked or foreign card, a signature for
// another origin, a replayed challenge and wrong PINs are refused, and the card locks
// after three; a limit reached says when to try again; and no URL, parameter, cookie or
// forged login reaches another citizen's records. Finally no file the run left holds an
// enrolled resident code.
//
//   node tests/browser/portal_test.mjs --bin-dir build/bin [--screenshot-dir docs]
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const binDir = path.resolve(args['bin-dir'] || path.join(here, '../../build/bin'));
const chromiumPath = process.env.IPN_CHROMIUM || '/usr/bin/chromium';

let failures = 0;
function check(cond, what) {
  if (cond) {
    console.log(`ok    ${what}`);
  } else {
    failures++;
    console.log(`FAIL  ${what}`);
  }
}
function fatal(message) {
  console.error(`portal_test: ${message}`);
  process.exit(1);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  fatal('playwright-core is missing: run scripts/setup (it runs npm ci in tests/browser)');
}
if (!fs.existsSync(chromiumPath)) fatal(`${chromiumPath} is missing: run scripts/setup`);
for (const exe of ['ipn', 'ipn-core', 'ipn-node', 'ipn-agency', 'ipn-portal']) {
  if (!fs.existsSync(path.join(binDir, exe))) fatal(`${binDir}/${exe} is missing: build first`);
}

// Valid resident codes: ten random digits and the check digit (../shared/data/README.md).
function residentCode() {
  const d = Array.from({ length: 10 }, () => crypto.randomInt(10));
  const weights = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5];
  let sum = 0;
  for (let n = 0; n < 10; n++) sum += d[9 - n] * weights[n];
  const r = sum % 11;
  return d.join('') + String(r <= 1 ? 0 : 11 - r);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ipn-portal-test-'));
const netDir = path.join(work, 'net');
const codes = Array.from({ length: 60 }, residentCode);
fs.writeFileSync(path.join(work, 'residents.txt'), codes.join('\n') + '\n');

// --- the network ---------------------------------------------------------------------
// The card commands sign with SoftHSM2, which leaks a few bytes per signature: under the
// sanitizer build's leak checker they ignore that leak (and only that one).
const softhsmEnv = {
  ...process.env,
  LSAN_OPTIONS: `suppressions=${path.join(here, '../support/softhsm.lsan')}`,
  ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'fast_unwind_on_malloc=0'].filter(Boolean).join(':'),
};
const demo = spawn(path.join(binDir, 'ipn'),
  ['demo', '--keep-running', '--data-dir', netDir, '--residents', path.join(work, 'residents.txt'),
   '--bin-dir', binDir], { stdio: ['ignore', 'pipe', 'pipe'] });
let demoOutput = '';
demo.stdout.on('data', (d) => { demoOutput += d; });
demo.stderr.on('data', (d) => { demoOutput += d; });
let demoExit = null;
const demoExited = new Promise((resolve) => demo.on('exit', (code, signal) => { demoExit = code ?? signal; resolve(); }));

let browser;
async function cleanUp() {
  if (browser) await browser.close().catch(() => {});
  if (demoExit === null) demo.kill('SIGKILL');
}
process.on('uncaughtException', async (e) => { console.error(e); await cleanUp(); process.exit(1); });

const readyFile = path.join(netDir, 'demo-ready.json');
const deadline = Date.now() + 90_000;
while (!fs.existsSync(readyFile)) {
  if (demoExit !== null) fatal(`ipn demo exited (${demoExit}) before it was ready:\n${demoOutput}`);
  if (Date.now() > deadline) { await cleanUp(); fatal(`ipn demo was not ready in time:\n${demoOutput}`); }
  await new Promise((r) => setTimeout(r, 100));
}
const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
const portal = ready.portal_url.replace(/\/$/, '');
const citizenA = ready.citizen_index;
console.log(`portal at ${portal}; demo citizen is resident #${citizenA + 1}`);

// --- the yardstick: the commission's pull of the whole log ---------------------------
const pullFile = path.join(work, 'pull.jsonl');
const ipn = (...a) => spawnSync(path.join(binDir, 'ipn'), a, { encoding: 'utf8' });
const pulled = ipn('oversight', 'pull', '--node', ready.commission_node, '--from', '2000-01-01',
  '--to', '2100-01-01', '--output', pullFile);
check(pulled.status === 0, `the commission pulls the log (${pulled.stderr.trim()})`);
const verified = ipn('oversight', 'verify', '--input', pullFile);
check(verified.status === 0, 'the pull verifies against its signed tree head');
// The commission's other tools on the same run: usage, fees, anomaly flags.
const month = new Date().toISOString().slice(0, 7);
const stats = ipn('oversight', 'stats', '--node', ready.commission_node, '--month', month, '--json');
check(stats.status === 0, 'the commission reads the month\'s statistics');
const statsJson = stats.status === 0 ? JSON.parse(stats.stdout) : { usage: [] };
check(statsJson.usage.some((u) => u.inquirer === 'PEN-0001' && u.provider === 'MUN-131016' && u.exchanges > 0),
  'usage counts the pension service\'s inquiries to the municipality');
// Fees: a tariff signed by a policy administrator, the statement from the verified pull,
// against the same count made here from the pulled records (provided, once per exchange,
// in this JST quarter).
const adminSecret = path.join(work, 'admin.secret'), adminPublic = path.join(work, 'admin.public');
const tariffFile = path.join(work, 'tariff.txt');
ipn('policy', 'keygen', '--secret-key', adminSecret, '--public-key', adminPublic);
fs.writeFileSync(tariffFile, 'version = 1\neffective_from = 2000-01-01\nyen_per_exchange = 0.5\n');
const tariffSigned = ipn('oversight', 'tariff-sign', '--input', tariffFile, '--key', adminSecret);
check(tariffSigned.status === 0, `the policy administrator signs the tariff${tariffSigned.status ? ` (${tariffSigned.stderr.trim()})` : ''}`);
const jstNow = new Date(Date.now() + 9 * 3600e3);
const quarterName = `${jstNow.getUTCFullYear()}Q${Math.floor(jstNow.getUTCMonth() / 3) + 1}`;
const qFirstMonth = Math.floor(jstNow.getUTCMonth() / 3) * 3;
const qFrom = Date.UTC(jstNow.getUTCFullYear(), qFirstMonth, 1) - 9 * 3600e3;
const qTo = Date.UTC(jstNow.getUTCFullYear(), qFirstMonth + 3, 1) - 9 * 3600e3;
const pullHead = JSON.parse(fs.readFileSync(pullFile, 'utf8').split('\n')[0]).head;
const feeRun = ipn('oversight', 'fees', '--input', pullFile, '--quarter', quarterName, '--tariff', tariffFile,
  '--admin-key', adminPublic, '--records-key', pullHead.signer, '--format', 'json');
check(feeRun.status === 0, `the commission computes ${quarterName}'s fee statement${feeRun.status ? ` (${feeRun.stderr.trim()})` : ''}`);
const statement = feeRun.status === 0 ? JSON.parse(feeRun.stdout) : { inquirers: [], chargeable_exchanges: -1 };
const charged = new Map();
for (const l of fs.readFileSync(pullFile, 'utf8').trim().split('\n').map((x) => JSON.parse(x))) {
  if (l.type !== 'record' || l.event !== 'provided') continue;
  const t = l.time_unix_us / 1000;
  if (!(t >= qFrom && t < qTo)) continue;
  charged.set(`${l.inquirer}|${l.request_id}`, l.inquirer);
}
const perInquirer = {};
for (const inquirer of charged.values()) perInquirer[inquirer] = (perInquirer[inquirer] || 0) + 1;
check(charged.size > 0 && statement.chargeable_exchanges === charged.size &&
  statement.inquirers.every((i) => i.amount_yen === (perInquirer[i.inquirer] * 0.5).toFixed(2)) &&
  statement.inquirers.length === Object.keys(perInquirer).length,
  `the fee statement matches the pulled records (${charged.size} chargeable exchanges)`);
const anomalies = ipn('oversight', 'anomalies', '--input', pullFile, '--json');
const flags = anomalies.status <= 1 ? JSON.parse(anomalies.stdout) : null;
check(flags !== null && (anomalies.status === 1) === (flags.length > 0),
  `anomaly flags run on the pull (${flags ? flags.length : 'error'}: ${flags ? [...new Set(flags.map((f) => f.rule))].join(', ') : anomalies.stderr})`);
const pulledLines = fs.readFileSync(pullFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const pulledSeqs = new Set(pulledLines.filter((l) => l.type === 'record').map((l) => l.sequence));
check(flags !== null && flags.every((f) => f.sequences.length > 0 && f.sequences.every((q) => pulledSeqs.has(q))),
  'every flag names records of the pull');

const pulledRecords = fs.readFileSync(pullFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((l) => l.type === 'record');

// What the citizen with record symbol `symbol` should see: every record of theirs, less
// the exchanges (inquirer + request id) the provider declared non-disclosure.
function expectedFor(symbol) {
  const mine = pulledRecords.filter((r) => r.record_symbol === symbol);
  const key = (r) => `${r.inquirer}|${r.request_id}`;
  const ends = ['inquiry_refused', 'provided', 'not_held', 'failed', 'timed_out'];
  const settled = new Set(mine.filter((r) => ends.includes(r.event)).map(key));
  const withheld = new Set(mine.filter((r) => r.non_disclosure || !settled.has(key(r))).map(key));
  const shown = mine.filter((r) => !withheld.has(`${r.inquirer}|${r.request_id}`));
  return { mine, withheld, shown };
}

// --- cards: the issuer's counter and the citizen's card application --------------------
const cardEnv = { ...softhsmEnv, SOFTHSM2_CONF: ready.softhsm_conf };
const PIN = '8642';
function run(cmd, argv, extraEnv = {}) {
  return spawnSync(cmd, argv, { encoding: 'utf8', env: { ...cardEnv, ...extraEnv } });
}
function newCard(label, issuerDir = ready.card_issuer) {
  const init = run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', '97531']);
  if (init.status !== 0) fatal(`softhsm2-util: ${init.stderr}`);
  const issued = run(path.join(binDir, 'ipn'), ['card', 'issue', '--issuer', issuerDir, '--token', label],
    { IPN_TOKEN_PIN: PIN });
  if (issued.status !== 0) fatal(`ipn card issue: ${issued.stderr}`);
  return issued.stdout.trim();
}
function linkCard(serial, code) {
  return run(path.join(binDir, 'ipn'), ['card', 'link', '--issuer', ready.card_issuer, '--node', ready.registry_node,
    '--serial', serial], { IPN_RESIDENT_CODE: code });
}
// The card application: its JSON answer, or null with its complaint in `.error`.
function cardSign(label, origin, challenge, pin = label === ready.citizen_card ? ready.citizen_card_pin : PIN) {
  const r = run(path.join(binDir, 'ipn'), ['card', 'sign', '--token', label, '--origin', origin,
    '--challenge', challenge], { IPN_TOKEN_PIN: pin });
  return r.status === 0 ? { answer: r.stdout.trim() } : { answer: null, error: r.stderr.trim() };
}
const origin = ready.portal_origin;
check(origin === portal, `the portal states its origin (${origin})`);

// --- the browser ---------------------------------------------------------------------
browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });

// The page's card panel: the challenge it shows, signed by the card application, pasted.
async function signThePagesChallenge(page, label, pin = undefined) {
  await page.waitForSelector('#login-view:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#card-challenge').textContent.length === 43);
  const shownOrigin = await page.textContent('#card-origin');
  const challenge = await page.textContent('#card-challenge');
  const signed = cardSign(label, shownOrigin, challenge, pin);
  if (signed.answer) await page.fill('#card-answer', signed.answer);
  return signed;
}
async function withCardThroughThePage(context, label, button) {
  const page = await context.newPage();
  await page.goto(portal + '/');
  const signed = await signThePagesChallenge(page, label);
  if (!signed.answer) fatal(`the card application refused: ${signed.error}`);
  await page.click(button);
  await page.waitForSelector('#history-view:not([hidden])', { timeout: 20_000 });
  await page.waitForSelector('#history .exchange', { timeout: 20_000 });
  return page;
}
async function historyJson(page, query = '') {
  return page.evaluate(async (q) => {
    const half = sessionStorage.getItem('ipn-session');
    const headers = half ? { Authorization: `Bearer ${half}` } : {};
    const res = await fetch('/api/history' + q, { credentials: 'same-origin', headers });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, query);
}
async function shownRequestIds(page) {
  return page.$$eval('#history .exchange', (rows) => rows.map((r) => r.getAttribute('data-request-id')));
}
const sorted = (xs) => [...xs].sort();
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

// Citizen A is the demo's citizen, whose card `ipn demo` issued and linked: A enrols
// through the page with it.
const contextA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const pageA = await withCardThroughThePage(contextA, ready.citizen_card, '#card-enrol');
check(await pageA.inputValue('#card-answer').catch(() => '') === '', 'the pasted card answer is cleared');
check(await pageA.$('input[inputmode="numeric"]') === null && !/住民票コード（11桁/.test(await pageA.content()),
  'the page asks for no resident code');
const apiA = await historyJson(pageA);
check(apiA.status === 200 && apiA.body.records.length > 0, `A's history has records (${apiA.body?.records?.length})`);
const symbolA = apiA.body.records[0].record_symbol;
check(apiA.body.records.every((r) => r.record_symbol === symbolA), 'every record shown to A is about one person');
const expectA = expectedFor(symbolA);
check(expectA.withheld.size > 0, `A has an exchange the provider withheld (${expectA.withheld.size}), and the commission sees it`);
check(same(apiA.body.records.map((r) => r.sequence), expectA.shown.map((r) => r.sequence)),
  `A sees exactly their records less the withheld ones (${expectA.shown.length} of ${expectA.mine.length})`);
const idsA = await shownRequestIds(pageA);
check(same(new Set(idsA), new Set(expectA.shown.map((r) => r.request_id))) && idsA.length === new Set(idsA).size,
  `the page lists each of A's exchanges once (${idsA.length})`);
check(!apiA.body.records.some((r) => r.non_disclosure), 'no non-disclosure record reaches the citizen');
for (const key of expectA.withheld) {
  check(!idsA.includes(key.split('|')[1]), `withheld exchange ${key.split('|')[1]} is not on the page`);
}

// Language toggle.
check(await pageA.getAttribute('html', 'lang') === 'ja', 'the page opens in Japanese');
await pageA.click('#lang-toggle');
check(await pageA.getAttribute('html', 'lang') === 'en', 'the toggle switches to English');
const englishText = await pageA.textContent('body');
check(/Disclosure/.test(englishText) && /Inquiring agency|inquiring agency/i.test(englishText),
  'English labels are shown');
await pageA.click('#lang-toggle');
check(await pageA.getAttribute('html', 'lang') === 'ja' && /照会機関/.test(await pageA.textContent('body')),
  'and back to Japanese');

// The page's own check against the signed tree head: every record, and that the history
// shown is A's whole history (less what the law withholds).
async function verifyOnThePage(page) {
  await page.click('#verify-button');
  await page.waitForFunction(() => {
    const v = document.querySelector('#verify-result');
    return (v.classList.contains('ok') || v.classList.contains('failed')) && v.textContent.length > 0;
  }, null, { timeout: 20_000 });
  return { ok: await page.$('#verify-result.ok') !== null,
           key: await page.getAttribute('#verify-result', 'data-result'),
           text: (await page.textContent('#verify-result')).trim() };
}
const honestCheck = await verifyOnThePage(pageA);
check(honestCheck.ok && honestCheck.key === 'verifyComplete',
  `the page verifies every record and that A's history is complete (${honestCheck.text})`);

// CSV download through the page's button (it fetches with the session's header half):
// the same records, no withheld one.
const [download] = await Promise.all([pageA.waitForEvent('download'), pageA.click('#download-csv')]);
const csvText = fs.readFileSync(await download.path(), 'utf8');
check(download.suggestedFilename() === 'ipn-history.csv', 'the download is named ipn-history.csv');
const csvRows = csvText.trim().split(/\r?\n/).slice(1);
check(csvText.includes('日時（日本時間）,出来事,照会機関コード'), 'the CSV speaks Japanese by default');
check(!/,(inquiry_accepted|forwarded|provided|received),/.test(csvText), 'its events are words, not codes');
check(csvRows.length === expectA.shown.length, `the CSV has A's ${csvRows.length} records`);
for (const key of expectA.withheld) check(!csvText.includes(key.split('|')[1]), 'the CSV omits the withheld exchange');

// Period filter: a period before the demo shows nothing; today's shows everything.
await pageA.fill('#filter-from', '2001-01-01');
await pageA.fill('#filter-to', '2001-12-31');
await pageA.click('#filter-apply');
await pageA.waitForFunction(() => document.querySelectorAll('#history .exchange').length === 0);
check(true, 'a period without exchanges shows none');
// The check of a period runs over A's whole history, fetched without the period.
const periodCheck = await verifyOnThePage(pageA);
check(periodCheck.ok && periodCheck.key === 'verifyCompletePeriod',
  `for a period, the page checks A's whole history (${periodCheck.text})`);
await pageA.click('#filter-clear');
await pageA.waitForSelector('#history .exchange');

// Screenshots of the history page (desktop and phone) for docs/.
const shots = args['screenshot-dir'] ? path.resolve(args['screenshot-dir']) : work;
await pageA.screenshot({ path: path.join(shots, 'portal-history.png'), fullPage: false });
const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });

// A's card on a second device (a phone): the same person, the same exchanges.
const phonePage = await withCardThroughThePage(phone, ready.citizen_card, '#card-login');
check(same(await shownRequestIds(phonePage), idsA), 'the same card logs in as the same citizen on another device');
const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
check(!overflow, 'the history page fits a 375-pixel-wide phone without sideways scrolling');
await phonePage.screenshot({ path: path.join(shots, 'portal-history-phone.png'), fullPage: false });

// Citizen B: another resident the demo asked about, issued a card and linked at the
// counter, enrols through the page.
const citizenB = citizenA === 0 ? 1 : 0;
const serialB = newCard('card-b');
const linkedB = linkCard(serialB, codes[citizenB]);
check(linkedB.status === 0, `the issuer links B's card (${linkedB.stderr.trim() || linkedB.stdout.trim()})`);
const contextB = await browser.newContext();
const pageB = await withCardThroughThePage(contextB, 'card-b', '#card-enrol');
const apiB = await historyJson(pageB);
const symbolB = apiB.body.records[0].record_symbol;
check(symbolB !== symbolA, 'B is another person');
check(same(apiB.body.records.map((r) => r.sequence), expectedFor(symbolB).shown.map((r) => r.sequence)),
  'B sees exactly B\'s records');
const idsB = await shownRequestIds(pageB);

// On B's page, logged out: what is refused, and the page says why in Japanese.
await pageB.click('#logout');
async function refusedOnThePage(page, label, button, what, { pin = undefined, signOrigin = null } = {}) {
  await page.waitForFunction(() => document.querySelector('#card-challenge').textContent.length === 43);
  const challenge = await page.textContent('#card-challenge');
  const signed = cardSign(label, signOrigin || await page.textContent('#card-origin'), challenge, pin);
  if (!signed.answer) fatal(`${what}: the card application refused: ${signed.error}`);
  await page.fill('#card-answer', signed.answer);
  await page.evaluate(() => { const m = document.querySelector('#message'); m.className = 'message'; m.textContent = ''; });
  await page.click(button);
  await page.waitForFunction(() => {
    const m = document.querySelector('#message');
    return m.classList.contains('error') && m.textContent.length > 0;
  }, null, { timeout: 20_000 });
  // The attempt used its challenge: wait for the page's next one before the next attempt.
  await page.waitForFunction(() => document.querySelector('#card-challenge').textContent.length === 43);
  const text = await page.textContent('#message');
  check(await page.isVisible('#login-view') && !/[A-Za-z]{3,}/.test(text.replace(/https?:\/\/\S+/g, '')),
    `${what} is refused, and the Japanese page says so in Japanese ("${text}")`);
  return text;
}
await pageB.waitForSelector('#login-view:not([hidden])');
// A resident code alone: the page has no field for it, and the API takes none.
// (From another loopback address: this run's own enrolment attempts stay within the
// per-address limit, 10 a minute.)
const byCodeStatus = await new Promise((resolve) => {
  const body = JSON.stringify({ resident_code: codes[citizenB], public_key: crypto.randomBytes(32).toString('base64url') });
  const req = http.request(portal + '/api/enrol', { method: 'POST', localAddress: '127.0.0.2',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
  (res) => { res.resume(); resolve(res.statusCode); });
  req.on('error', () => resolve(0));
  req.end(body);
});
check(byCodeStatus === 400, `knowing a resident code without the card enrols nobody (${byCodeStatus})`);
// The portal's own words for each refusal, over the API from another loopback address
// (so that this run's attempts stay within the per-address limits).
function postFrom(localAddress, p, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request(portal + p, { method: 'POST', localAddress,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON: json stays null */ }
        resolve({ status: res.statusCode, body: json });
      });
    });
    req.on('error', (e) => resolve({ status: 0, body: { error: String(e) } }));
    req.end(data);
  });
}
async function refusal(label, p) {
  const { body: { challenge } } = await postFrom('127.0.0.3', '/api/challenge', {});
  const signed = JSON.parse(cardSign(label, origin, challenge).answer);
  const r = await postFrom('127.0.0.3', p,
    { challenge, certificate: signed.certificate, signature: signed.signature });
  return { status: r.status, error: r.body?.error || '' };
}
// A genuine card of the issuer that was never linked to anyone.
newCard('card-unlinked');
await refusedOnThePage(pageB, 'card-unlinked', '#card-enrol', 'an unlinked card');
const unlinkedWhy = await refusal('card-unlinked', '/api/enrol');
check(unlinkedWhy.status !== 200 && /not linked to anyone/.test(unlinkedWhy.error),
  `the portal says the card is linked to no one (${unlinkedWhy.status}: ${unlinkedWhy.error})`);
// Another issuer's card, however well made.
const rogueIssuer = path.join(work, 'rogue-issuer');
check(run(path.join(binDir, 'ipn'), ['card', 'init-issuer', '--issuer', rogueIssuer, '--name', 'rogue']).status === 0,
  'a rogue issuer is set up');
newCard('card-rogue', rogueIssuer);
await refusedOnThePage(pageB, 'card-rogue', '#card-enrol', 'a card from another issuer');
const rogueWhy = await refusal('card-rogue', '/api/enrol');
check(rogueWhy.status === 401 && rogueWhy.error === 'the card was not issued by the card issuer this portal trusts',
  `the portal says the card is another issuer's (${rogueWhy.status}: ${rogueWhy.error})`);
// A revoked card: issued, linked and enrolled, then revoked at the issuer.
const serialR = newCard('card-revoked');
const citizenR = citizenA === 2 || citizenB === 2 ? 3 : 2;
linkCard(serialR, codes[citizenR]);
const pageR = await withCardThroughThePage(await browser.newContext(), 'card-revoked', '#card-enrol');
check((await historyJson(pageR)).status === 200, 'the card to be revoked has a session');
const revokedRun = run(path.join(binDir, 'ipn'), ['card', 'revoke', '--issuer', ready.card_issuer, '--serial', serialR]);
check(revokedRun.status === 0, 'the issuer revokes a card');
await refusedOnThePage(pageB, 'card-revoked', '#card-login', 'a revoked card');
const revokedWhy = await refusal('card-revoked', '/api/login');
check(revokedWhy.status === 401 && revokedWhy.error === 'the card has been revoked',
  `the portal says the card is revoked (${revokedWhy.status}: ${revokedWhy.error})`);
// The session the card opened before its revocation ends at its next use.
const afterRevocation = await historyJson(pageR);
check(afterRevocation.status === 401 && /session has ended: the card has been revoked/.test(afterRevocation.body?.error),
  `the revoked card's open session ends (${afterRevocation.status}: ${afterRevocation.body?.error})`);
await pageR.close();
// A signature for another origin: the page refuses to send it at all, and the portal
// refuses it when sent anyway.
const phishText = await refusedOnThePage(pageB, 'card-b', '#card-login', 'a signature for another origin',
  { signOrigin: 'http://127.0.0.1:1' });
check(/127\.0\.0\.1:1/.test(phishText), 'the page names the origin the signature was for');
const post = (p, body) => fetch(portal + p, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
async function cardBody(label, signOrigin = origin) {
  const { challenge } = await (await post('/api/challenge', {})).json();
  const signed = JSON.parse(cardSign(label, signOrigin, challenge).answer);
  return { challenge, certificate: signed.certificate, signature: signed.signature };
}
const phishWhy = await (await post('/api/login', await cardBody('card-b', 'http://127.0.0.1:1'))).json();
check(phishWhy.error === 'the card\'s signature is not for this site and challenge',
  `the portal refuses a signature for another origin (${phishWhy.error})`);
// A replayed answer: the first use logs in, the same answer again is refused.
const genuine = await cardBody('card-b');
check((await post('/api/login', genuine)).status === 200, 'B\'s card logs in over the API');
const replayed = await post('/api/login', genuine);
const replayedWhy = (await replayed.json()).error;
check(replayed.status === 401 && /challenge/.test(replayedWhy),
  `the same signed challenge cannot be replayed (${replayed.status}: ${replayedWhy})`);
// Wrong PINs: the card application signs nothing; the third locks the card for good.
newCard('card-pin');
const wrongs = [1, 2, 3].map(() => cardSign('card-pin', origin, crypto.randomBytes(32).toString('base64url'), '0000'));
check(wrongs.every((w) => w.answer === null) && /locked/.test(wrongs[2].error),
  `three wrong PINs sign nothing and lock the card ("${wrongs[2].error}")`);
const afterLock = cardSign('card-pin', origin, crypto.randomBytes(32).toString('base64url'));
check(afterLock.answer === null && /locked/.test(afterLock.error), 'the locked card refuses even the right PIN');
// A limit reached, for real: B's card has 3 enrolments an hour (one used); then "try
// again at" — and the portal still serves others.
const enrolStatuses = [];
for (let i = 0; i < 3; i++) enrolStatuses.push((await post('/api/enrol', await cardBody('card-b'))).status);
check(JSON.stringify(enrolStatuses) === JSON.stringify([409, 409, 429]),
  `attempts beyond B's card's limit are refused (${enrolStatuses})`);
const overLimit = await (await post('/api/enrol', await cardBody('card-b'))).json();
check(/try again at/.test(overLimit.error) && typeof overLimit.retry_at === 'string',
  `and answered "try again at …" (${overLimit.error})`);
check((await historyJson(pageA)).status === 200, 'while the portal still serves A');
// The page shows a reached limit with the time to try again, in JST (a 429 as the portal
// answers a flood of challenges from one address).
const retryAt = Date.UTC(2026, 0, 2, 3, 4, 5);  // 12:04:05 JST
await pageB.route('**/api/challenge', (route) => route.fulfill({
  status: 429, contentType: 'application/json', headers: { 'Retry-After': '30' },
  body: JSON.stringify({ error: 'too many challenge attempts from this address; try again at 12:04:05 JST',
    retry_at: '2026-01-02T03:04:05.000000Z', retry_at_unix_ms: retryAt, retry_after_s: 30 }),
}));
await pageB.click('#card-new-challenge');
await pageB.waitForFunction(() => /12:04:05/.test(document.querySelector('#message').textContent), null,
  { timeout: 20_000 });
const limited = await pageB.textContent('#message');
check(/日本時間/.test(limited) && /12:04:05/.test(limited),
      `a reached limit is shown with the time to try again, in Japanese ("${limited}")`);
await pageB.unroute('**/api/challenge');
await pageB.click('#card-new-challenge');
await signThePagesChallenge(pageB, 'card-b');
await pageB.click('#card-login');
await pageB.waitForSelector('#history .exchange', { timeout: 20_000 });
check(idsB.length > 0 && same(await shownRequestIds(pageB), idsB), 'B logs in again through the page with the card');
const seqA = new Set(apiA.body.records.map((r) => r.sequence));
check(!apiB.body.records.some((r) => seqA.has(r.sequence)), 'no record is shown to both A and B');

// --- a lying portal: the page's check that A's history is complete ------------------
// The page's requests for A's history are answered by a liar (Playwright request
// interception): the portal's real answer, altered. The page must catch each lie and say
// which it is. The check's order: the trust document (signed by a key fixed in the page's
// build, trust_roots.js), the head's signer among its records keys, the commission's
// cosignature by one of its witness keys, the head, each record's inclusion, whose
// records, repeats and order, withheld records, the history chain, the map proof.
const SETTLING = ['inquiry_refused', 'provided', 'not_held', 'failed', 'timed_out'];
const exchangeOf = (r) => `${r.inquirer.code}|${r.request_id}`;
const exchangesOf = (records) => [...new Set(records.map(exchangeOf))];  // by first record
const settlingIn = (records) => records.filter((r) => SETTLING.includes(r.event)).length;
let lie = null;      // (A's real answer, B's real answer, the request's URL) → what the page is sent
let planned = {};    // what the current lie expects the page to say
await pageA.route('**/api/history*', async (route) => {
  const url = new URL(route.request().url());
  if (url.pathname !== '/api/history' || !lie) return route.fallback();
  // A's answer and B's under the same signed tree head, so that B's inclusion proofs hold
  // beside A's (the log may have grown between two requests).
  let response, body, other;
  for (let attempt = 0; attempt < 5; attempt++) {
    response = await route.fetch();
    if (!response.ok()) return route.fulfill({ response });
    body = await response.json();
    other = (await historyJson(pageB)).body;
    if (other?.tree_head?.tree_size === body.tree_head?.tree_size) break;
  }
  let told = body;
  try { told = lie(structuredClone(body), structuredClone(other), url); } catch (e) { planned.error = String(e); }
  return route.fulfill({ status: 200, json: told });
});
// The page fetches its history again (through the liar: all dates, or `period`), then
// checks it.
async function verifyThroughTheLiar(alter, period = null) {
  lie = alter;
  planned = {};
  await pageA.evaluate(() => { document.querySelector('#history-count').textContent = ''; });
  if (period) {
    await pageA.fill('#filter-from', period.from);
    await pageA.fill('#filter-to', period.to);
    await pageA.click('#filter-apply');
  } else {
    await pageA.click('#filter-clear');
  }
  await pageA.waitForFunction(() => document.querySelector('#history-count').textContent.length > 0, null,
    { timeout: 20_000 });
  return verifyOnThePage(pageA);
}
function lieCaught(what, result, key, words = '') {
  check(!result.ok && result.key === key && result.text.includes(words) && !planned.error,
    `${what}: the page says so ("${result.text}")${planned.error ? ` [the lie failed: ${planned.error}]` : ''}`);
}
const missingKey = (n) => (n === 1 ? 'verifyMissingOne' : 'verifyMissing');
check(exchangesOf(apiA.body.records).length >= 3, `A has exchanges enough to lie about (${exchangesOf(apiA.body.records).length})`);

// What the honest portal publishes: a trust document signed by a key the page pins,
// naming the key that signs A's head and the witness key that cosigns it.
const pinnedRoots = await pageA.evaluate(() => self.IPN_TRUST_ROOTS);
const trustRes = await fetch(portal + '/api/trust');  // no session needed
const trustDoc = trustRes.ok ? await trustRes.json() : {};
const trustKeys = (kind) => String(trustDoc.text || '').split('\n').filter((l) => l.startsWith(`${kind} `))
  .map((l) => l.slice(kind.length + 1));
check(Array.isArray(pinnedRoots) && pinnedRoots.includes(trustDoc.signer),
  `the portal's trust document is signed by a key the page pins (${trustRes.status}, ${String(trustDoc.signer).slice(0, 16)})`);
const cosigA = apiA.body.cosignature;
check(trustKeys('records_key').includes(apiA.body.tree_head.signer) && cosigA &&
  cosigA.tree_size === apiA.body.tree_head.tree_size && trustKeys('witness_key').includes(cosigA.witness),
  'A\'s head is signed by a records key it names, and cosigned by a witness key it names');
const witnessA = String(cosigA?.witness || '').slice(0, 16);

// The names: the portal serves the policy bundle the policy administrator signed, by a
// key its trust document names (policy_key); a minimal protobuf reader and writer
// (proto/ipn/v1/policy.proto SignedPolicyBundle: format 1, bundle 2, signature 3,
// signer_public_key 4).
function pbFields(buf) {
  const out = [];
  let at = 0;
  const varint = () => {
    let n = 0, mul = 1, b;
    do { b = buf[at++]; n += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
    return n;
  };
  while (at < buf.length) {
    const tag = varint(), wire = tag & 7;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1 || wire === 5) { value = buf.subarray(at, at + (wire === 1 ? 8 : 4)); at += wire === 1 ? 8 : 4; }
    else if (wire === 2) { const n = varint(); value = buf.subarray(at, at + n); at += n; }
    else throw new Error(`wire type ${wire}`);
    out.push({ field: Math.floor(tag / 8), wire, value });
  }
  return out;
}
const pbVarint = (n) => { const o = []; while (n >= 0x80) { o.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); } o.push(n); return Buffer.from(o); };
const pbBytes = (field, bytes) => Buffer.concat([pbVarint(field * 8 + 2), pbVarint(bytes.length), Buffer.from(bytes)]);
const signedPolicyFile = (bundle, signature, signer) => Buffer.concat([
  pbBytes(1, Buffer.from('ipn-policy-bundle/1')), pbBytes(2, bundle), pbBytes(3, signature), pbBytes(4, signer)]);
const policyRes = await fetch(portal + '/api/policy');  // no session needed
const policyFile = policyRes.ok ? Buffer.from(await policyRes.arrayBuffer()) : Buffer.alloc(0);
const policyPart = (n) => { try { return pbFields(policyFile).filter((f) => f.field === n).pop()?.value; } catch { return undefined; } };
const policySigner = Buffer.from(policyPart(4) || []).toString('hex');
let policyVersion = null;
try { policyVersion = pbFields(policyPart(2)).filter((f) => f.field === 1 && f.wire === 0).pop()?.value; } catch { /* none */ }
function policySignatureHolds() {
  try {
    const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(policySigner, 'hex').toString('base64url') },
                                         format: 'jwk' });
    return crypto.verify(null, Buffer.concat([Buffer.from('ipn-policy-bundle/1\n'), policyPart(2)]), key, policyPart(3));
  } catch { return false; }
}
check(policyRes.status === 200 && trustKeys('policy_key').includes(policySigner) && policySignatureHolds() &&
  policyVersion > 0,
  `the portal serves a policy bundle (version ${policyVersion}) signed by a policy key its trust document names ` +
  `(${policyRes.status}, ${policySigner.slice(0, 16)})`);

const relayed = await verifyThroughTheLiar((a) => a);
check(relayed.ok && relayed.key === 'verifyComplete' && relayed.text.includes(witnessA) &&
  relayed.text.includes(`（ポリシーバンドル、バージョン ${policyVersion}、署名者 ${policySigner.slice(0, 16)}）のとおりです。`),
  `the real answer, relayed unchanged, passes and names the commission's witness key and the policy bundle's signer (${relayed.text})`);

// Lies about whom to trust, with Ed25519 keys of the liar's own (node:crypto): the head's
// signing input and fixed encoding as records/tree_head.h has them.
const u64be = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const i64be = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
const unhex = (h) => Buffer.from(h, 'hex');
function liarKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, hex: Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex') };
}
const signWith = (key, bytes) => crypto.sign(null, bytes, key.privateKey).toString('hex');
const headSigningInput = (h) => Buffer.concat([Buffer.from('ipn/records/tree-head/v2'), u64be(h.tree_size),
  i64be(h.timestamp_us), unhex(h.root_hash), unhex(h.person_root), unhex(h.withheld_root)]);
const encodedHead = (h) => Buffer.concat([Buffer.of(2), u64be(h.tree_size), i64be(h.timestamp_us),
  unhex(h.root_hash), unhex(h.person_root), unhex(h.withheld_root), unhex(h.signer), unhex(h.signature)]);
const cosigningInput = (h, at) => Buffer.concat([Buffer.from('ipn/records/cosign/v1\n'), encodedHead(h), u64be(at)]);

let lied = await verifyThroughTheLiar((a) => {
  const key = liarKey();
  planned.key = key.hex.slice(0, 16);
  a.tree_head.signer = key.hex;  // the cosignature is left as it is
  a.tree_head.signature = signWith(key, headSigningInput(a.tree_head));
  return a;
});
lieCaught('the head re-signed by a key the trust document does not name', lied, 'verifyHeadUnknownSigner', planned.key);

lied = await verifyThroughTheLiar((a) => { a.cosignature = null; return a; });
lieCaught('the head without the commission\'s cosignature', lied, 'verifyNoCosignature');

lied = await verifyThroughTheLiar((a) => {
  const key = liarKey();
  const at = Date.now() * 1000;
  planned.key = key.hex.slice(0, 16);
  a.cosignature = { tree_size: a.tree_head.tree_size, timestamp_us: a.tree_head.timestamp_us, witness: key.hex,
                    cosigned_unix_us: at, signature: signWith(key, cosigningInput(a.tree_head, at)) };
  return a;
});
lieCaught('the head cosigned by a key that is not the commission\'s witness key', lied, 'verifyCosignUnknownWitness',
  planned.key);

lied = await verifyThroughTheLiar((a) => {
  const sig = a.cosignature.signature;
  a.cosignature.signature = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
  return a;
});
lieCaught('the commission\'s cosignature broken', lied, 'verifyCosignBad');

// A trust document of the liar's own: the real text, signed by a key the page does not pin.
const liarRoot = liarKey();
await pageA.route('**/api/trust', async (route) => {
  const real = await (await route.fetch()).json();
  const signature = signWith(liarRoot, Buffer.concat([Buffer.from('ipn/portal/trust/v1\n'), Buffer.from(real.text, 'utf8')]));
  return route.fulfill({ status: 200, json: { text: real.text, signer: liarRoot.hex, signature } });
});
lied = await verifyThroughTheLiar((a) => a);
lieCaught('a trust document signed by a key the page does not pin', lied, 'verifyTrustUnknownSigner',
  liarRoot.hex.slice(0, 16));
await pageA.unroute('**/api/trust');

// Lies about the names shown. The records are intact, so the page's message first says
// so, then what is wrong with the names.
const recordsOk = '記録は改ざん・欠落なく確認できましたが、';
function nameLieCaught(what, result, key, text) {
  check(!result.ok && result.key === key && result.text === text && !planned.error,
    `${what}: the page says so ("${result.text}")${result.text === text ? '' : ` [expected "${text}"]`}` +
    `${planned.error ? ` [the lie failed: ${planned.error}]` : ''}`);
}
// One record's business shown under another Japanese name.
lied = await verifyThroughTheLiar((a) => {
  const r = a.records[0];
  Object.assign(planned, { seq: r.sequence, code: r.business.code, signed: r.business.name_ja,
                           shown: `${r.business.name_ja}（改）` });
  r.business.name_ja = planned.shown;
  return a;
});
nameLieCaught('one record\'s business shown under another name', lied, 'verifyNameMismatch',
  `${recordsOk}記録番号 ${planned.seq} の事務（コード ${planned.code}）の名前が「${planned.shown}」と表示されています。` +
  `政策データ管理者が署名した名前は「${planned.signed}」です。`);
// The same message in English, the field named in English.
await pageA.click('#lang-toggle');
const mismatchEn = (await pageA.textContent('#verify-result')).trim();
check(mismatchEn === `The records check out (untampered and complete), but record no. ${planned.seq} shows the business ` +
  `${planned.code} as "${planned.shown}", whereas the name the policy administrator signed is "${planned.signed}".`,
  `and in English ("${mismatchEn}")`);
await pageA.click('#lang-toggle');
// The providing agency of the newest record under another English name.
lied = await verifyThroughTheLiar((a) => {
  const r = a.records[a.records.length - 1];
  Object.assign(planned, { seq: r.sequence, code: r.provider.code, signed: r.provider.name_en,
                           shown: `${r.provider.name_en} (acting)` });
  r.provider.name_en = planned.shown;
  return a;
});
nameLieCaught('the newest record\'s providing agency shown under another English name', lied, 'verifyNameMismatch',
  `${recordsOk}記録番号 ${planned.seq} の提供機関（コード ${planned.code}）の名前が「${planned.shown}」と表示されています。` +
  `政策データ管理者が署名した名前は「${planned.signed}」です。`);

// The portal's bundle, altered on its way to the page: `alter(file's parts)` → the file.
let policyLie = null;
await pageA.route('**/api/policy', async (route) => {
  if (!policyLie) return route.fallback();
  const response = await route.fetch();
  let told;
  try {
    const real = Buffer.from(await response.body());
    const part = (n) => pbFields(real).filter((f) => f.field === n).pop()?.value || Buffer.alloc(0);
    told = policyLie({ bundle: Buffer.from(part(2)), signature: Buffer.from(part(3)), signer: Buffer.from(part(4)) });
  } catch (e) {
    planned.error = String(e);
    return route.fulfill({ response });
  }
  if (told === 404) {
    return route.fulfill({ status: 404, json: { error: 'this portal publishes no policy bundle' } });
  }
  return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: told });
});
// The real bundle re-signed by a key of the liar's own, which the trust document does not name.
const policyLiar = liarKey();
policyLie = (p) => signedPolicyFile(p.bundle,
  unhex(signWith(policyLiar, Buffer.concat([Buffer.from('ipn-policy-bundle/1\n'), p.bundle]))), unhex(policyLiar.hex));
lied = await verifyThroughTheLiar((a) => a);
nameLieCaught('the policy bundle re-signed by a key the trust document does not name', lied, 'verifyPolicyUnknownSigner',
  `${recordsOk}機関・事務・項目の名前の一覧（ポリシーバンドル）は鍵 ${policyLiar.hex.slice(0, 16)} で署名されていて、` +
  'これは信頼文書にある政策データ管理者の鍵ではありません。表示中の名前が正しいかは確かめられません。');
// A name changed in the bundle (same length, so the file still reads) and in the history
// alike, the administrator's signature and signer kept.
policyLie = (p) => {
  const from = Buffer.from(planned.signed, 'utf8');
  const to = Buffer.from(planned.shown, 'utf8');
  const at = p.bundle.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error('no name to change in the bundle');
  to.copy(p.bundle, at);
  return signedPolicyFile(p.bundle, p.signature, p.signer);
};
lied = await verifyThroughTheLiar((a) => {
  const r = a.records[0];
  const last = [...r.business.name_ja].pop();
  const other = Buffer.byteLength(last) === 3 ? (last === '〇' ? '○' : '〇') : (last === 'X' ? 'Y' : 'X');
  if (Buffer.byteLength(other) !== Buffer.byteLength(last)) throw new Error('no same-length character');
  Object.assign(planned, { code: r.business.code, signed: r.business.name_ja,
                           shown: r.business.name_ja.slice(0, -last.length) + other });
  for (const x of a.records) if (x.business.code === planned.code) x.business.name_ja = planned.shown;
  return a;
});
nameLieCaught('a business renamed in the bundle and in the history alike, the signature kept', lied, 'verifyPolicyBad',
  `${recordsOk}機関・事務・項目の名前の一覧（ポリシーバンドル）の署名が正しくありません（確かめた鍵 ${policySigner.slice(0, 16)}）。` +
  '表示中の名前が正しいかは確かめられません。');
// No bundle at all.
policyLie = () => 404;
lied = await verifyThroughTheLiar((a) => a);
nameLieCaught('no policy bundle (404)', lied, 'verifyNoPolicy',
  `${recordsOk}ポータルが署名付きの機関・事務・項目の名前の一覧（ポリシーバンドル）を公開していないため、` +
  '表示中の名前が正しいかは確かめられません。');
policyLie = null;
await pageA.unroute('**/api/policy');

const relayedAgain = await verifyThroughTheLiar((a) => a);
check(relayedAgain.ok && relayedAgain.key === 'verifyComplete' && relayedAgain.text.includes(witnessA),
  `with the portal's own trust document and cosignature again, the real answer passes (${relayedAgain.text})`);

lied = await verifyThroughTheLiar((a) => {
  const ex = exchangesOf(a.records);
  const victim = ex[Math.floor((ex.length - 1) / 2)];  // one in the middle
  planned.n = settlingIn(a.records.filter((x) => exchangeOf(x) === victim));
  a.records = a.records.filter((x) => exchangeOf(x) !== victim);
  return a;
});
lieCaught('one exchange dropped', lied, missingKey(planned.n), `${planned.n} 件`);

lied = await verifyThroughTheLiar((a) => {
  planned.n = settlingIn(a.records);
  a.records = [];
  return a;
});
lieCaught('every record dropped', lied, missingKey(planned.n), `${planned.n} 件`);

lied = await verifyThroughTheLiar((a) => {
  const k = Math.floor(a.records.length / 2);
  planned.seq = a.records[k].sequence;
  a.records.splice(k + 1, 0, structuredClone(a.records[k]));
  return a;
});
lieCaught('a record shown twice', lied, 'verifyDuplicate', `記録番号 ${planned.seq}`);

lied = await verifyThroughTheLiar((a) => {
  const newest = exchangeOf(a.records[a.records.length - 1]);
  a.records = [...a.records.filter((x) => exchangeOf(x) === newest), ...a.records.filter((x) => exchangeOf(x) !== newest)];
  return a;
});
lieCaught('two exchanges swapped (the newest shown before the oldest)', lied, 'verifyOrder');

lied = await verifyThroughTheLiar((a, b) => {
  const theirs = b.records.filter((x) => exchangeOf(x) === exchangesOf(b.records)[0]);
  planned.seq = Math.min(...theirs.map((x) => x.sequence));
  a.records = [...a.records, ...theirs].sort((x, y) => x.sequence - y.sequence);
  return a;
});
lieCaught('B\'s genuine exchange slipped into A\'s history', lied, 'verifyOtherPerson', `記録番号 ${planned.seq}`);

lied = await verifyThroughTheLiar((a) => {
  const newest = exchangeOf(a.records[a.records.length - 1]);
  planned.n = settlingIn(a.records.filter((x) => exchangeOf(x) === newest));
  a.records = a.records.filter((x) => exchangeOf(x) !== newest);
  return a;
});
lieCaught('the tail cut off (the newest exchange dropped)', lied, missingKey(planned.n), `${planned.n} 件`);

lied = await verifyThroughTheLiar((a) => {
  const s = a.history_proof.siblings;
  if (s.length) s[0] = (s[0][0] === '0' ? '1' : '0') + s[0].slice(1); else s.push('00'.repeat(32));
  return a;
});
lieCaught('a proof of completeness that does not lead to the signed root', lied, 'verifyMapBad');

// A period: the page checks A's whole history (fetched without the period) and that the
// period's records are exactly that history's records in the period.
const allDates = { from: '2000-01-01', to: '2099-12-31' };
lied = await verifyThroughTheLiar((a, b, url) => {
  if (!url.searchParams.has('from')) return a;
  const k = Math.floor(a.records.length / 2);
  planned.seq = a.records[k].sequence;
  a.records.splice(k, 1);
  return a;
}, allDates);
lieCaught('a record left out of a period\'s answer', lied, 'verifyPeriodMissing', `記録番号 ${planned.seq}`);
lied = await verifyThroughTheLiar((a, b, url) => {
  if (!url.searchParams.has('from')) return a;
  const k = Math.floor(a.records.length / 2);
  planned.seq = a.records[k].sequence;
  a.records[k].outcome = a.records[k].outcome === 'NOT_HELD' ? 'PROVIDED' : 'NOT_HELD';
  return a;
}, allDates);
lieCaught('a record altered in a period\'s answer', lied, 'verifyNotInHistory', `記録番号 ${planned.seq}`);
// A name changed in the period's answer only (names are not part of the leaf: the
// period's records are checked against the bundle too).
lied = await verifyThroughTheLiar((a, b, url) => {
  if (!url.searchParams.has('from')) return a;
  const r = a.records[Math.floor(a.records.length / 2)];
  Object.assign(planned, { seq: r.sequence, code: r.item.code, signed: r.item.name_ja, shown: `${r.item.name_ja}等` });
  r.item.name_ja = planned.shown;
  return a;
}, allDates);
check(!lied.ok && lied.key === 'verifyNameMismatch' && !planned.error && lied.text ===
  `記録は改ざん・欠落なく確認できましたが、記録番号 ${planned.seq} の特定個人情報の項目（コード ${planned.code}）の名前が` +
  `「${planned.shown}」と表示されています。政策データ管理者が署名した名前は「${planned.signed}」です。`,
  `an item renamed in a period's answer only: the page says so ("${lied.text}")`);

// The honest portal again, without interception: the check passes.
await pageA.unroute('**/api/history*');
const honestAgain = await verifyThroughTheLiar(null);
check(honestAgain.ok && honestAgain.key === 'verifyComplete' && honestAgain.text.includes(witnessA),
  `the honest portal's answer passes the page's check, cosigned by the commission (${honestAgain.text})`);

// --- A tries to reach B's records ----------------------------------------------------
const tamperQueries = [
  `?person=${symbolB}`, `?record_symbol=${symbolB}`, `?symbol=${symbolB}&agency=PORTAL-0001`,
  `?enrolment=1&from=&to=`, `?person_symbol=${symbolB}&with_proofs=false`,
];
for (const q of tamperQueries) {
  const r = await historyJson(pageA, q);
  check(r.status === 200 && same(r.body.records.map((x) => x.sequence), [...seqA]),
    `/api/history${q.slice(0, 40)} still answers with A's own records only`);
}
for (const p of [`/api/history/${symbolB}`, `/api/history.csv/${symbolB}`, `/api/people/${symbolB}`,
                 `/api/history/..%2F${symbolB}`]) {
  const r = await pageA.request.get(portal + p);
  const text = await r.text();
  check(r.status() === 404 && !text.includes(symbolB), `${p.slice(0, 30)}… is not found`);
}
// No session, a forged session, or B's cookie name with garbage: nothing.
const anon = await browser.newContext();
const anonPage = await anon.newPage();
await anonPage.goto(portal + '/');
check((await historyJson(anonPage)).status === 401, 'without a session the history is refused (401)');
check((await anonPage.request.get(portal + '/api/history.csv')).status() === 401, 'and so is the CSV');
await anon.addCookies([{ name: 'ipn_session', value: crypto.randomBytes(32).toString('base64url'), url: portal }]);
check((await historyJson(anonPage)).status === 401, 'a made-up session cookie is refused');
// The session cookie goes to any other web server on this host (a browser scopes cookies
// by host, not port); what that server receives opens nothing at the portal.
const caught = [];
const other = http.createServer((req, res) => { caught.push(req.headers.cookie || ''); res.end('other'); });
await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
await pageA.goto(`http://127.0.0.1:${other.address().port}/`);
await pageA.goBack();
other.close();
const leaked = caught.find((c) => c.includes('ipn_session='));
check(leaked !== undefined, 'another server on the same host receives the session cookie (as browsers do)');
const replay = async (headers) => (await fetch(portal + '/api/history', { headers })).status;
check(await replay({ Cookie: leaked }) === 401, 'that cookie alone opens no history');
check(await replay({ Cookie: leaked, Authorization: 'Bearer ' + crypto.randomBytes(16).toString('base64url') }) === 401,
  'nor with a guessed header half');
check((await historyJson(pageA)).status === 200, 'while the page itself, with its half, still reads A\'s history');
check((await fetch(portal + '/api/enrol', { method: 'POST', body: '{}' })).status === 415,
  'a form post (not JSON) is refused, so no other site can drive the API');

await browser.close();
browser = null;
demo.kill('SIGINT');
await demoExited;
check(demoExit === 0, `ipn demo stops cleanly on Ctrl-C (exit ${demoExit})`);

// --- no resident code in any file the run left ---------------------------------------
const enrolled = [codes[citizenA], codes[citizenB], codes[citizenR]];
const leaks = [];
function scan(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) { scan(p); continue; }
    if (!entry.isFile()) continue;  // the nodes' ipc sockets
    const bytes = fs.readFileSync(p);
    for (const code of enrolled) if (bytes.includes(Buffer.from(code))) leaks.push(`${code.slice(0, 2)}… in ${p}`);
  }
}
scan(netDir);
check(leaks.length === 0, `no enrolled resident code in any file under the network's directory ${leaks.join(', ')}`);

fs.rmSync(work, { recursive: true, force: true });
console.log(failures === 0 ? 'all portal browser checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
