// A dispatcher's morning in headless Chromium: sign in, book a job for a customer found by
// name (first with the window's times swapped: refused, the form kept as sent), record the customer's confirmation on the job page, see the job on the board. Prints
// {"booked": …} with the job's number and page, then keeps the board open and waits for a
// line on stdin (a tablet works the job meanwhile); then waits for the board to show the job
// complete by itself, opens the job page, checks its pictures loaded, runs axe-core and
// writes screenshots at laptop and tablet sizes. Prints {"done": …}, then waits for stdin to
// close.
//
//   node console-dispatch.mjs BASE_URL LOGIN PASSWORD CUSTOMER TECHNICIAN DATE FROM TO SHOTS
import { launch, signIn } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [base, login, password, customer, technician, date, from, to, shots] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await context.newPage();
const dialogs = [];
page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });

async function axe(p) {
  await p.evaluate(axeSource);
  return p.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}

await page.goto(`${base}/console/sign-in`);
await signIn(page, login, password);
await page.waitForURL('**/console/board**');

// Book: find the customer, fill the form, send.
await page.click('a[href^="/console/jobs/new"]');
await page.waitForURL('**/console/jobs/new**');
await page.fill('#q', customer);
await page.click('form.search button[type=submit]');
await page.waitForURL('**/console/jobs/new?q=**');
const bookForm = { url: page.url(), violations: await axe(page) };
await page.screenshot({ path: `${shots}/book-laptop.png`, fullPage: true });
await page.check(`form.book input[name=customer_id]`);
await page.selectOption('#kind', 'repair');
await page.fill('#date', date);
// First with the times swapped (the window ends before it starts): refused, and the form
// comes back as it was sent, to correct the one field.
await page.fill('#from', to);
await page.fill('#to', from);
await page.selectOption('#technician_id', { label: technician });
await page.fill('#complaint_reference', 'TS-77');
await page.click('form.book button[type=submit]');
await page.waitForSelector('main .problem');
await page.screenshot({ path: `${shots}/book-refused-laptop.png`, fullPage: true });
const kept = {
  problem: await page.innerText('main .problem'),
  kind: await page.$eval('#kind', (e) => e.value),
  from: await page.$eval('#from', (e) => e.value),
  to: await page.$eval('#to', (e) => e.value),
  technician: await page.$eval('#technician_id', (e) => e.options[e.selectedIndex].text),
  reference: await page.$eval('#complaint_reference', (e) => e.value),
  customer: await page.$$eval('form.book input[name=customer_id]:checked', (e) => e.length),
};
await page.fill('#from', from);
await page.fill('#to', to);
await page.fill('#complaint_reference', '');
await page.click('form.book button[type=submit]');
try {
  await page.waitForSelector('main .job-head, main .problem', { timeout: 15000 });
} catch (e) {
  console.log(JSON.stringify({ stuck: page.url(), body: await page.innerText('body') }));
  process.exit(1);
}
if (await page.$('main .problem')) {
  console.log(JSON.stringify({ refused: await page.innerText('main') }));
  process.exit(1);
}
const booked = { url: page.url(), text: await page.innerText('main') };

// Confirm: the customer said yes on the phone.
await page.fill('#confirmed_by', customer);
await page.selectOption('#channel', 'phone');
await page.click('form[action$="/confirm"] button[type=submit]');
// Once confirmed, the page has no confirmation form left.
await page.waitForSelector('form[action$="/confirm"]', { state: 'detached' });
const confirmed = await page.innerText('main');
const number = (await page.innerText('.job-head .number')).trim();

await page.click('a[href="/console/board"]');
await page.waitForURL('**/console/board**');
const board = await page.innerText('main');
let navigations = 0;
page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
console.log(JSON.stringify({ booked: { number, url: booked.url, text: booked.text, confirmed, board, book_form: bookForm, kept } }));

await lines.next();
// The tablet has worked the job and synced: the open board must say so by itself.
let shown = false;
try {
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('main .job')].some((b) => b.innerText.includes(n) && b.classList.contains('st-complete')),
    number, { timeout: 30000 });
  shown = true;
} catch (_) { /* reported below */ }
const boardAfter = await page.innerText('main');
const boardNavigations = navigations;
await page.screenshot({ path: `${shots}/board-complete-laptop.png`, fullPage: true });

const pages = {};
for (const [size, viewport] of [['laptop', { width: 1366, height: 860 }], ['tablet', { width: 820, height: 1180 }]]) {
  await page.setViewportSize(viewport);
  await page.goto(booked.url);
  await page.waitForLoadState('load');
  const images = await page.$$eval('main img', (imgs) => imgs.map((i) => ({ alt: i.alt, loaded: i.complete && i.naturalWidth > 0 })));
  pages[size] = { text: await page.innerText('main'), images, violations: await axe(page) };
  await page.screenshot({ path: `${shots}/job-${size}.png`, fullPage: true });
}
// The display copy is a click away.
await page.click('main a.photo');
await page.waitForLoadState('load');
const display = { url: page.url() };
await browser.close();
console.log(JSON.stringify({ done: { shown, navigations: boardNavigations, board: boardAfter, pages, display, dialogs } }));
await lines.next();
process.exit(0);
