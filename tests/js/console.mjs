// The office console in real headless Chromium (Debian's, driven by playwright-core), as an
// office member uses it: sign in (a wrong password first), the board, the revisit desk, sign
// out. Runs axe-core on every page, writes screenshots at laptop and tablet sizes, and notes
// any script dialog (an escaped name must never run). Prints one JSON line, then waits for
// stdin to close.
//
//   node console.mjs BASE_URL LOGIN PASSWORD SCREENSHOT_DIR
import { launch, signIn } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const [base, login, password, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const result = { pages: {}, dialogs: [], requests_elsewhere: [] };

async function axe(page) {
  // Evaluated by the driver, not added as a script tag: the console's CSP forbids inline scripts.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return found;
}

async function visit(page, name, size) {
  const entry = {
    url: page.url(),
    text: await page.innerText('body'),
    violations: await axe(page),
  };
  await page.screenshot({ path: `${shots}/${name}-${size}.png`, fullPage: true });
  result.pages[`${name}-${size}`] = entry;
}

for (const [size, viewport] of [['laptop', { width: 1366, height: 860 }], ['tablet', { width: 820, height: 1180 }]]) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.on('dialog', async (dialog) => { result.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) result.requests_elsewhere.push(request.url());
  });
  await page.goto(`${base}/console`);
  await visit(page, 'sign-in', size);

  await signIn(page, login, 'not the password');
  result.pages[`refused-${size}`] = { text: await page.innerText('main') };

  await signIn(page, login, password);
  await page.waitForURL('**/console/board**');
  await visit(page, 'board', size);

  await page.click('a[href="/console/revisits"]');
  await page.waitForURL('**/console/revisits');
  await visit(page, 'revisits', size);

  await page.click('table.queue tbody a.task');
  await page.waitForURL('**/console/revisits/*');
  await visit(page, 'revisit-task', size);

  await page.click('header form button[type=submit]');
  await page.waitForURL('**/console/sign-in');
  await page.goto(`${base}/console/board`);
  result[`after-sign-out-${size}`] = page.url();
  await context.close();
}
await browser.close();
console.log(JSON.stringify(result));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
