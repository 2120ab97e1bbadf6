// The fleet dashboard in Debian's chromium, driven by playwright-core
// (test_dashboard.sh sets the fleet up and reads the "ok"/"FAIL" lines).
// Env: ADMIN_URL TOKEN EVIL_URL HOSTILE_ID CHROMIUM SHOTS
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const { ADMIN_URL, TOKEN, EVIL_URL, HOSTILE_ID, CHROMIUM, SHOTS } = process.env;
const WAIT = 15000;
let failures = 0;
let shot = 0;

function ok(what) { console.log('ok   ' + what); }
async function bad(page, what, detail) {
  failures++;
  console.log('FAIL ' + what + (detail ? ': ' + String(detail).split('\n')[0] : ''));
  if (page) {
    const file = SHOTS + '/failed-' + String(++shot).padStart(2, '0') + '.png';
    try {
      await page.screenshot({ path: file, fullPage: true });
      console.log('  screenshot ' + file);
    } catch (e) { console.log('  no screenshot: ' + e.message); }
  }
}
// check(page, what, async () => condition or throw)
async function check(page, what, fn) {
  try {
    const r = await fn();
    if (r === false) await bad(page, what);
    else ok(what);
  } catch (e) {
    await bad(page, what, e.message);
  }
}

mkdirSync(SHOTS, { recursive: true });
const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox'); // root: no user namespace sandbox
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
try {
  // --- Without credentials ---------------------------------------------------------------
  const anon = await browser.newContext();
  const ap = await anon.newPage();
  await check(ap, 'without a session the dashboard sends the browser to the login page', async () => {
    await ap.goto(ADMIN_URL + '/dashboard/');
    await ap.waitForURL(/\/dashboard\/login$/, { timeout: WAIT });
  });
  await check(ap, 'without credentials the API is refused (401)', async () => {
    const r = await ap.request.get(ADMIN_URL + '/api/v1/summary');
    return r.status() === 401;
  });
  await check(ap, 'without credentials resume is refused (401)', async () => {
    const r = await ap.request.post(ADMIN_URL + '/api/v1/rollouts/1/resume',
                                    { headers: { Origin: ADMIN_URL }, data: {} });
    return r.status() === 401;
  });
  await check(ap, 'without credentials the CSRF token is not given out', async () => {
    const r = await ap.request.get(ADMIN_URL + '/dashboard/session');
    return r.status() === 401;
  });
  await check(ap, 'a wrong token does not log in, and the page says so', async () => {
    await ap.fill('#token', TOKEN + '0');
    await ap.click('button[type=submit]');
    await ap.waitForURL(/login\?failed$/, { timeout: WAIT });
    await ap.locator('#failed').waitFor({ state: 'visible', timeout: WAIT });
    const cookies = await anon.cookies();
    return cookies.length === 0;
  });
  await anon.close();

  // --- Logged in ------------------------------------------------------------------------------
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  let dashResponse = null;
  await check(page, 'the admin token logs in and opens the dashboard', async () => {
    await page.goto(ADMIN_URL + '/dashboard/login');
    await page.fill('#token', TOKEN);
    [dashResponse] = await Promise.all([
      page.waitForResponse((r) => r.url() === ADMIN_URL + '/dashboard/', { timeout: WAIT }),
      page.click('button[type=submit]'),
    ]);
    await page.waitForSelector('body[data-loaded=yes]', { timeout: WAIT });
  });
  await check(page, 'the session cookie is HttpOnly and SameSite=Strict', async () => {
    const c = (await ctx.cookies()).find((x) => x.name === 'fota_session');
    if (!c) throw new Error('no fota_session cookie');
    return c.httpOnly && c.sameSite === 'Strict';
  });
  await check(page, 'the page has a strict Content-Security-Policy', async () => {
    const csp = dashResponse && (await dashResponse.allHeaders())['content-security-policy'];
    if (!csp) throw new Error('no Content-Security-Policy header');
    return /default-src 'none'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe/.test(csp);
  });
  await check(page, 'the fleet at a glance: 41 devices, per version and per state', async () => {
    await page.locator('#devices-total', { hasText: '41' }).waitFor({ timeout: WAIT });
    const versions = await page.locator('#by-version tbody').innerText();
    const states = await page.locator('#by-state tbody').innerText();
    if (!/2\.0\.0/.test(versions) || !/1\.0\.0/.test(versions)) throw new Error('versions: ' + versions);
    if (!/failed\s+\d+/.test(states)) throw new Error('states: ' + states);
  });
  const card = page.locator('#rollout-1');
  await check(page, 'the rollout is shown paused, with its reason', async () => {
    await page.locator('#rollout-1[data-state=paused]').waitFor({ timeout: WAIT });
    const reason = await card.locator('.reason').innerText();
    if (!/paused by itself in wave 1: .* failed or rolled back, above the 20% threshold/.test(reason))
      throw new Error('reason: ' + reason);
  });
  await check(page, 'its waves have progress bars', async () => {
    const n = await card.locator('.wave .progress').count();
    const first = await card.locator('.wave[data-wave="1"] .wave-text').innerText();
    if (n !== 2) throw new Error(n + ' bars');
    if (!/\d+ ok, [1-9]\d* failed/.test(first)) throw new Error('wave 1: ' + first);
  });
  await check(page, 'the failing devices are listed with their errors', async () => {
    const t = await page.locator('#failing tbody').innerText();
    if (!/FOTA_ERR_FLASH_VERIFY \(-83\)/.test(t)) throw new Error(t.slice(0, 200));
  });
  await check(page, 'a device id with markup is shown as text, not run', async () => {
    const cell = page.locator('#failing td.device-id', { hasText: 'd-evil' });
    const text = await cell.innerText();
    const elements = await page.locator('#failing img, #failing script, #failing iframe, #failing b').count();
    const pwned = await page.evaluate(() => window.__pwned);
    if (text !== HOSTILE_ID) throw new Error('shown as ' + JSON.stringify(text));
    if (elements) throw new Error(elements + ' elements made from device data');
    if (pwned !== undefined) throw new Error('script from device data ran: ' + pwned);
  });
  await check(page, 'the versions-over-time plot is drawn (SVG)', async () => {
    const lines = await page.locator('#plot svg polyline').count();
    const legend = await page.locator('#plot .legend').innerText();
    if (lines < 2) throw new Error(lines + ' lines');
    if (!/demo 2\.0\.0/.test(legend)) throw new Error('legend: ' + legend);
  });

  // --- CSRF: the session cookie alone changes nothing ------------------------------------------
  const csrf = (await (await page.request.get(ADMIN_URL + '/dashboard/session')).json()).csrf;
  await check(page, 'a POST with the session cookie but no CSRF token is refused (403)', async () => {
    const r = await page.request.post(ADMIN_URL + '/api/v1/rollouts/1/abort',
                                      { headers: { Origin: ADMIN_URL }, data: {} });
    return r.status() === 403;
  });
  await check(page, 'a POST with the CSRF token from another Origin is refused (403)', async () => {
    const r = await page.request.post(ADMIN_URL + '/api/v1/rollouts/1/abort', {
      headers: { Origin: 'http://evil.example', 'X-CSRF-Token': csrf }, data: {} });
    return r.status() === 403;
  });
  await check(page, 'a POST with a wrong CSRF token is refused (403)', async () => {
    const r = await page.request.post(ADMIN_URL + '/api/v1/rollouts/1/abort', {
      headers: { Origin: ADMIN_URL, 'X-CSRF-Token': csrf.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
      data: {} });
    return r.status() === 403;
  });
  const evil = await ctx.newPage();
  await check(evil, 'a page on another origin that posts to the API (form and fetch) is refused', async () => {
    const refused = evil.waitForResponse((r) => r.url().endsWith('/api/v1/rollouts/1/abort') &&
                                               r.request().resourceType() === 'document', { timeout: WAIT });
    await evil.goto(EVIL_URL);
    const r = await refused;
    if (r.status() !== 403) throw new Error('form POST answered ' + r.status());
    const body = await r.text();
    if (!/Origin is not this server|Sec-Fetch-Site/.test(body)) throw new Error(body);
  });
  await evil.close();
  await check(page, 'after the cross-site attempts the rollout is still paused', async () => {
    const r = await page.request.get(ADMIN_URL + '/api/v1/rollouts/1');
    return (await r.json()).state === 'paused';
  });

  // --- Resume from the dashboard ------------------------------------------------------------
  const reason = '<img src=x onerror="window.__pwned=4"> fixed <b>slot</b>';
  await check(page, 'pressing Resume resumes the rollout, shown with the typed reason as text', async () => {
    await page.reload();
    await page.waitForSelector('#rollout-1[data-state=paused]', { timeout: WAIT });
    await card.locator('.reason-input').fill(reason);
    await card.locator('button.resume').click();
    await page.locator('#rollout-1[data-state=running]').waitFor({ timeout: WAIT });
    const shown = await page.locator('#rollout-1 .reason').innerText();
    if (!shown.includes('resumed by hand: ' + reason)) throw new Error('reason shown: ' + shown);
    if (await page.locator('#rollouts img, #rollouts b').count()) throw new Error('markup rendered');
    if ((await page.evaluate(() => window.__pwned)) !== undefined) throw new Error('script ran');
    if (!(await card.locator('button.pause').isVisible())) throw new Error('no Pause button');
  });
  await check(page, 'the page raised no errors (no CSP violation, no script error)', async () => {
    if (consoleErrors.length) throw new Error(consoleErrors.join(' | '));
  });
  await page.screenshot({ path: SHOTS + '/dashboard.png', fullPage: true });
  console.log('screenshot ' + SHOTS + '/dashboard.png');

  // --- Log out -----------------------------------------------------------------------------
  await check(page, 'logging out ends the session', async () => {
    const old = (await ctx.cookies()).find((x) => x.name === 'fota_session');
    await page.click('#logout');
    await page.waitForURL(/\/dashboard\/login$/, { timeout: WAIT });
    const r = await fetch(ADMIN_URL + '/api/v1/summary', { headers: { Cookie: 'fota_session=' + old.value } });
    return r.status === 401;
  });
} catch (e) {
  await bad(null, 'the browser session', e.stack || e.message);
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
