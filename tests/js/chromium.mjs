// Debian's Chromium (or $CHROMIUM) through playwright-core, started as this machine needs it
// (no sandbox as root, no background networking: the network is closed), and signing in to the
// office console as a person does.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function signIn(page, login, password) {
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}
