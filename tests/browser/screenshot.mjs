// A screenshot of the fleet dashboard, logged in: node screenshot.mjs ADMIN_URL TOKEN OUT.png
// [ROLLOUT_ID...] (waits until those rollouts are shown; exit 1 when they are not).
// scripts/fleet-demo.sh uses it for docs/fleet-dashboard.png (FOTA_DEMO_SCREENSHOT).
import { chromium } from 'playwright-core';

const [url, token, out, ...rollouts] = process.argv.slice(2);
const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                        headless: true, args });
let status = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url + '/dashboard/login');
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('body[data-loaded=yes]', { timeout: 15000 });
  for (const id of rollouts)
    await page.waitForSelector('#rollout-' + id, { timeout: 15000 });
  await page.screenshot({ path: out, fullPage: true });
} catch (e) {
  console.error('screenshot: ' + e.message);
  status = 1;
} finally {
  await browser.close();
}
process.exit(status);
