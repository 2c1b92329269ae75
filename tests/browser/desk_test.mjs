// Browser tests of the oversight commission's desk (issue #17), in headless Debian
// Chromium driven by playwright-core, against `ipn_desk_fixture` (tests/oversight/
// desk_fixture.cc): a real core record store holding a deterministic quarter
// (2026-07-01..2026-09-30 JST) with three planted anomalies, and the desk's real service
// and web server over it. The yardstick is the fixture's full pull of the same log
// (`ipn oversight pull` jsonl), verified here with the portal's verification functions
// (portal/web/verify.js) and counted here, apart from the desk:
//   - log-in needs the second factor: a wrong one-time code and a reused one are refused;
//     the API refuses a call without the page's header half of the session;
//   - the volumes table (per month × agency, business, item, event; inquiries per agency;
//     one agency's; one day's) and the refusal rates and reasons equal the pull's counts;
//   - each planted anomaly (volume, person focus, off hours) is listed with its
//     explanation and drills down to exactly its records, whose inclusion proofs the page
//     checks (✓); a record or a proof altered in transit (request interception) is caught
//     (✗); a status change to closed needs a note;
//   - the fee statement for 2026Q3 (the default quarter today) equals the statement
//     computed here from the pull and the signed tariff, and so does the CSV download;
//     the print stylesheet prints the statement alone;
//   - records appended to the log appear after a pull; a record an insider rewrote in the
//     core's store shows as a new finding in the head history, and no figure changes;
//   - Japanese by default, English on the toggle; at 375 px no view scrolls sideways;
//     errors are the page's own words; no CSP violation.
//
//   node tests/browser/desk_test.mjs --bin-dir build/bin [--screenshot-dir docs]
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
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
  console.error(`desk_test: ${message}`);
  process.exit(1);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  fatal('playwright-core is missing: run scripts/setup (it runs npm ci in tests/browser)');
}
if (!fs.existsSync(chromiumPath)) fatal(`${chromiumPath} is missing: run scripts/setup`);
const fixtureBin = path.join(binDir, 'ipn_desk_fixture');
if (!fs.existsSync(fixtureBin)) fatal(`${fixtureBin} is missing: build first`);

// --- the fixture ---------------------------------------------------------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ipn-desk-test-'));
const fixture = spawn(fixtureBin, ['--dir', work], { stdio: ['pipe', 'pipe', 'pipe'] });
let fixtureErr = '';
fixture.stderr.on('data', (d) => { fixtureErr = (fixtureErr + d).slice(-20_000); });
let fixtureExit = null;
const fixtureExited = new Promise((resolve) => fixture.on('exit', (code, signal) => { fixtureExit = code ?? signal; resolve(); }));
const answers = [];
let answerWaiter = null;
readline.createInterface({ input: fixture.stdout }).on('line', (line) => {
  answers.push(line.trim());
  if (answerWaiter) answerWaiter();
});
// One command, one answer line (or failure on timeout or exit).
async function command(line, timeoutMs = 30_000) {
  const before = answers.length;
  fixture.stdin.write(line + '\n');
  const deadline = Date.now() + timeoutMs;
  while (answers.length === before) {
    if (fixtureExit !== null) return `(fixture exited ${fixtureExit})`;
    if (Date.now() > deadline) return '(no answer)';
    await new Promise((r) => { answerWaiter = r; setTimeout(r, 200); });
  }
  return answers[before];
}

let browser;
async function cleanUp() {
  if (browser) await browser.close().catch(() => {});
  if (fixtureExit === null) fixture.kill('SIGKILL');
}
async function crash(e) {
  console.error(e);
  if (fixtureErr) console.error(`ipn_desk_fixture's last words:\n${fixtureErr.slice(-4000)}`);
  await cleanUp();
  process.exit(1);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const readyFile = path.join(work, 'ready.json');
const readyDeadline = Date.now() + 120_000;
while (!fs.existsSync(readyFile)) {
  if (fixtureExit !== null) fatal(`ipn_desk_fixture exited (${fixtureExit}) before it was ready:\n${fixtureErr}`);
  if (Date.now() > readyDeadline) { await cleanUp(); fatal(`ipn_desk_fixture was not ready in time:\n${fixtureErr}`); }
  await new Promise((r) => setTimeout(r, 100));
}
const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
const desk = ready.url.replace(/\/$/, '');
console.log(`desk at ${desk}`);

// --- the yardstick: the full pull, verified and counted here ---------------------------
const pullLines = fs.readFileSync(path.join(work, 'pull.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const pullHead = pullLines[0].head;
const records = pullLines.filter((l) => l.type === 'record');
check(pullLines[0].type === 'pull' && records.length > 1000, `the fixture's pull holds the log (${records.length} records)`);
check(records.every((r, i) => r.sequence === i) && pullHead.tree_size === records.length,
  'the pull covers every sequence from 0 to its head\'s size');
// The portal's verification functions, outside a browser.
vm.runInThisContext(fs.readFileSync(path.join(repo, 'portal/web/verify.js'), 'utf8'), { filename: 'verify.js' });
const V = globalThis.ipnVerify;
const pullCheck = await V.verifyRecords(records, pullHead);
check(pullCheck.headOk && pullCheck.failed.length === 0 && pullHead.signer === ready.records_key,
  'every pulled record\'s inclusion proof checks against the head, signed by the records key');

const planted = JSON.parse(fs.readFileSync(path.join(work, 'planted.json'), 'utf8'));
const jstMonth = (us) => new Date(Math.floor(us / 1000) + 9 * 3600e3).toISOString().slice(0, 7);
const jstDay = (us) => new Date(Math.floor(us / 1000) + 9 * 3600e3).toISOString().slice(0, 10);
const isInquiry = (r) => r.event === 'inquiry_accepted' || r.event === 'inquiry_refused';

// {"period\0key": count} of the records that pass `keep`, by `field`.
function tally(rs, field, { period = jstMonth, keep = () => true } = {}) {
  const m = new Map();
  for (const r of rs) {
    if (!keep(r)) continue;
    const k = `${period(r.time_unix_us)}\u0000${r[field]}`;
    m.set(k, (m.get(k) || 0) + 1);
  }
  return m;
}
function sameTally(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
function describeDiff(got, want) {
  const out = [];
  for (const [k, v] of want) if (got.get(k) !== v) out.push(`${k.replace('\u0000', '/')}: page ${got.get(k)} want ${v}`);
  for (const [k, v] of got) if (!want.has(k)) out.push(`${k.replace('\u0000', '/')}: page ${v} want none`);
  return out.slice(0, 4).join('; ');
}

// The fee statement from the pull and the signed tariff (docs/oversight.md): the first
// `provided` record of each exchange (inquirer + request id), in the JST quarter.
const tariff = { default: 0, business: {} };
for (const raw of fs.readFileSync(path.join(work, 'tariff.txt'), 'utf8').split('\n')) {
  const line = raw.replace(/#.*/, '').trim();
  const m = /^([\w.-]+)\s*=\s*(\S+)$/.exec(line);
  if (!m) continue;
  const sen = (v) => Math.round(Number(v) * 100);
  if (m[1] === 'yen_per_exchange') tariff.default = sen(m[2]);
  else if (m[1].startsWith('business.')) tariff.business[m[1].slice(9)] = sen(m[2]);
}
const senFor = (business) => (tariff.business[business] ?? tariff.default);
const yen = (sen) => `${Math.floor(sen / 100)}.${String(sen % 100).padStart(2, '0')}`;
function feeStatement(rs, quarter) {
  const [, y, q] = /^(\d{4})Q([1-4])$/.exec(quarter).map(Number);
  const from = Date.UTC(y, 3 * (q - 1), 1) * 1000 - 9 * 3600e6;
  const to = Date.UTC(y, 3 * q, 1) * 1000 - 9 * 3600e6;
  const seen = new Set();
  const lines = new Map();
  for (const r of rs) {
    if (r.event !== 'provided') continue;
    const exchange = `${r.inquirer}\u0000${r.request_id}`;
    if (seen.has(exchange)) continue;
    seen.add(exchange);
    if (r.time_unix_us < from || r.time_unix_us >= to) continue;
    const k = `${r.inquirer}\u0000${r.business}\u0000${r.item}`;
    lines.set(k, (lines.get(k) || 0) + 1);
  }
  const out = { lines: [], totals: new Map(), exchanges: 0, total: 0 };
  for (const k of [...lines.keys()].sort()) {
    const [inquirer, business, item] = k.split('\u0000');
    const n = lines.get(k);
    const rate = senFor(business);
    out.lines.push({ inquirer, business, item, exchanges: n, rate: yen(rate), amount: yen(n * rate), sen: n * rate });
    const t = out.totals.get(inquirer) || { exchanges: 0, sen: 0 };
    t.exchanges += n;
    t.sen += n * rate;
    out.totals.set(inquirer, t);
    out.exchanges += n;
    out.total += n * rate;
  }
  const csv = ['quarter,inquirer,business,item,chargeable_exchanges,yen_per_exchange,amount_yen'];
  for (const l of out.lines) csv.push(`${quarter},${l.inquirer},${l.business},${l.item},${l.exchanges},${l.rate},${l.amount}`);
  for (const [inquirer, t] of [...out.totals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    csv.push(`${quarter},${inquirer},(total),,${t.exchanges},,${yen(t.sen)}`);
  }
  csv.push(`${quarter},(all),,,${out.exchanges},,${yen(out.total)}`);
  out.csv = csv.join('\n') + '\n';
  return out;
}

// TOTP (RFC 6238): HMAC-SHA-256, 6 digits, 30 s steps. A code is accepted once, and only
// for a step later than the last one used: each log-in takes the next step.
const totpSecret = Buffer.from(ready.totp_secret_hex, 'hex');
function totp(step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha256', totpSecret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const nowStep = () => Math.floor(Date.now() / 30_000);
let lastStep = 0;
async function nextCode() {
  const step = Math.max(nowStep(), lastStep + 1);
  // The desk accepts one step either side of its own: wait for the clock when `step` is
  // further ahead than that.
  const deadline = Date.now() + 70_000;
  while (step > nowStep() + 1) {
    if (Date.now() > deadline) fatal('the clock did not reach the next one-time-code step');
    await new Promise((r) => setTimeout(r, 250));
  }
  lastStep = step;
  return totp(step);
}

// --- the browser ---------------------------------------------------------------------
browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const cspViolations = [];
const pageErrors = [];
page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
page.on('pageerror', (e) => pageErrors.push(String(e)));
const shots = args['screenshot-dir'] ? path.resolve(args['screenshot-dir']) : work;
fs.mkdirSync(shots, { recursive: true });

const first = await page.goto(desk + '/');
const csp = first.headers()['content-security-policy'] || '';
check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `the desk sends a strict CSP (${csp})`);
await page.waitForSelector('#login-view:not([hidden])');
check(await page.getAttribute('html', 'lang') === 'ja', 'the page opens in Japanese');
check(/ログイン/.test(await page.textContent('#login-view')), 'the log-in form speaks Japanese');
for (const id of ['login-name', 'login-password', 'login-code']) {
  check(await page.$(`label[for="${id}"]`) !== null, `#${id} has a label`);
}
check(await page.$$eval('[onclick],[onload],[onchange],[onsubmit],[style]', (x) => x.length) === 0 &&
      await page.$$eval('script:not([src])', (x) => x.length) === 0,
  'no inline script, style or event handler in the page');

async function login(code) {
  await page.fill('#login-name', ready.name);
  await page.fill('#login-password', ready.password);
  await page.fill('#login-code', code);
  await page.click('#login-submit');
  await page.waitForFunction(() => !document.querySelector('#views-nav').hidden ||
    ['loginFailed', 'err_locked'].includes(document.querySelector('#message').dataset.key), null, { timeout: 20_000 });
  return !(await page.$eval('#views-nav', (n) => n.hidden));
}
// A wrong code, then the right one, then the same one again after logging out.
const wrong = String((Number(totp(nowStep())) + 1) % 1_000_000).padStart(6, '0');
check(!(await login(wrong)), 'a wrong one-time code is refused');
check(await page.getAttribute('#message', 'data-key') === 'loginFailed' &&
      /確認コード/.test(await page.textContent('#message')), 'with the page\'s own Japanese message');
const code1 = await nextCode();
check(await login(code1), 'name, password and the current one-time code log in');
await page.waitForSelector('#overview-view[data-state="ready"]');
check(await page.evaluate(() => !!sessionStorage.getItem('ipn-desk-session')), 'the page keeps its half of the session');
const cookies = await context.cookies(desk);
check(cookies.some((c) => c.name === 'desk_session' && c.httpOnly && c.sameSite === 'Strict'),
  'the other half is an HttpOnly, SameSite=Strict cookie');
const noHeader = await page.request.get(desk + '/api/summary');
check(noHeader.status() === 401, 'the cookie alone opens nothing (401 without the X-Desk-Session header)');
await page.click('#logout');
await page.waitForSelector('#login-view:not([hidden])');
check(await page.getAttribute('#message', 'data-key') === 'loggedOut', 'logging out returns to the log-in form');
check(!(await login(code1)), 'the same one-time code is refused a second time');
check(await login(await nextCode()), 'the next code logs in again');
await page.waitForSelector('#overview-view[data-state="ready"]');

// --- helpers for the views ------------------------------------------------------------
async function renderCount(view) {
  return Number(await page.getAttribute(`#${view}-view`, 'data-render') || 0);
}
// Waits until a view has rendered again after `action`, or fails on timeout.
async function afterRender(view, action, timeout = 20_000) {
  const before = await renderCount(view);
  await action();
  try {
    await page.waitForFunction(([v, n]) => {
      const s = document.querySelector(`#${v}-view`);
      return s.dataset.state === 'ready' && Number(s.dataset.render || 0) > n;
    }, [view, before], { timeout });
    return true;
  } catch (e) {
    check(false, `${view} renders (${await page.textContent('#message').catch(() => '')})`);
    return false;
  }
}
const gotoView = (view) => afterRender(view, () => page.click(`#views-nav button[data-view="${view}"]`));
async function applyFilter({ granularity = 'month', from = '', to = '', agency = '', group = 'inquirer', measure = 'records' }) {
  await page.selectOption('#f-granularity', granularity);
  await page.fill('#f-from', from);
  await page.fill('#f-to', to);
  await page.selectOption('#f-agency', agency);
  if (await page.isVisible('#f-group')) {
    await page.selectOption('#f-group', group);
    await page.selectOption('#f-measure', measure);
  }
  const view = await page.isVisible('#volumes-view') ? 'volumes' : 'refusals';
  return afterRender(view, () => page.click('#filter-apply'));
}
async function volumeCells() {
  const cells = await page.$$eval('#vol-table td[data-count]', (tds) => tds.map((td) => [td.dataset.period, td.dataset.key, Number(td.dataset.count)]));
  return new Map(cells.map(([p, k, n]) => [`${p}\u0000${k}`, n]));
}
async function noSideScroll() {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

// --- overview ------------------------------------------------------------------------
const summary0 = {
  size: Number(await page.getAttribute('#ov-size', 'data-value')),
  head: Number(await page.getAttribute('#ov-head', 'data-size')),
  findings: Number(await page.getAttribute('#ov-findings', 'data-value')),
  open: Number(await page.getAttribute('#ov-open-anomalies', 'data-value')),
};
check(summary0.size === records.length && summary0.head === records.length,
  `the overview shows the verified size and head (${summary0.size} records, the pull's ${records.length})`);
check(summary0.findings === 0, 'no findings at the start');
check(summary0.open >= 3, `open anomalies are counted (${summary0.open})`);
check((await page.textContent('#ov-records-key')).trim() === ready.records_key, 'the trusted records key is shown');
await page.screenshot({ path: path.join(shots, 'desk-overview.png'), fullPage: false });

// --- volumes: the page's table against the pull's counts --------------------------------
await gotoView('volumes');
check(await page.$eval('#vol-line', (c) => c.width > 0) && await page.$eval('#vol-bar', (c) => c.width > 0),
  'the line and bar charts are drawn');
check(await page.getAttribute('#f-from', 'type') === 'month', 'the period filter is by month by default');
const inquiriesByAgency = tally(records, 'inquirer', { keep: isInquiry });
check(sameTally(await volumeCells(), inquiriesByAgency),
  `by default: inquiries per month and agency equal the pull's (${describeDiff(await volumeCells(), inquiriesByAgency) || inquiriesByAgency.size + ' cells'})`);
await page.screenshot({ path: path.join(shots, 'desk-volumes.png'), fullPage: false });
for (const field of ['inquirer', 'business', 'item', 'event']) {
  await applyFilter({ group: field, measure: 'records' });
  const want = tally(records, field);
  const got = await volumeCells();
  check(sameTally(got, want), `records per month and ${field} equal the pull's (${describeDiff(got, want) || want.size + ' cells'})`);
}
const eventTotals = await page.$$eval('#vol-event-table td[data-count]', (tds) => tds.map((td) => [td.dataset.event, Number(td.dataset.count)]));
const wantEvents = {};
for (const r of records) wantEvents[r.event] = (wantEvents[r.event] || 0) + 1;
check(JSON.stringify(Object.fromEntries(eventTotals.sort())) === JSON.stringify(Object.fromEntries(Object.entries(wantEvents).sort())),
  `the totals by event (the bar chart's numbers) equal the pull's (${eventTotals.map(([e, n]) => `${e} ${n}`).join(', ')})`);
// One agency's: the volume anomaly's agency, by business.
const agency = planted.volume.agency;
check(await page.$(`#f-agency option[value="${agency}"]`) !== null, `the agency filter offers ${agency}`);
await applyFilter({ agency, group: 'business', measure: 'records' });
{
  const want = tally(records, 'business', { keep: (r) => r.inquirer === agency });
  const got = await volumeCells();
  check(sameTally(got, want), `${agency}'s records per month and business equal the pull's (${describeDiff(got, want) || want.size + ' cells'})`);
}
// One day (the volume anomaly's), by day: the burst is in it.
const burstDay = jstDay(records[planted.volume.sequences[0]].time_unix_us);
await applyFilter({ granularity: 'day', from: burstDay, to: burstDay, group: 'inquirer', measure: 'inquiries' });
{
  const want = tally(records, 'inquirer', { period: jstDay, keep: (r) => isInquiry(r) && jstDay(r.time_unix_us) === burstDay });
  const got = await volumeCells();
  check(sameTally(got, want) && (got.get(`${burstDay}\u0000${agency}`) || 0) >= planted.volume.sequences.length,
    `on ${burstDay} the inquiries per agency equal the pull's, the burst included (${describeDiff(got, want) || JSON.stringify([...got.values()])})`);
}
// Names in the chosen language, with the code.
const firstKey = await page.getAttribute('#vol-table tbody tr', 'data-key');
const nameCell = await page.textContent('#vol-table tbody tr td:nth-child(2)');
check(nameCell.includes(firstKey) && /[\u3040-\u30ff\u4e00-\u9fff]/.test(nameCell),
  `agency names are shown in Japanese with their code (${nameCell.trim()})`);

// --- refusal rates ---------------------------------------------------------------------
await gotoView('refusals');
await applyFilter({});
{
  const want = new Map();
  const reasons = new Map();
  for (const r of records) {
    if (!isInquiry(r)) continue;
    const p = want.get(jstMonth(r.time_unix_us)) || { accepted: 0, refused: 0 };
    if (r.event === 'inquiry_accepted') p.accepted++; else { p.refused++; reasons.set(r.outcome, (reasons.get(r.outcome) || 0) + 1); }
    want.set(jstMonth(r.time_unix_us), p);
  }
  const got = await page.$$eval('#ref-table tr[data-period]', (trs) => trs.map((tr) => [tr.dataset.period,
    Number(tr.dataset.accepted), Number(tr.dataset.refused), tr.dataset.rate]));
  const ok = got.length === want.size && got.every(([p, a, r, rate]) => want.get(p) && want.get(p).accepted === a &&
    want.get(p).refused === r && rate === (r / (a + r)).toFixed(6));
  check(ok, `refusal rates per month equal the pull's (${got.map(([p, a, r, rate]) => `${p} ${r}/${a + r}=${rate}`).join(', ')})`);
  const gotReasons = await page.$$eval('#reason-table tr[data-reason]', (trs) => trs.map((tr) => [tr.dataset.reason, Number(tr.dataset.count)]));
  check(gotReasons.length === reasons.size && reasons.size > 0 && gotReasons.every(([k, n]) => reasons.get(k) === n),
    `the reasons for refusal and their counts equal the pull's (${gotReasons.map(([k, n]) => `${k} ${n}`).join(', ')})`);
}
check(await page.isHidden('#f-group'), 'the refusal view hides the volumes-only fields');

// --- anomalies ------------------------------------------------------------------------
await gotoView('anomalies');
const listed = await page.$$eval('#anom-list tr[data-anomaly-id]', (trs) => trs.map((tr) => ({
  id: tr.dataset.anomalyId, rule: tr.dataset.rule, agency: tr.dataset.agency, status: tr.dataset.status,
  count: Number(tr.dataset.count), explanation: tr.querySelector('[data-explanation]').dataset.explanation,
  shown: tr.querySelector('[data-explanation]').textContent })));
const anomalyIds = {};
for (const name of ['volume', 'person_focus', 'off_hours']) {
  const want = planted[name];
  const row = listed.find((a) => a.rule === (want.rule || name) && a.agency === want.agency);
  check(row && row.status === 'open' && row.count === want.sequences.length && row.explanation.includes(want.agency) &&
        row.explanation.includes(String(want.sequences.length)) && /[^\x00-\x7f]/.test(row.shown),
    `the ${name} anomaly of ${want.agency} is listed, open, with its explanation (${row ? row.explanation : 'missing'})`);
  if (!row) continue;
  anomalyIds[name] = row.id;
  await page.click(`button.anom-open[data-id="${row.id}"]`);
  await page.waitForSelector(`#anom-detail[data-id="${row.id}"]:not([hidden])`);
  const seqs = await page.$$eval('#anom-records tr[data-sequence]', (trs) => trs.map((tr) => Number(tr.dataset.sequence)));
  check(JSON.stringify(seqs) === JSON.stringify(want.sequences),
    `it drills down to exactly its ${want.sequences.length} records (${seqs.slice(0, 5).join(', ')}…)`);
  await page.click('#check-proofs');
  await page.waitForFunction(() => document.querySelector('#proof-verdict').dataset.ok !== '', null, { timeout: 20_000 });
  const verdict = await page.$eval('#proof-verdict', (v) => ({ ok: v.dataset.ok, checked: Number(v.dataset.checked), text: v.textContent }));
  const marks = await page.$$eval('#anom-records td.proof', (tds) => tds.map((td) => td.dataset.proof));
  check(verdict.ok === 'true' && verdict.checked === want.sequences.length && marks.every((m) => m === 'ok') &&
        marks.length === want.sequences.length,
    `the page checks every record's inclusion proof: ✓ (${verdict.text.trim()})`);
  if (name === 'person_focus') await page.screenshot({ path: path.join(shots, 'desk-anomaly.png'), fullPage: false });
}

// A record or a proof altered in transit is caught: the desk's answer rewritten.
async function tamperedCheck(id, rewrite, what) {
  const pattern = `${desk}/api/anomalies/${id}`;
  let victim = null;
  await page.route(pattern, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    victim = rewrite(body);
    await route.fulfill({ response, json: body });
  });
  const before = Number(await page.getAttribute('#anom-detail', 'data-render'));
  await page.click(`button.anom-open[data-id="${id}"]`);
  await page.waitForFunction((n) => Number(document.querySelector('#anom-detail').dataset.render) > n, before);
  await page.click('#check-proofs');
  await page.waitForFunction(() => document.querySelector('#proof-verdict').dataset.ok !== '', null, { timeout: 20_000 });
  const ok = await page.getAttribute('#proof-verdict', 'data-ok');
  const marks = await page.$$eval('#anom-records tr[data-sequence]', (trs) => trs.map((tr) => [Number(tr.dataset.sequence), tr.querySelector('td.proof').dataset.proof]));
  check(ok === 'false' && marks.every(([s, m]) => (s === victim ? m === 'bad' : m === 'ok')),
    `${what}: the page says ✗ for record ${victim} and ✓ for the others (${(await page.textContent('#proof-verdict')).trim()})`);
  await page.unroute(pattern);
}
if (anomalyIds.off_hours) {
  await tamperedCheck(anomalyIds.off_hours, (b) => {
    const r = b.records[1];
    r.inclusion_path[0] = r.inclusion_path[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    return r.sequence;
  }, 'a forged inclusion proof');
  await tamperedCheck(anomalyIds.off_hours, (b) => {
    const r = b.records[0];
    r.time_unix_us += 3600e6;  // moved into office hours
    return r.sequence;
  }, 'a record moved in time');
}

// Status: under review with a note; closing needs a note.
if (anomalyIds.person_focus) {
  await page.click(`button.anom-open[data-id="${anomalyIds.person_focus}"]`);
  await page.waitForSelector(`#anom-detail[data-id="${anomalyIds.person_focus}"]`);
  await page.selectOption('#status-select', 'closed');
  await page.fill('#status-note', '');
  await page.click('#status-save');
  await page.waitForFunction(() => document.querySelector('#message').dataset.key === 'noteRequired');
  check(true, 'closing without a note is refused on the page');
  await page.selectOption('#status-select', 'under_review');
  await page.fill('#status-note', '照会記録を機関に確認中');
  await afterRender('anomalies', () => page.click('#status-save'));
  check(await page.getAttribute(`#anom-list tr[data-anomaly-id="${anomalyIds.person_focus}"]`, 'data-status') === 'under_review' &&
        (await page.textContent(`#anom-list tr[data-anomaly-id="${anomalyIds.person_focus}"]`)).includes('照会記録を機関に確認中'),
    'the anomaly is under review, with its note');
  await page.selectOption('#anom-status-filter', 'under_review');
  await afterRender('anomalies', () => page.click('#anom-filter-apply'));
  const reviewIds = await page.$$eval('#anom-list tr[data-anomaly-id]', (trs) => trs.map((tr) => tr.dataset.anomalyId));
  check(reviewIds.length >= 1 && reviewIds.includes(anomalyIds.person_focus) &&
        (await page.$$eval('#anom-list tr[data-status]', (trs) => trs.every((tr) => tr.dataset.status === 'under_review'))),
    'the status filter lists the anomalies under review');
  await page.selectOption('#anom-status-filter', '');
}

// --- fee statement ----------------------------------------------------------------------
const jstNow = new Date(Date.now() + 9 * 3600e3);
const qNow = Math.floor(jstNow.getUTCMonth() / 3) + 1;
const defaultQuarter = qNow === 1 ? `${jstNow.getUTCFullYear() - 1}Q4` : `${jstNow.getUTCFullYear()}Q${qNow - 1}`;
await page.click('#views-nav button[data-view="fees"]');
await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#fees-view').dataset.state));
check(await page.inputValue('#fee-quarter') === defaultQuarter, `the fee statement opens on the previous JST quarter (${defaultQuarter})`);
await page.fill('#fee-quarter', '2026q3');
await afterRender('fees', () => page.click('#fee-load'));
const fees = feeStatement(records, '2026Q3');
{
  const lines = await page.$$eval('#fee-statement tr.fee-line', (trs) => trs.map((tr) => ({ inquirer: tr.dataset.inquirer,
    business: tr.dataset.business, item: tr.dataset.item, exchanges: Number(tr.dataset.exchanges), rate: tr.dataset.rate,
    amount: tr.dataset.amount })));
  const want = fees.lines.map(({ sen, ...l }) => l);
  check(JSON.stringify(lines) === JSON.stringify(want) && want.length > 0,
    `the statement's lines equal the pull's first provided records by agency, business and item (${want.length} lines)`);
  const totals = await page.$$eval('#fee-statement tr.fee-total', (trs) => trs.map((tr) => [tr.dataset.inquirer, Number(tr.dataset.exchanges), tr.dataset.amount]));
  check(JSON.stringify(totals) === JSON.stringify([...fees.totals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([i, t]) => [i, t.exchanges, yen(t.sen)])),
    `each agency's total matches (${totals.map(([i, , a]) => `${i} ${a}`).join(', ')})`);
  const grand = await page.$eval('#fee-grand-total', (tr) => [Number(tr.dataset.exchanges), tr.dataset.amount]);
  check(grand[0] === fees.exchanges && grand[1] === yen(fees.total),
    `the grand total matches: ${fees.exchanges} chargeable exchanges, ${yen(fees.total)} yen`);
  check(fees.lines.some((l) => l.rate !== yen(tariff.default)), 'a business with its own rate is charged at that rate');
}
await page.screenshot({ path: path.join(shots, 'desk-fees.png'), fullPage: false });
const [download] = await Promise.all([page.waitForEvent('download'), page.click('#fee-csv')]);
const csvText = fs.readFileSync(await download.path(), 'utf8');
check(download.suggestedFilename() === 'ipn-fees-2026Q3.csv', `the CSV is named ${download.suggestedFilename()}`);
check(csvText === fees.csv, `the CSV download equals the statement computed from the pull (${csvText.split('\n').length - 1} rows)`);
await page.emulateMedia({ media: 'print' });
check(await page.isHidden('#views-nav') && await page.isHidden('.site-header') && await page.isVisible('#fee-statement') &&
      await page.isHidden('#fee-form'), 'printing shows the statement alone');
await page.emulateMedia({ media: 'screen' });

// --- audit ----------------------------------------------------------------------------
await gotoView('audit');
const audit = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
check(audit.some((x) => x.includes(ready.name) && x.includes('/api/volumes')) && audit.some((x) => x.includes('/api/fees')),
  `every view is in the audit log (${audit.length} entries shown)`);
// An error is the page's own words, not the server's exception.
await page.route(`${desk}/api/audit*`, (route) => route.fulfill({ status: 503, contentType: 'application/json',
  body: JSON.stringify({ error: 'unavailable', message: 'store busy' }) }));
await page.click('#views-nav button[data-view="audit"]');
await page.waitForFunction(() => document.querySelector('#message').dataset.key === 'err_unavailable');
check(/一時的に利用できません/.test(await page.textContent('#message')), 'an unavailable desk is reported in Japanese');
await page.unroute(`${desk}/api/audit*`);

// --- language -------------------------------------------------------------------------
await gotoView('volumes');
await page.click('#lang-toggle');
check(await page.getAttribute('html', 'lang') === 'en', 'the toggle switches to English');
check((await page.textContent('#views-nav')).includes('Overview') && (await page.textContent('#volumes-heading')).includes('Volumes'),
  'the navigation and headings are in English');
const enLabel = await page.getAttribute('#vol-table td[data-count]', 'data-label');
check(enLabel === 'Count', `table labels follow (${enLabel})`);
const enName = await page.textContent('#vol-table tbody tr td:nth-child(2)');
check(!/[\u3040-\u30ff\u4e00-\u9fff]/.test(enName), `agency names are in English (${enName.trim()})`);
await page.click('#lang-toggle');
check(await page.getAttribute('html', 'lang') === 'ja' && (await page.textContent('#views-nav')).includes('概要'), 'and back to Japanese');

// --- the log grows; then an insider rewrites a record -----------------------------------------
await gotoView('volumes');
await applyFilter({ group: 'inquirer', measure: 'records' });
check((await command('append 5')) === 'appended 5', 'the fixture appends 5 exchanges');
await gotoView('overview');
await afterRender('overview', () => page.click('#pull-now'));
await page.waitForFunction((n) => Number(document.querySelector('#ov-size').dataset.value) > n, records.length, { timeout: 30_000 })
  .catch(() => {});
const grownSize = Number(await page.getAttribute('#ov-size', 'data-value'));
check(grownSize > records.length && Number(await page.getAttribute('#ov-head', 'data-size')) === grownSize,
  `after a pull the new records are verified and visible (${records.length} → ${grownSize})`);
await gotoView('heads');
const headsAfterGrow = await page.$$eval('#heads-table tr[data-size]', (trs) => trs.map((tr) => Number(tr.dataset.size)));
check(headsAfterGrow[0] === grownSize && headsAfterGrow.includes(records.length) &&
      (await page.$$eval('#heads-table td[data-consistent="true"]', (x) => x.length)) === headsAfterGrow.length,
  `the head history shows the new head, consistent with the one before (${headsAfterGrow.slice(0, 3).join(', ')})`);
check(Number(await page.getAttribute('#findings-count', 'data-count')) === 0, 'still no findings');
await gotoView('volumes');
const volumesBefore = await volumeCells();
const grownWant = tally(records, 'inquirer');
check(!sameTally(volumesBefore, grownWant) &&
      [...volumesBefore.values()].reduce((a, b) => a + b, 0) === grownSize,
  `the volumes count the appended records too (${[...volumesBefore.values()].reduce((a, b) => a + b, 0)} records)`);

const tampered = await command('append-tampered 3');
const tamperedSeq = /^tampered (\d+)$/.exec(tampered);
check(!!tamperedSeq, `an insider rewrites record ${tamperedSeq ? tamperedSeq[1] : '?'} in the core's store (${tampered})`);
await gotoView('overview');
await page.click('#pull-now');
await page.waitForFunction(() => Number(document.querySelector('#ov-findings').dataset.value) > 0 ||
  document.querySelector('#message').classList.contains('error'), null, { timeout: 30_000 }).catch(() => {});
// The finding shows in the head history (the desk also pulls on its own timer).
let findings = 0;
const findDeadline = Date.now() + 30_000;
while (Date.now() < findDeadline) {
  await gotoView('heads');
  findings = Number(await page.getAttribute('#findings-count', 'data-count'));
  if (findings > 0) break;
  await page.waitForTimeout(500);
}
check(findings === 1, `the head history shows a new finding (${findings})`);
const finding = await page.$eval('#findings-table tr.finding', (tr) => ({ size: Number(tr.dataset.headSize), kind: tr.dataset.kind,
  text: tr.textContent })).catch(() => null);
check(finding && finding.size > grownSize, `the refused head is named (${finding ? `${finding.kind}, size ${finding.size}` : 'none'})`);
check(await page.$eval('#findings-table tr.finding', (tr) => getComputedStyle(tr).backgroundColor !== 'rgba(0, 0, 0, 0)').catch(() => false),
  'the finding is highlighted');
await page.screenshot({ path: path.join(shots, 'desk-heads.png'), fullPage: false });
const headsAfterTamper = await page.$$eval('#heads-table tr[data-size]', (trs) => trs.map((tr) => Number(tr.dataset.size)));
check(headsAfterTamper[0] === grownSize, 'no head beyond the tampered record was committed');
await gotoView('volumes');
check(sameTally(await volumeCells(), volumesBefore), 'the volumes are unchanged: nothing of the tampered pull is counted');
await gotoView('overview');
check(Number(await page.getAttribute('#ov-size', 'data-value')) === grownSize &&
      Number(await page.getAttribute('#ov-findings', 'data-value')) === 1,
  'the overview keeps the verified size and counts the finding');

// --- phone: 375 px, no view scrolls sideways ------------------------------------------------
await page.setViewportSize({ width: 375, height: 740 });
for (const view of ['overview', 'volumes', 'refusals', 'anomalies', 'heads', 'fees', 'audit']) {
  await gotoView(view);
  if (view === 'anomalies' && anomalyIds.volume) {
    await page.click(`button.anom-open[data-id="${anomalyIds.volume}"]`);
    await page.waitForSelector(`#anom-detail[data-id="${anomalyIds.volume}"]`);
    await page.click('#check-proofs');
    await page.waitForFunction(() => document.querySelector('#proof-verdict').dataset.ok !== '');
  }
  check(await noSideScroll(), `at 375 px the ${view} view has no sideways scroll`);
  if (view === 'volumes') {
    await page.$eval('#volumes-heading', (h) => h.scrollIntoView());
    await page.screenshot({ path: path.join(shots, 'desk-phone.png'), fullPage: false });
  }
}
await page.click('#lang-toggle');
await gotoView('fees');
check(await noSideScroll(), 'nor in English');
await page.click('#lang-toggle');
await page.setViewportSize({ width: 1280, height: 900 });

check(cspViolations.length === 0, `no CSP violation (${cspViolations.slice(0, 2).join(' | ')})`);
check(pageErrors.length === 0, `no uncaught error on the page (${pageErrors.slice(0, 2).join(' | ')})`);

// A fresh browser opens in Japanese.
const fresh = await browser.newPage();
await fresh.goto(desk + '/');
await fresh.waitForSelector('#login-view:not([hidden])');
check(await fresh.getAttribute('html', 'lang') === 'ja', 'a new browser opens the desk in Japanese');
await fresh.close();

await browser.close();
browser = null;
fixture.stdin.write('quit\n');
fixture.stdin.end();
const quitDeadline = setTimeout(() => fixture.kill('SIGKILL'), 15_000);
await fixtureExited;
clearTimeout(quitDeadline);
check(fixtureExit === 0, `ipn_desk_fixture stops cleanly (exit ${fixtureExit})`);
if (fixtureExit !== 0) console.log(`ipn_desk_fixture's last words:\n${fixtureErr.slice(-4000)}`);

if (failures === 0) fs.rmSync(work, { recursive: true, force: true });
else console.log(`the fixture's directory is kept: ${work}`);
console.log(failures === 0 ? 'all desk browser checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
