// The technician's screen (`field ui`) in headless Chromium at tablet size, as a technician
// uses it with a finger: phases driven by lines on stdin, one JSON line printed per phase.
//
//   node tablet-screen.mjs URL JOB_NUMBER CARD_PHOTO SITE_PHOTO SHOTS
//
// 1. offline: the job list, the job; refusals (cash, a signature without a name, a slip of the
//    finger on the pad for a signature, cleanup without consent) → {"refused": …}
// 2. (line) the whole visit: arrival, permission, work, payment, signature drawn with pointer
//    events; a work note added after it, so the screen asks for the signature again, and the
//    customer signs again; feedback-card photo and cleanup photo through the file inputs,
//    cleanup with consent, departure → {"worked": …} (with "resign": the sign step then)
// 3. (line: the server is back) waits until the screen says everything reached the office
//    → {"synced": …}
// 4. (line: the office rescheduled one job and reassigned another) waits on the job list for
//    both marks, without a reload → {"office": …}
import { launch } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [url, number, cardPhoto, sitePhoto, shots] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 800, height: 1280 }, locale: 'zh-CN', hasTouch: true });
const page = await context.newPage();
const elsewhere = [];
// Requests the screen could not answer as asked (a refresh of a form's address was one).
const unanswerable = [];
// What the screen asked before a step that closes others (leaving); the technician says yes.
const asked = [];
page.on('dialog', async (dialog) => { asked.push(dialog.message()); await dialog.accept(); });
page.on('response', (r) => { if (r.status() === 405) unanswerable.push(r.url()); });
const origin = new URL(url).origin;
page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) elsewhere.push(r.url()); });

async function axe() {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}
async function shoot(name) {
  await page.screenshot({ path: `${shots}/${name}-portrait.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${shots}/${name}-landscape.png`, fullPage: true });
  await page.setViewportSize({ width: 800, height: 1280 });
}
async function submit(action) {
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/${action}`) && r.request().method() === 'POST'),
    page.click(`form[action$="/${action}"] button[type=submit]`),
  ]);
  await page.waitForLoadState('load');
}
async function problemIn(step) {
  const box = await page.waitForSelector(`#${step} .problem:not([hidden])`, { timeout: 10000 });
  return box.innerText();
}

// 1. Offline: the list, the job, the refusals.
await page.goto(url);
await page.waitForSelector('ul.jobs');
const list = { text: await page.innerText('main'), violations: await axe(), url: page.url() };
await shoot('tablet-jobs');
await page.click(`ul.jobs a:has-text("${number}")`);
await page.waitForSelector('#arrive');
const jobUrl = page.url();
const refused = {};
await submit('arrive');
// Cash: the screen offers none; a tampered form is refused by the library all the same.
await page.fill('#amount', '120.50');
await page.$eval('input[name=method]', (input) => { input.value = 'cash'; });
await submit('pay');
refused.cash = await problemIn('pay');
// Answered on the form's address; the page's address is the job's again (a reload reads the
// job, and the refresh can fetch it).
refused.address = new URL(page.url()).pathname;
refused.job_address = new URL(jobUrl).pathname;
// A signature without the signer's name.
await page.waitForSelector('#pad');
const pad = await page.$('#pad');
let box = await pad.boundingBox();
await page.mouse.move(box.x + 30, box.y + 40);
await page.mouse.down();
await page.mouse.move(box.x + 120, box.y + 100, { steps: 5 });
await page.mouse.up();
await page.click('[data-sign]');
refused.unsigned = await problemIn('sign');
// A name, but only a slip of the finger on the pad: not a signature.
await page.goto(jobUrl);
await page.fill('#signer', '王秀英');
await page.$eval('#pad', (pad) => pad.scrollIntoView({ block: 'center' }));
box = await (await page.$('#pad')).boundingBox();
await page.mouse.move(box.x + 40, box.y + 40);
await page.mouse.down();
await page.mouse.move(box.x + 43, box.y + 42, { steps: 2 });
await page.mouse.up();
await page.click('[data-sign]');
refused.tap = await problemIn('sign');
// Cleanup without anyone's consent to the debris decision.
await page.goto(jobUrl);
await page.selectOption('#debris', 'taken_away');
await page.check('#witnessed');
await submit('cleanup');
refused.cleanup = await problemIn('cleanup');
console.log(JSON.stringify({ refused, list }));

await lines.next();
// 2. The whole visit, offline.
await page.goto(jobUrl);
await page.fill('#item', '客厅地板');
await page.fill('#granted_by', '王秀英');
await submit('permit');
await page.fill('#note', '更换了洗衣机进水阀，试机正常。');
await submit('note');
await page.fill('#description', '进水阀');
await page.fill('#quantity', '1');
await submit('item');
await page.fill('#amount', '102.50');
await page.fill('#reference', number);
await submit('pay');
// A figure typed wrong, corrected on the screen before the customer signs.
await page.click('#pay details.change summary');
const payKept = await page.inputValue('#amount');
await page.fill('#amount', '120.50');
await submit('pay');
const payCorrected = { kept: payKept, step: await page.innerText('#pay') };
await page.$eval('#pay', (step) => step.scrollIntoView());
await page.screenshot({ path: `${shots}/tablet-pay-corrected-portrait.png` });
async function sign() {
  await page.fill('#signer', '王秀英');
  await page.$eval('#pad', (pad) => pad.scrollIntoView({ block: 'center' }));
  box = await (await page.$('#pad')).boundingBox();
  for (const [x0, y0, x1, y1] of [[30, 60, 200, 150], [220, 50, 400, 170], [420, 140, 560, 60]]) {
    await page.mouse.move(box.x + x0 * box.width / 600, box.y + y0 * box.height / 240);
    await page.mouse.down();
    await page.mouse.move(box.x + x1 * box.width / 600, box.y + y1 * box.height / 240, { steps: 8 });
    await page.mouse.up();
  }
  await Promise.all([page.waitForEvent('load'), page.click('[data-sign]')]);
}
await sign();
// Signed, then one more note: what the customer signed is no longer the job.
const warnedBefore = await page.innerText('#work');
await page.fill('#note', '补充：清洗了进水滤网。');
await submit('note');
await page.waitForSelector('#sign #pad');
const resign = {
  warnedBefore,
  step: await page.innerText('#sign'),
  done: await page.$eval('#sign', (step) => step.classList.contains('done')),
  violations: await axe(),
};
await page.$eval('#sign', (step) => step.scrollIntoView());
await page.screenshot({ path: `${shots}/tablet-resign-portrait.png` });
const summary = await page.innerText('.summary');
await sign();
await page.setInputFiles('#card-photo', cardPhoto);
await page.waitForSelector('#card .preview:not([hidden])');
await page.selectOption('#rating', '5');
await Promise.all([page.waitForEvent('load'), page.click('#card [data-send]')]);
// Cleanup confirmed with one answer wrong (the customer's watching not ticked), then
// corrected on the screen.
await page.selectOption('#debris', 'taken_away');
await page.fill('#consent_by', '王秀英');
await submit('cleanup');
const cleanupBefore = await page.innerText('#cleanup');
await page.check('#witnessed');
await submit('cleanup');
const cleanupAfter = await page.innerText('#cleanup');
await page.setInputFiles('#cleanup-photo', sitePhoto);
await Promise.all([page.waitForEvent('load'), page.click('#cleanup [data-send]')]);
await submit('depart');
const worked = { text: await page.innerText('main'), sync: await page.innerText('#sync'), summary, resign, asked, cleanup: { before: cleanupBefore, after: cleanupAfter }, pay: payCorrected, violations: await axe() };
await shoot('tablet-job');
console.log(JSON.stringify({ worked }));

await lines.next();
// 3. The server is back: the background sync delivers; the screen says so by itself, even
// while someone is typing (an input event marks the page as being typed in).
await page.evaluate(() => document.dispatchEvent(new Event('input')));
let synced = false;
try {
  await page.waitForFunction(() => document.querySelector('#sync[data-online="true"]') &&
    document.querySelector('#sync-pending').innerText.includes('全部已送达'), null, { timeout: 60000 });
  synced = true;
} catch (_) { /* reported */ }
console.log(JSON.stringify({ synced: { synced, sync: await page.innerText('#sync'), text: await page.innerText('main'), unanswerable } }));

await lines.next();
// 4. The office changed two other jobs: the list shows it by itself.
await page.goto(url.split('?')[0]);
await page.waitForSelector('ul.jobs');
let navigations = 0;
page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
console.log(JSON.stringify({ listening: true }));
await lines.next();
let marked = false;
try {
  await page.waitForFunction(() => {
    const text = document.querySelector('main').innerText;
    return text.includes('不再派给您的工单') && text.includes('办公室已改约');
  }, null, { timeout: 60000 });
  marked = true;
} catch (_) { /* reported */ }
const officeList = await page.innerText('main');
await shoot('tablet-jobs-after-office');
console.log(JSON.stringify({ office: { marked, navigations, text: officeList, elsewhere } }));
await browser.close();
await lines.next();
process.exit(0);
