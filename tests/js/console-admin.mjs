// An admin's afternoon in headless Chromium: sign in, add a dispatcher (the page shows the
// one-time link), issue a tablet token for a technician (shown once, with a QR code), and
// print {"issued": …}; after a line on stdin, the new dispatcher opens the link in a browser
// of their own, sets a password and signs in; the admin revokes the token; prints {"done": …}
// and waits for stdin to close. axe-core and screenshots on the administration page.
//
//   node console-admin.mjs BASE_URL LOGIN PASSWORD TECHNICIAN SHOTS
import { launch, signIn } from './chromium.mjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [base, login, password, technician, shots] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const options = { viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
const admin = await (await browser.newContext(options)).newPage();
// What the admin's confirmations asked, and whether the admin says yes to the next one.
const asked = [];
let yes = true;
admin.on('dialog', async (dialog) => { asked.push(dialog.message()); await (yes ? dialog.accept() : dialog.dismiss()); });

async function axe(p) {
  await p.evaluate(axeSource);
  return p.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}

await admin.goto(`${base}/console/sign-in`);
await signIn(admin, login, password);
await admin.waitForURL('**/console/board**');
await admin.click('a[href="/console/admin"]');
await admin.waitForURL('**/console/admin');

// No role is chosen until the admin chooses one (an admin is not made by default).
const roleAtFirst = await admin.$eval('#new-role', (e) => e.value);
await admin.fill('#new-name', '周芳');
await admin.selectOption('#new-role', 'dispatcher');
await admin.fill('#new-email', 'zhoufang@example.cn');
await admin.click('form[action="/console/admin/staff"] button[type=submit]');
await admin.waitForSelector('.notice code.secret');
const link = (await admin.innerText('.notice code.secret')).trim();

await admin.selectOption('#token-staff', { label: technician });
await admin.fill('#device-name', '张伟的平板');
await admin.click('form[action="/console/admin/tokens"] button[type=submit]');
await admin.waitForSelector('.notice .qr svg');
const command = (await admin.innerText('.notice code.secret')).trim();
const violations = await axe(admin);
await admin.screenshot({ path: `${shots}/admin-laptop.png`, fullPage: true });
await admin.setViewportSize({ width: 820, height: 1180 });
await admin.screenshot({ path: `${shots}/admin-tablet.png`, fullPage: true });
console.log(JSON.stringify({ issued: { link, command, violations, role_at_first: roleAtFirst, text: await admin.innerText('main') } }));

await lines.next();
// The new dispatcher, in a browser of their own.
const colleague = await (await browser.newContext(options)).newPage();
await colleague.goto(link);
await colleague.fill('#password', '周芳的新密码2026年');
await colleague.click('main button[type=submit]');
// The password is set; the sign-in form is shown in place.
await colleague.waitForSelector('#login');
await signIn(colleague, 'zhoufang@example.cn', '周芳的新密码2026年');
await colleague.waitForURL('**/console/board**');
const colleagueBoard = await colleague.innerText('header');
// The link is used up.
await colleague.goto(link);
const linkAgain = await colleague.innerText('main');

// The admin revokes the tablet's token (asked first, and says yes).
await admin.goto(`${base}/console/admin`);
await admin.click('button[aria-label="吊销 张伟的平板"]');
await admin.waitForURL('**/console/admin');
await admin.waitForLoadState('load');
const after = await admin.innerText('main');
// Disabling the new dispatcher: asked, and the admin says no (nothing happens), then yes;
// then enables her again.
yes = false;
await admin.click('button[aria-label="停用 周芳"]');
const stillActive = await admin.$('button[aria-label="停用 周芳"]') !== null;
yes = true;
await Promise.all([admin.waitForNavigation(), admin.click('button[aria-label="停用 周芳"]')]);
const disabled = await admin.$('button[aria-label="重新启用 周芳"]') !== null;
await admin.screenshot({ path: `${shots}/admin-disabled-laptop.png` });
await Promise.all([admin.waitForNavigation(), admin.click('button[aria-label="重新启用 周芳"]')]);
const enabledAgain = await admin.$('button[aria-label="停用 周芳"]') !== null;
const members = { asked, still_active: stillActive, disabled, enabled_again: enabledAgain };
// A webhook to an address inside the network is refused in place, with the reason.
await admin.fill('#webhook-url', 'http://127.0.0.1:9/hook');
await admin.click('form[action="/console/admin/webhooks"] button[type=submit]');
await admin.waitForSelector('main .problem');
const webhookRefused = await admin.innerText('main .problem');
// The revisit policy: complaint jobs called back within 12 hours.
await admin.fill('#complaint_due_hours', '12');
await admin.click('form[action="/console/admin/policy"] button[type=submit]');
await admin.waitForURL('**/console/admin');
const complaintHours = await admin.inputValue('#complaint_due_hours');
await browser.close();
console.log(JSON.stringify({ done: { colleague_board: colleagueBoard, link_again: linkAgain, admin: after, members, webhook_refused: webhookRefused, complaint_hours: complaintHours } }));
await lines.next();
process.exit(0);
