// A revisit caller in headless Chromium: sign in, the desk (filtered to overdue, then all),
// claim the first task, record the outcome, download the outcomes CSV by its link, and read
// the month's analysis (figures and charts). axe-core and screenshots (desk, task, analysis at
// laptop and tablet sizes). Prints one JSON line, then waits for stdin to close.
//
//   node console-revisit.mjs BASE_URL LOGIN PASSWORD SHOTS
import { launch, signIn } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const [base, login, password, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
const page = await context.newPage();
const result = { pages: {} };

async function visit(name) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  result.pages[name] = { text: await page.innerText('main'), violations };
  await page.screenshot({ path: `${shots}/${name}-laptop.png`, fullPage: true });
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.screenshot({ path: `${shots}/${name}-tablet.png`, fullPage: true });
  await page.setViewportSize({ width: 1366, height: 860 });
}

await page.goto(`${base}/console/sign-in`);
await signIn(page, login, password);
await page.waitForURL('**/console/revisits');
await page.click('nav.filters a[href="/console/revisits?filter=complaints"]');
await page.waitForURL('**/console/revisits?filter=complaints');
result.complaints = await page.innerText('main');
await page.click('nav.filters a[href="/console/revisits"]');
await page.waitForURL(`${base}/console/revisits`);
await visit('revisit-desk');

await page.click('table.queue tbody form button[type=submit]');
await page.waitForURL('**/console/revisits/*-*');
await page.check('input[name=reached][value=true]');
await page.selectOption('#problem_solved', 'false');
await page.selectOption('#satisfaction', '4');
await page.fill('#suggestions', '希望周末也能上门');
await page.click('form.outcome button[type=submit]');
await page.waitForSelector('ul.outcomes li');
await visit('revisit-outcome');
// The language switch comes back to this task's page, in English, and back again.
const taskPath = new URL(page.url()).pathname;
await Promise.all([page.waitForNavigation(), page.click('a.lang')]);
result.language = { path: new URL(page.url()).pathname, task_path: taskPath, lang: await page.getAttribute('html', 'lang') };
await Promise.all([page.waitForNavigation(), page.click('a.lang')]);

await page.goto(`${base}/console/revisits`);
const [download] = await Promise.all([
  page.waitForEvent('download'),
  page.click('a[href="/console/revisits/export.csv"]'),
]);
result.csv = readFileSync(await download.path(), 'utf8');

await page.click('a[href="/console/analysis"]');
await page.waitForURL('**/console/analysis');
result.charts = await page.$$eval('figure.chart svg', (svgs) => svgs.map((s) => s.getAttribute('aria-label')));
await visit('analysis');
await browser.close();
console.log(JSON.stringify(result));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
