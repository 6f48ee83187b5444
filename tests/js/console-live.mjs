// A dispatcher's board left open in headless Chromium while a job is worked elsewhere: prints
// {"ready": true} once the board is shown, waits for a line on stdin (the job is then complete
// on the server), and prints what the board shows once it says so by itself, with how many
// times the page navigated meanwhile (a live page never does) and whether the job link that
// had the keyboard's focus before still has it.
//
//   node console-live.mjs BASE_URL LOGIN PASSWORD EXPECTED_TEXT SCREENSHOT [BOARD_PATH]
import { launch, signIn } from './chromium.mjs';
import { createInterface } from 'node:readline';

const [base, login, password, expected, shot, boardPath] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
await page.goto(`${base}/console/sign-in`);
await signIn(page, login, password);
await page.waitForURL('**/console/board**');
if (boardPath) {
  await page.goto(`${base}${boardPath}`);
  await page.waitForURL('**/console/board**');
}
let navigations = 0;
page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
const before = await page.innerText('main');
// Someone moving with the keyboard is on the first job's link when the board refreshes.
const focusedHref = await page.evaluate(() => {
  const a = document.querySelector('main a[href^="/console/jobs/"]');
  if (!a) return null;
  a.focus();
  return a.getAttribute('href');
});
console.log(JSON.stringify({ ready: true, before }));
await lines.next();
let shown = false;
try {
  await page.waitForFunction((text) => document.querySelector('main').innerText.includes(text),
    expected, { timeout: 30000 });
  shown = true;
} catch (_) { /* reported below */ }
await page.screenshot({ path: shot, fullPage: true });
const focusAfter = await page.evaluate(() => {
  const a = document.activeElement;
  return { tag: a.tagName, href: a.getAttribute('href'), refreshed: document.querySelector('main').getAttribute('data-refreshed') };
});
console.log(JSON.stringify({ shown, navigations, text: await page.innerText('main'), focused_href: focusedHref, focus_after: focusAfter }));
await browser.close();
await lines.next();
process.exit(0);
