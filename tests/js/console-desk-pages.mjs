// A revisit caller in headless Chromium on a long queue: sign in, follow the desk's link to the
// later tasks, then the "key customers" filter. axe-core and screenshots of the later page at
// laptop and tablet sizes. Prints one JSON line, then waits for stdin to close.
//
//   node console-desk-pages.mjs BASE_URL LOGIN PASSWORD SHOTS
import { launch, signIn } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const [base, login, password, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await context.newPage();
const result = {};

await page.goto(`${base}/console/sign-in`);
await signIn(page, login, password);
await page.waitForURL('**/console/revisits');
result.first = await page.$$eval('a.task', (links) => links.length);
await page.click('nav.pages a[rel=next]');
await page.waitForURL('**/console/revisits?after=*');
result.later = {
  url: page.url(),
  tasks: await page.$$eval('a.task', (links) => links.map((a) => a.textContent)),
  pages: await page.innerText('nav.pages'),
};
await page.evaluate(axeSource);
result.later.violations = await page.evaluate(async () => {
  const r = await window.axe.run(document, { resultTypes: ['violations'] });
  return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
});
await page.screenshot({ path: `${shots}/revisit-desk-later-laptop.png`, fullPage: false });
await page.setViewportSize({ width: 820, height: 1180 });
await page.screenshot({ path: `${shots}/revisit-desk-later-tablet.png`, fullPage: false });
await page.setViewportSize({ width: 1366, height: 860 });
await page.click('nav.filters a[href="/console/revisits?filter=key"]');
await page.waitForURL('**/console/revisits?filter=key');
result.key = await page.$$eval('a.task', (links) => links.map((a) => a.textContent));
await browser.close();
console.log(JSON.stringify(result));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
